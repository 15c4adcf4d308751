package io.sksteer.benchmarks;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.socket.SocketProtocolFamily;
import io.sksteer.bpf.NetworkNamespace;
import io.sksteer.bpf.SocketFd;
import io.sksteer.bpf.SocketMap;
import io.sksteer.bpf.Sockets;
import io.sksteer.bpf.sklookup.Protocol;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Real listening sockets for the SOCKMAPs of the dispatch benchmark, created inside the
 * benchmark's namespace: each an AF_INET6 socket bound to {@code [::ffff:127.0.0.1]:0} with
 * IPV6_V6ONLY off (as sksteer's default listeners are), so it takes IPv4 and IPv6 lookups. No
 * SO_REUSEPORT: PROG_TEST_RUN refuses reuseport sockets (EOPNOTSUPP). Nothing is ever sent to them.
 */
final class Listeners implements AutoCloseable {

    private final EventLoopGroup group;
    private final Map<String, Channel> channels;

    private Listeners(EventLoopGroup group, Map<String, Channel> channels) {
        this.group = group;
        this.channels = channels;
    }

    /** Binds one listener per entry of {@code protocols} (name → TCP or UDP) inside {@code ns}. */
    static Listeners bind(NetworkNamespace ns, Map<String, Protocol> protocols) {
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        Map<String, Channel> channels = new LinkedHashMap<>();
        Listeners made = new Listeners(group, channels);
        try {
            InetSocketAddress loopback = new InetSocketAddress("::ffff:127.0.0.1", 0);
            for (Map.Entry<String, Protocol> e : protocols.entrySet()) {
                Channel ch;
                if (e.getValue() == Protocol.TCP) {
                    ch = new ServerBootstrap().group(group)
                            .channelFactory(() -> ns.call(() -> new EpollServerSocketChannel(SocketProtocolFamily.INET6)))
                            .childHandler(new ChannelInboundHandlerAdapter())
                            .bind(loopback).sync().channel();
                } else {
                    ch = new Bootstrap().group(group)
                            .channelFactory(() -> ns.call(() -> new EpollDatagramChannel(SocketProtocolFamily.INET6)))
                            .handler(new ChannelInboundHandlerAdapter())
                            .bind(loopback).sync().channel();
                }
                channels.put(e.getKey(), ch);
            }
            return made;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            made.close();
            throw new IllegalStateException("interrupted while binding listeners", e);
        } catch (RuntimeException e) {
            made.close();
            throw e;
        }
    }

    SocketFd socket(String name) {
        Channel ch = channels.get(name);
        if (ch instanceof EpollServerSocketChannel s) {
            return new SocketFd(s.fd().intValue());
        }
        return new SocketFd(((EpollDatagramChannel) ch).fd().intValue());
    }

    long cookie(String name) {
        return Sockets.cookie(socket(name));
    }

    /** Puts every listener into {@code map} at its slot. */
    void fill(SocketMap<Integer> map, Map<String, Integer> slots) {
        slots.forEach((name, slot) -> map.put(slot, socket(name)));
    }

    /** Closes the channels (their sockets leave every SOCKMAP) and the event loop. */
    @Override
    public void close() {
        List<Channel> open = new ArrayList<>(channels.values());
        for (Channel ch : open) {
            ch.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
        }
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(10, TimeUnit.SECONDS);
    }
}
