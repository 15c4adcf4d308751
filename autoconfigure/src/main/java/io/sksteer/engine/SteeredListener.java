package io.sksteer.engine;

import io.netty.channel.Channel;
import io.sksteer.bpf.SocketFd;
import io.sksteer.bpf.sklookup.Protocol;
import io.sksteer.netty.BoundChannel;
import io.sksteer.socket.AdoptedSocket;
import io.sksteer.socket.ListenerSocket;
import java.net.InetSocketAddress;

/**
 * A listener in service: where its socket comes from and how the dispatcher hands traffic to it.
 *
 * @param name the listener's name
 * @param protocol TCP or UDP
 * @param source its socket: one sksteer bound, or one the application gave ({@link AdoptedSocket})
 * @param socket the socket, as placed in the SOCKMAP
 * @param cookie the socket's cookie ({@code SO_COOKIE})
 * @param slot its SOCKMAP slot
 */
public record SteeredListener(String name, Protocol protocol, ListenerSocket source, SocketFd socket, long cookie, int slot) {

    /** The Netty channel sksteer bound for this listener, or {@code null} when the application gave the socket. */
    public Channel channel() {
        return source instanceof BoundChannel b ? b.channel() : null;
    }

    /**
     * Who opened the socket: "sksteer", "sksteer (inherited)" for one bound by an earlier process
     * of the service and taken over from the service manager, or the application's server.
     */
    public String openedBy() {
        if (source instanceof AdoptedSocket a) {
            return a.owner();
        }
        return source instanceof BoundChannel b && b.inherited() ? "sksteer (inherited)" : "sksteer";
    }

    /** Whether the application gave this listener's socket (its web server's, for one). */
    public boolean adopted() {
        return source instanceof AdoptedSocket;
    }

    /** The address the real socket is bound to. */
    public InetSocketAddress boundAddress() {
        return source.boundAddress();
    }

    public boolean isOpen() {
        return source.isOpen();
    }
}
