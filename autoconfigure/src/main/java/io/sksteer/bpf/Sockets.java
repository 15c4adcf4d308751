package io.sksteer.bpf;

import io.sksteer.bpf.internal.Os;

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
}
