package io.sksteer.bpf;

import io.sksteer.bpf.internal.Os;
import io.sksteer.bpf.internal.SockDiag;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;

/** Facts about sockets the kernel layer needs: their cookie, family and protocol. */
public final class Sockets {

    /** {@code AF_INET}. */
    public static final int AF_INET = 2;
    /** {@code AF_INET6}. */
    public static final int AF_INET6 = 10;
    /** {@code IPPROTO_TCP}. */
    public static final int IPPROTO_TCP = 6;
    /** {@code IPPROTO_UDP}. */
    public static final int IPPROTO_UDP = 17;

    private Sockets() {
    }

    /** The socket's cookie ({@code SO_COOKIE}): the value a SOCKMAP lookup and PROG_TEST_RUN return for it. */
    public static long cookie(SocketFd socket) {
        return Os.socketCookie(socket.value());
    }

    /** {@link #AF_INET} or {@link #AF_INET6}. */
    public static int family(SocketFd socket) {
        return Os.socketDomain(socket.value());
    }

    /** {@link #IPPROTO_TCP} or {@link #IPPROTO_UDP}. */
    public static int protocol(SocketFd socket) {
        return Os.socketProtocol(socket.value());
    }

    /** For an AF_INET6 socket: whether it refuses IPv4 ({@code IPV6_V6ONLY}). */
    public static boolean v6Only(SocketFd socket) {
        return Os.v6Only(socket.value());
    }

    /** Closes a descriptor this process owns (one it inherited and does not use). */
    public static void closeDescriptor(int fd) {
        io.sksteer.bpf.internal.Fd.adopt(fd, "fd " + fd).close();
    }

    /** {@code SOCK_STREAM} (1) or {@code SOCK_DGRAM} (2), as {@code SO_TYPE} reports it. */
    public static int type(SocketFd socket) {
        return Os.socketType(socket.value());
    }

    /** Whether the socket is listening ({@code SO_ACCEPTCONN}). */
    public static boolean isListening(SocketFd socket) {
        return Os.acceptsConnections(socket.value());
    }

    /** The address the socket is bound to ({@code getsockname}); {@code null} for a non-inet socket. */
    public static InetSocketAddress localAddress(SocketFd socket) {
        return Os.localAddress(socket.value());
    }

    /**
     * How many connections wait in a listening TCP socket's accept queue: their handshake is done
     * and the application has not accepted them yet.
     */
    public static int acceptQueueLength(SocketFd socket) {
        return Os.acceptQueueLength(socket.value());
    }

    /**
     * The sockets of {@code namespace} that the kernel's normal lookup gives traffic to: listening
     * TCP sockets and unconnected UDP sockets, of every process, IPv4 and IPv6, from the kernel's
     * own inventory (sock_diag) rather than from /proc text.
     */
    public static List<BoundSocket> bound(NetworkNamespace namespace) {
        return namespace.call(() -> {
            List<BoundSocket> out = new ArrayList<>();
            for (int family : new int[] {AF_INET, AF_INET6}) {
                for (SockDiag.Entry e : SockDiag.dump(family, IPPROTO_TCP, 1 << 10 /* TCP_LISTEN */)) {
                    out.add(socket(e));
                }
                // Unconnected UDP sockets only (state TCP_CLOSE): a connected one takes only its peer's
                // datagrams, and there may be many; the kernel filters them out of the dump.
                for (SockDiag.Entry e : SockDiag.dump(family, IPPROTO_UDP, 1 << 7 /* TCP_CLOSE */)) {
                    if (e.remote().getPort() == 0) {
                        out.add(socket(e));
                    }
                }
            }
            return out;
        });
    }

    /** The inodes of the sockets process {@code pid} holds, where {@code /proc} shows them. */
    public static java.util.Set<Long> socketInodesOf(long pid) {
        java.util.Set<Long> out = new java.util.HashSet<>();
        io.sksteer.bpf.internal.Procs.fdLinks(Long.toString(pid), io.sksteer.bpf.internal.Procs.MAX_DESCRIPTORS).values().forEach(t -> {
            if (t.startsWith("socket:[") && t.endsWith("]")) {
                out.add(Long.parseLong(t.substring(8, t.length() - 1)));
            }
        });
        return out;
    }

    private static BoundSocket socket(SockDiag.Entry e) {
        return new BoundSocket(e.protocol(), e.family(), e.local(), Boolean.TRUE.equals(e.v6Only()), e.uid(), e.inode(), e.cookie());
    }

    /**
     * This process's listening TCP sockets ({@code SO_ACCEPTCONN}) bound to {@code port}, found
     * among its own descriptors without help from whoever opened them. A socket closed while the
     * descriptors are read is left out. Costs a few system calls per socket the process holds.
     */
    public static List<OwnSocket> listeningTcp(int port) {
        List<OwnSocket> found = new ArrayList<>();
        for (int fd : Os.socketDescriptors()) {
            try {
                if (Os.socketProtocol(fd) != IPPROTO_TCP || !Os.acceptsConnections(fd)) {
                    continue;
                }
                InetSocketAddress local = Os.localAddress(fd);
                if (local == null || local.getPort() != port) {
                    continue;
                }
                int family = Os.socketDomain(fd);
                boolean v6Only = family == AF_INET6 && Os.v6Only(fd);
                found.add(new OwnSocket(new SocketFd(fd), IPPROTO_TCP, family, v6Only, local, Os.socketCookie(fd)));
            } catch (BpfException e) {
                // Closed (EBADF) or not an inet socket (a unix socket has no SO_ACCEPTCONN
                // meaning here): not one of the sockets asked for.
            }
        }
        return found;
    }
}
