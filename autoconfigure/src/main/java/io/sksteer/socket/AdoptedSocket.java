package io.sksteer.socket;

import io.sksteer.bpf.BpfException;
import io.sksteer.bpf.OwnSocket;
import io.sksteer.bpf.SocketFd;
import io.sksteer.bpf.Sockets;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;

/**
 * A listening socket the application already has, such as its embedded web server's: found among
 * the process's own descriptors by its port (no reflection into the server), steered to, and left
 * open at stop, because its owner closes it.
 */
public final class AdoptedSocket implements ListenerSocket {

    private final OwnSocket found;
    private final String owner;

    private AdoptedSocket(OwnSocket found, String owner) {
        this.found = found;
        this.owner = owner;
    }

    /**
     * Finds the one listening TCP socket of this process bound to {@code port} (and to
     * {@code address}, when given).
     *
     * @param owner who opened it, for messages ("the web server (TomcatWebServer)")
     * @param address the address it is bound to, or {@code null} when any (a wildcard bind)
     * @throws SocketNotFoundException when there is none, or more than one
     */
    public static AdoptedSocket find(String owner, int port, InetAddress address) {
        String wanted = "a listening TCP socket of this process on port " + port
                + (address == null ? "" : " bound to " + address.getHostAddress());
        if (port <= 0 || port > 65535) {
            throw new SocketNotFoundException(owner, wanted, "the server reports port " + port + " (not started, or not on TCP)");
        }
        List<OwnSocket> all = Sockets.listeningTcp(port);
        List<OwnSocket> matching = all.stream()
                .filter(s -> address == null || s.local().getAddress().equals(address)).toList();
        if (matching.size() == 1) {
            return new AdoptedSocket(matching.get(0), owner);
        }
        if (matching.isEmpty()) {
            throw new SocketNotFoundException(owner, wanted, all.isEmpty() ? "no listening TCP socket of this process has port " + port
                    : "the listening sockets on port " + port + " are bound elsewhere: "
                            + all.stream().map(OwnSocket::describe).toList());
        }
        throw new SocketNotFoundException(owner, wanted, matching.size() + " sockets match, which is ambiguous: "
                + matching.stream().map(OwnSocket::describe).toList() + " (SO_REUSEPORT?)");
    }

    /** What the kernel said of the socket when it was found. */
    public OwnSocket found() {
        return found;
    }

    /** Who opened the socket. */
    public String owner() {
        return owner;
    }

    @Override
    public SocketFd socket() {
        return found.fd();
    }

    @Override
    public InetSocketAddress boundAddress() {
        return found.local();
    }

    /**
     * Whether the descriptor still holds this socket (same cookie) and it still listens: once its
     * owner closes it, the number may be reused by any other file.
     */
    @Override
    public boolean isOpen() {
        try {
            return Sockets.cookie(found.fd()) == found.cookie() && Sockets.isListening(found.fd());
        } catch (BpfException e) {
            return false;
        }
    }

    /** Leaves the socket to its owner. */
    @Override
    public void close(long timeoutMillis) {
    }

    @Override
    public String toString() {
        return owner + "'s socket " + found.describe();
    }
}
