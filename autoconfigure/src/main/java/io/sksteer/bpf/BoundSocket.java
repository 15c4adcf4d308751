package io.sksteer.bpf;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * A socket that the kernel's normal lookup would give traffic to: a listening TCP socket or an
 * unconnected UDP socket, as sock_diag reports it ({@link Sockets#bound}). Any process's.
 *
 * @param protocol {@link Sockets#IPPROTO_TCP} or {@link Sockets#IPPROTO_UDP}
 * @param family {@link Sockets#AF_INET} or {@link Sockets#AF_INET6}
 * @param local the address and port it is bound to (a wildcard address for "every address")
 * @param v6Only for AF_INET6: whether it refuses IPv4 (a dual-stack wildcard socket also takes IPv4)
 * @param uid the owner's user id
 * @param inode the socket's inode, as {@code /proc/PID/fd} links show it ({@code socket:[INODE]})
 * @param cookie the socket's cookie
 */
public record BoundSocket(int protocol, int family, InetSocketAddress local, boolean v6Only, int uid, long inode, long cookie) {

    /** Whether it is bound to the wildcard address of its family. */
    public boolean wildcard() {
        return local.getAddress().isAnyLocalAddress();
    }

    /** Whether traffic to {@code address} ({@code 4} or {@code 16} bytes) and {@code port} would reach it by the normal lookup. */
    public boolean takes(byte[] address, int port) {
        if (port != local.getPort()) {
            return false;
        }
        boolean ipv4 = address.length == 4;
        if (wildcard()) {
            return ipv4 ? family == Sockets.AF_INET || !v6Only : family == Sockets.AF_INET6;
        }
        return java.util.Arrays.equals(local.getAddress().getAddress(), address);
    }

    /**
     * {@code tcp 127.0.0.1:9000 (uid 65534, inode 123456, pid 42 python3)}: the owning process is
     * looked up among {@code /proc/PID/fd} links where visible (at most 100,000 descriptors read),
     * so this is for refusals, not for every request.
     */
    public String describe() {
        return summary(owner());
    }

    /** {@code tcp 127.0.0.1:9000 (uid 65534, inode 123456)}: without looking for the owner, cheap. */
    public String summary() {
        return summary("");
    }

    private String summary(String owner) {
        String host = local.getAddress().getHostAddress();
        return (protocol == Sockets.IPPROTO_TCP ? "tcp " : "udp ") + (host.contains(":") ? "[" + host + "]" : host) + ":"
                + local.getPort() + " (uid " + uid + ", inode " + inode + owner + ")";
    }

    /** The processes holding this socket, where {@code /proc} shows them (at most 100,000 descriptors read). */
    public List<Long> ownerPids() {
        return io.sksteer.bpf.internal.Procs.withFdLink("socket:[" + inode + "]");
    }

    private String owner() {
        for (long pid : ownerPids()) {
            try {
                return ", pid " + pid + " " + Files.readString(Path.of("/proc", Long.toString(pid), "comm")).trim();
            } catch (IOException e) {
                return ", pid " + pid;
            }
        }
        return "";
    }

}
