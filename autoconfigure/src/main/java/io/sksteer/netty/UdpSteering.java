package io.sksteer.netty;

import io.sksteer.bpf.NetworkNamespace;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;

/**
 * UDP for steered listeners on Netty's epoll transport. A steered datagram arrives at a socket
 * bound somewhere else (e.g. {@code [::ffff:127.0.0.1]:0}); the application must see where the
 * client sent it, and its reply must leave from there, address and port, or a connected client
 * (most DNS and QUIC clients) drops it.
 *
 * <p>Use: create the {@code EpollDatagramChannel} inside the listener's namespace, add
 * {@link #handler(NetworkNamespace)} first in its pipeline and the application's handlers after
 * it, then register and bind it.
 *
 * <pre>{@code
 * EpollDatagramChannel ch = ns.call(() -> new EpollDatagramChannel(SocketProtocolFamily.INET6));
 * ch.pipeline().addLast(UdpSteering.handler(ns), new EchoHandler());
 * group.register(ch).sync();
 * ch.bind(new InetSocketAddress("127.0.0.1", 0)).sync();   // dual-stack: [::ffff:127.0.0.1]
 *
 * // in EchoHandler.channelRead0(ctx, in):
 * ctx.writeAndFlush(new DatagramPacket(in.content().retain(), in.sender(), in.recipient()));
 * }</pre>
 *
 * <p>Inbound, each {@code DatagramPacket} has recipient = the original destination and sender =
 * the client, with IPv4 peers as plain IPv4. Outbound, a packet whose sender is such an original
 * destination leaves from a reply socket bound to it (see {@link ReplySocketOptions}).
 *
 * <p>What Netty 4.2 epoll does and does not do, and so what this package adds:
 * <ul>
 *   <li>{@code EpollChannelOption.IP_RECVORIGDSTADDR} sets only the IPv4 option, and Netty reads
 *       only the IPv4 control message: original destinations of IPv4 datagrams (also on a
 *       dual-stack socket) yes, of IPv6 datagrams no (it reports the channel's own address). An
 *       AF_INET6 listener is therefore read by this package through the kernel layer's
 *       {@code recvmsg} with {@code IPV6_RECVORIGDSTADDR} as well.
 *   <li>Netty ignores a packet's sender when sending and has no IP_PKTINFO support; IP_PKTINFO
 *       would set the source address but not the source port anyway. Hence reply sockets, bound
 *       with {@code IP_FREEBIND} to the exact original destination, in the listener's namespace
 *       and on its event loop.
 * </ul>
 *
 * <p>Binding a reply socket to a port below 1024 needs CAP_NET_BIND_SERVICE (or a lowered
 * {@code net.ipv4.ip_unprivileged_port_start}); without it, or when another socket owns the
 * address and port, replies fall back to the listener's own address, counted in
 * {@link UdpSteeringStats#repliesFromListener()} and logged once.
 */
public final class UdpSteering {

    private UdpSteering() {
    }

    /**
     * A new handler for one steered listener channel, with {@link ReplySocketOptions#DEFAULTS}.
     *
     * @param namespace the network namespace the listener's socket lives in, where reply sockets
     *     are created; the caller keeps it open while the listener lives
     */
    public static SteeredDatagramHandler handler(NetworkNamespace namespace) {
        return new SteeredDatagramHandler(namespace, ReplySocketOptions.DEFAULTS, null, null);
    }

    /** A new handler for one steered listener channel, keeping reply sockets as {@code options} say. */
    public static SteeredDatagramHandler handler(NetworkNamespace namespace, ReplySocketOptions options) {
        return new SteeredDatagramHandler(namespace, options, null, null);
    }

    /**
     * A new handler that also drops replies {@code loopGuard} says would be steered back to one
     * of our listeners, and records its reply sockets in {@code replySockets} (the engine's
     * listeners have both).
     */
    public static SteeredDatagramHandler handler(NetworkNamespace namespace, ReplySocketOptions options, UdpLoopGuard loopGuard,
            ReplySocketRegistry replySockets) {
        return new SteeredDatagramHandler(namespace, options, loopGuard, replySockets);
    }

    /**
     * The address with an IPv4-mapped IPv6 address ({@code ::ffff:a.b.c.d}) replaced by the plain
     * IPv4 one; any other address is returned as is.
     */
    public static InetSocketAddress normalise(InetSocketAddress address) {
        if (address == null || !isIpv4Mapped(address)) {
            return address;
        }
        byte[] b = address.getAddress().getAddress();
        try {
            return new InetSocketAddress(InetAddress.getByAddress(new byte[] {b[12], b[13], b[14], b[15]}), address.getPort());
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);   // four bytes are always an address
        }
    }

    static boolean isIpv4Mapped(InetSocketAddress address) {
        if (address == null || !(address.getAddress() instanceof Inet6Address a)) {
            return false;
        }
        byte[] b = a.getAddress();
        for (int i = 0; i < 10; i++) {
            if (b[i] != 0) {
                return false;
            }
        }
        return b[10] == (byte) 0xff && b[11] == (byte) 0xff;
    }
}
