package io.sksteer.bpf;

import java.net.InetSocketAddress;

/**
 * A socket of this process, found among its own descriptors by {@link Sockets#listening}: what
 * the kernel says of it when it was found.
 *
 * @param fd its descriptor (owned by whoever opened it: a web server, Netty)
 * @param protocol {@link Sockets#IPPROTO_TCP} or {@link Sockets#IPPROTO_UDP}
 * @param family {@link Sockets#AF_INET} or {@link Sockets#AF_INET6}
 * @param v6Only for AF_INET6: whether it refuses IPv4 ({@code IPV6_V6ONLY})
 * @param local the address it is bound to ({@code getsockname})
 * @param cookie its cookie ({@code SO_COOKIE})
 */
public record OwnSocket(SocketFd fd, int protocol, int family, boolean v6Only, InetSocketAddress local, long cookie) {

    /** Whether IPv4 traffic can be given to it: AF_INET, or AF_INET6 without IPV6_V6ONLY. */
    public boolean takesIpv4() {
        return family == Sockets.AF_INET || !v6Only;
    }

    /** Whether IPv6 traffic can be given to it: AF_INET6. */
    public boolean takesIpv6() {
        return family == Sockets.AF_INET6;
    }

    /** {@code tcp [::]:8080 (fd 12, AF_INET6, dual-stack)}. */
    public String describe() {
        String host = local.getAddress().getHostAddress();
        return (protocol == Sockets.IPPROTO_TCP ? "tcp " : "udp ") + (host.contains(":") ? "[" + host + "]" : host) + ":"
                + local.getPort() + " (fd " + fd.value() + ", " + (family == Sockets.AF_INET ? "AF_INET"
                        : "AF_INET6, " + (v6Only ? "IPv6 only" : "dual-stack")) + ")";
    }
}
