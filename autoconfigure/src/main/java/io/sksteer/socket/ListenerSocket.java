package io.sksteer.socket;

import io.sksteer.bpf.SocketFd;
import java.net.InetSocketAddress;

/**
 * Where a listener's socket comes from: a Netty channel sksteer binds or takes over from a service
 * manager's descriptor store ({@code io.sksteer.netty.BoundChannel}), or a socket the application
 * already has, such as its embedded web server's ({@link AdoptedSocket}). The engine puts {@link
 * #socket()} into the SOCKMAP and asks the source whether it is still open; it never needs to know
 * which kind it has.
 */
public interface ListenerSocket {

    /** The socket, as placed in the SOCKMAP. */
    SocketFd socket();

    /** The address the socket is bound to. */
    InetSocketAddress boundAddress();

    /** Whether the socket is still open and still this one. */
    boolean isOpen();

    /**
     * Closes the socket if sksteer opened it (waiting up to {@code timeoutMillis}); a socket the
     * application gave is left to its owner.
     */
    void close(long timeoutMillis);
}
