package io.sksteer.autoconfigure;

import io.sksteer.socket.AdoptedSocket;
import java.util.Map;

/** Finds, at start, the sockets of the listeners that take one from the application. */
@FunctionalInterface
interface AdoptedSockets {

    /** None: for applications whose configuration has no adopted listener. */
    AdoptedSockets NONE = () -> Map.of();

    /**
     * @return the socket of each adopted listener, by name
     * @throws io.sksteer.socket.SocketNotFoundException when one cannot be found
     */
    Map<String, AdoptedSocket> find();
}
