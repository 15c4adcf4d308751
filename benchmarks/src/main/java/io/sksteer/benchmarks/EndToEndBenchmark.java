package io.sksteer.benchmarks;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.socket.DatagramPacket;
import io.netty.channel.socket.SocketProtocolFamily;
import io.sksteer.bpf.NetnsLink;
import io.sksteer.bpf.NetworkNamespace;
import io.sksteer.bpf.SocketFd;
import io.sksteer.bpf.sklookup.Protocol;
import io.sksteer.engine.SteeringEngine;
import io.sksteer.netty.ListenerHandler;
import io.sksteer.steering.Dispatcher;
import io.sksteer.steering.PortSpec;
import io.sksteer.steering.Prefix;
import io.sksteer.steering.RuleSet;
import io.sksteer.steering.SteeringConfig;
import io.sksteer.steering.SteeringRule;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Section 2: TCP connections and UDP request/reply pairs per second from one client, through a
 * steered Netty listener (sksteer's {@link SteeringEngine}) and through the same Netty listener
 * bound directly to the destination. Each case has a namespace of its own, created here: the
 * steered one with the dispatcher attached, the direct one with no program at all.
 *
 * <p>A diagnostic pair separates the kernel's part from sksteer's user-space UDP path: the same
 * dispatcher steering to a plain Netty echo (no original destinations, replies from the listener's
 * own address, so the client must be unconnected), against the direct listener with an
 * unconnected client.
 *
 * <p>One TCP operation: connect, the server writes one byte and closes, the client reads it and
 * the end of stream, then closes with SO_LINGER 0 (no TIME_WAIT piles up over the rounds). One UDP
 * operation: the client, connected to the destination, sends 32 bytes and waits for the echo,
 * which a connected socket accepts only from the address and port it sent to.
 */
final class EndToEndBenchmark {

    static final InetSocketAddress TCP_TARGET = new InetSocketAddress("127.77.1.1", 8080);
    static final InetSocketAddress UDP_TARGET = new InetSocketAddress("127.77.1.1", 5353);
    private static final int IO_TIMEOUT_MS = 2000;
    private static final int MAX_LOST = 20;

    private static final String TCP_STEERED = "tcp steered";
    private static final String TCP_DIRECT = "tcp direct";
    private static final String UDP_STEERED = "udp steered";
    private static final String UDP_DIRECT = "udp direct";
    private static final String UDP_KERNEL_ONLY = "udp kernel only";
    private static final String UDP_DIRECT_UNCONNECTED = "udp direct unconnected";

    private final Plan plan;
    private final PrintStream progress;

    EndToEndBenchmark(Plan plan, PrintStream progress) {
        this.plan = plan;
        this.progress = progress;
    }

    /** Writes one byte to each accepted connection and closes it. */
    @ChannelHandler.Sharable
    static final class OneByte extends ChannelInboundHandlerAdapter {
        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            ctx.writeAndFlush(Unpooled.wrappedBuffer(new byte[] {1})).addListener(ChannelFutureListener.CLOSE);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }

    /** Echoes each datagram from the address it was sent to (steered: the original destination). */
    @ChannelHandler.Sharable
    static final class Echo extends SimpleChannelInboundHandler<DatagramPacket> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, DatagramPacket in) {
            ctx.writeAndFlush(new DatagramPacket(in.content().retain(), in.sender(), in.recipient()));
        }
    }

    private interface Operation {
        /** Runs operations until {@code maxOps} or {@code deadline}; returns how many completed. */
        int run(int maxOps, long deadline) throws IOException;
    }

    void run(Report report) {
        Map<String, List<Double>> perSecond = new LinkedHashMap<>();
        try (NetworkNamespace steeredNs = NetworkNamespace.create();
                NetworkNamespace directNs = NetworkNamespace.create();
                NetworkNamespace kernelNs = NetworkNamespace.create();
                SteeringEngine engine = SteeringEngine.start(config(steeredNs), handlers());
                Direct direct = Direct.bind(directNs);
                KernelOnly kernelOnly = KernelOnly.start(kernelNs)) {
            progress.printf("end to end: program %d steers in one new namespace, program %d in another (kernel-only"
                    + " diagnostic); direct listeners on %s and %s in a third%n", engine.dispatcher().program().id(),
                    kernelOnly.dispatcher().program().id(), direct.tcp().localAddress(), direct.udp().localAddress());
            List<Case> cases = List.of(
                    new Case(TCP_STEERED, steeredNs, tcp()),
                    new Case(TCP_DIRECT, directNs, tcp()),
                    new Case(UDP_STEERED, steeredNs, udp(true)),
                    new Case(UDP_DIRECT, directNs, udp(true)),
                    new Case(UDP_KERNEL_ONLY, kernelNs, udp(false)),
                    new Case(UDP_DIRECT_UNCONNECTED, directNs, udp(false)));
            for (Case c : cases) {
                measure(c, Integer.MAX_VALUE, plan.e2eWarmup());
            }
            for (int round = 0; round < plan.e2eRounds(); round++) {
                progress.printf("end to end: round %d of %d%n", round + 1, plan.e2eRounds());
                // Forwards, then backwards: drift of the machine does not favour one side.
                List<Case> order = new ArrayList<>(cases);
                if (round % 2 == 1) {
                    Collections.reverse(order);
                }
                for (Case c : order) {
                    perSecond.computeIfAbsent(c.name(), k -> new ArrayList<>())
                            .add(measure(c, plan.e2eMaxOps(), plan.e2eRoundTime()));
                }
            }
        }
        Report.Table t = report.table("End to end, one client (" + plan.e2eRounds() + " rounds of at most "
                + plan.e2eRoundTime().toMillis() + " ms or " + Report.count(plan.e2eMaxOps()) + " operations per case)",
                "traffic", "steered per s", "direct per s", "steered ÷ direct", "per-round ratios");
        row(report, t, "TCP connections (connect, read 1 byte, close), IPv4", perSecond.get(TCP_STEERED),
                perSecond.get(TCP_DIRECT), true);
        row(report, t, "UDP request/reply pairs (32 bytes echoed), IPv4", perSecond.get(UDP_STEERED),
                perSecond.get(UDP_DIRECT), true);
        row(report, t, "diagnostic: UDP, kernel steering only (plain Netty echo, unconnected client)",
                perSecond.get(UDP_KERNEL_ONLY), perSecond.get(UDP_DIRECT_UNCONNECTED), false);
        t.note("steered: " + text(TCP_TARGET) + " and " + text(UDP_TARGET) + " reach Netty listeners bound to"
                + " [::ffff:127.0.0.1]:0 through SteeringEngine (rules 127.77.0.0/16 port 8080 and 5353; UDP with"
                + " UdpSteering: original destinations read, replies sent from them); direct: Netty listeners bound"
                + " to those addresses (AF_INET), in a namespace without any program. Medians of the rounds.");
        t.note("diagnostic row: the same kind of dispatcher (Dispatcher + NetnsLink) steers to a dual-stack Netty"
                + " listener whose echo is a plain handler (no UdpSteering), so replies leave from the listener's own"
                + " address and the client is unconnected; compared with the direct listener and an unconnected client."
                + " It separates the kernel's part of steering from sksteer's user-space UDP path. No goal.");
    }

    /** One kind of traffic against one listener, from a client in {@code ns}. */
    private record Case(String name, NetworkNamespace ns, Operation op) {
    }

    private static String text(InetSocketAddress a) {
        return a.getAddress().getHostAddress() + ":" + a.getPort();
    }

    private static void row(Report report, Report.Table t, String name, List<Double> steered, List<Double> direct,
            boolean goal) {
        double ratio = Report.ratioRow(t, name, steered, direct);
        if (goal) {
            report.atLeast("end to end ≥ 0.95 × direct", name, ratio, 0.95);
        }
    }

    /** Operations per second of one measurement of at most {@code maxOps} operations or {@code time}. */
    private static double measure(Case c, int maxOps, Duration time) {
        // Sockets belong to the namespace of the thread that creates them: run the client there.
        return c.ns().call(() -> {
            long start = System.nanoTime();
            int done = c.op().run(maxOps, start + time.toNanos());
            return done / ((System.nanoTime() - start) / 1e9);
        });
    }

    private static Operation tcp() {
        return (maxOps, deadline) -> {
            int done = 0;
            while (done < maxOps && System.nanoTime() < deadline) {
                try (Socket s = new Socket()) {
                    s.setSoLinger(true, 0);
                    s.setTcpNoDelay(true);
                    s.connect(TCP_TARGET, IO_TIMEOUT_MS);
                    s.setSoTimeout(IO_TIMEOUT_MS);
                    InputStream in = s.getInputStream();
                    if (in.read() != 1 || in.read() != -1) {
                        throw new IOException("expected one byte then the end of stream from " + TCP_TARGET);
                    }
                }
                done++;
            }
            return done;
        };
    }

    /**
     * Request/reply over UDP. A connected client takes replies only from the destination it sent
     * to; an unconnected one from anywhere.
     */
    private static Operation udp(boolean connected) {
        return (maxOps, deadline) -> {
            int done = 0;
            int lost = 0;
            byte[] payload = new byte[32];
            byte[] buffer = new byte[64];
            try (DatagramSocket s = new DatagramSocket()) {
                if (connected) {
                    s.connect(UDP_TARGET);
                }
                s.setSoTimeout(IO_TIMEOUT_MS / 4);
                java.net.DatagramPacket out = new java.net.DatagramPacket(payload, payload.length, UDP_TARGET);
                java.net.DatagramPacket in = new java.net.DatagramPacket(buffer, buffer.length);
                while (done < maxOps && System.nanoTime() < deadline) {
                    s.send(out);
                    try {
                        s.receive(in);
                        if (in.getLength() != payload.length) {
                            throw new IOException("echo of " + in.getLength() + " bytes, sent " + payload.length);
                        }
                        done++;
                    } catch (SocketTimeoutException e) {
                        if (++lost > MAX_LOST) {
                            throw new IOException("more than " + MAX_LOST + " datagrams to " + UDP_TARGET + " got no echo", e);
                        }
                    }
                }
            }
            return done;
        };
    }

    private static SteeringConfig config(NetworkNamespace ns) {
        return new SteeringConfig.Builder()
                .netns(ns.handlePath().toString())
                .listener("web", new SteeringConfig.ListenerDefinition(Protocol.TCP, null, 1024, false,
                        List.of(new SteeringConfig.RuleText(List.of("127.77.0.0/16"), List.of(Integer.toString(TCP_TARGET.getPort())))
                                .parse("web"))))
                .listener("echo", new SteeringConfig.ListenerDefinition(Protocol.UDP, null, 1024, false,
                        List.of(new SteeringConfig.RuleText(List.of("127.77.0.0/16"), List.of(Integer.toString(UDP_TARGET.getPort())))
                                .parse("echo"))))
                .build();
    }

    private static Map<String, ListenerHandler> handlers() {
        OneByte oneByte = new OneByte();
        Echo echo = new Echo();
        return Map.of("web", ch -> ch.pipeline().addLast(oneByte), "echo", ch -> ch.pipeline().addLast(echo));
    }

    /** The same handlers on Netty listeners bound directly to the destinations. */
    private record Direct(EventLoopGroup group, Channel tcp, Channel udp) implements AutoCloseable {

        static Direct bind(NetworkNamespace ns) {
            EventLoopGroup group = new MultiThreadIoEventLoopGroup(EpollIoHandler.newFactory());
            Channel tcp = null;
            try {
                tcp = new ServerBootstrap().group(group)
                        .channelFactory(() -> ns.call(() -> new EpollServerSocketChannel(SocketProtocolFamily.INET)))
                        .option(ChannelOption.SO_BACKLOG, 1024)
                        .childHandler(new ChannelInitializer<Channel>() {
                            @Override
                            protected void initChannel(Channel ch) {
                                ch.pipeline().addLast(new OneByte());
                            }
                        })
                        .bind(TCP_TARGET).sync().channel();
                Channel udp = new Bootstrap().group(group)
                        .channelFactory(() -> ns.call(() -> new EpollDatagramChannel(SocketProtocolFamily.INET)))
                        .handler(new Echo())
                        .bind(UDP_TARGET).sync().channel();
                return new Direct(group, tcp, udp);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                closeQuietly(tcp, group);
                throw new IllegalStateException("interrupted while binding the direct listeners", e);
            } catch (RuntimeException e) {
                closeQuietly(tcp, group);
                throw e;
            }
        }

        private static void closeQuietly(Channel tcp, EventLoopGroup group) {
            if (tcp != null) {
                tcp.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
            }
            group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(10, TimeUnit.SECONDS);
        }

        @Override
        public void close() {
            udp.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
            closeQuietly(tcp, group);
        }
    }

    /**
     * The diagnostic case: a dispatcher steering UDP for 127.77.0.0/16 port 5353 to a dual-stack
     * Netty listener with a plain echo handler, attached to its own namespace.
     */
    private record KernelOnly(EventLoopGroup group, Channel udp, Dispatcher dispatcher, NetnsLink link)
            implements AutoCloseable {

        static KernelOnly start(NetworkNamespace ns) {
            EventLoopGroup group = new MultiThreadIoEventLoopGroup(EpollIoHandler.newFactory());
            Channel udp = null;
            Dispatcher dispatcher = null;
            try {
                udp = new Bootstrap().group(group)
                        .channelFactory(() -> ns.call(() -> new EpollDatagramChannel(SocketProtocolFamily.INET6)))
                        .handler(new Echo())
                        .bind(new InetSocketAddress("::ffff:127.0.0.1", 0)).sync().channel();
                RuleSet rules = RuleSet.of(List.of(new SteeringRule(Protocol.UDP, Prefix.parse("127.77.0.0/16", "bench"),
                        new PortSpec.Single(UDP_TARGET.getPort()), "echo", "bench")));
                dispatcher = Dispatcher.create(rules, 8, Map.of("echo", 0), true);
                dispatcher.sockets().put(0, new SocketFd(((EpollDatagramChannel) udp).fd().intValue()));
                return new KernelOnly(group, udp, dispatcher, NetnsLink.attach(dispatcher.program(), ns));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                closeQuietly(dispatcher, udp, group);
                throw new IllegalStateException("interrupted while binding the kernel-only listener", e);
            } catch (RuntimeException e) {
                closeQuietly(dispatcher, udp, group);
                throw e;
            }
        }

        private static void closeQuietly(Dispatcher dispatcher, Channel udp, EventLoopGroup group) {
            if (dispatcher != null) {
                dispatcher.close();
            }
            if (udp != null) {
                udp.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
            }
            group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(10, TimeUnit.SECONDS);
        }

        @Override
        public void close() {
            link.close();
            closeQuietly(dispatcher, udp, group);
        }
    }
}
