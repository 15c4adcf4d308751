package io.sksteer.netty;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.socket.DatagramPacket;
import io.netty.channel.socket.SocketProtocolFamily;
import io.sksteer.bpf.Sockets;
import io.sksteer.bpf.SocketFd;
import io.sksteer.testkit.Awaits;
import io.sksteer.testkit.KernelTest;
import io.sksteer.testkit.TestNetns;
import io.sksteer.testkit.TestSockets;
import java.io.IOException;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.net.StandardProtocolFamily;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Steered UDP through Netty, for real: a program steers UDP to port 5353 on any address into an
 * echo listener bound elsewhere, and connected clients — which drop datagrams from any other
 * source — must get their echo back from the address and port they sent to.
 */
@KernelTest
class UdpSteeringKernelTest {

    private static final InetSocketAddress V4_TARGET = new InetSocketAddress("127.77.1.2", Steering.PORT);
    private static final InetSocketAddress V6_TARGET = new InetSocketAddress("2001:db8::7", Steering.PORT);

    @RegisterExtension
    static final TestNetns ns = TestNetns.perClass("2001:db8::/64");
    private static EventLoopGroup group;

    private Steering steering;
    private EpollDatagramChannel listener;
    private SteeredDatagramHandler steered;
    private final BlockingQueue<Seen> seen = new LinkedBlockingQueue<>();

    /** What the application's handler was given. */
    record Seen(InetSocketAddress recipient, InetSocketAddress sender, String payload) {
    }

    @BeforeAll
    static void start() {
        group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
    }

    @AfterAll
    static void stop() {
        assertThat(group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(10, TimeUnit.SECONDS))
                .as("event loop group shut down").isTrue();
    }

    @BeforeEach
    void attach() {
        steering = Steering.attach(ns);
    }

    @AfterEach
    void detach() {
        if (listener != null) {
            assertThat(listener.close().awaitUninterruptibly(5, TimeUnit.SECONDS)).isTrue();
        }
        steering.close();
    }

    /** An echo listener: the application's handler replies with the 3-argument constructor. */
    private EpollDatagramChannel listen(SocketProtocolFamily family, ReplySocketOptions options) throws Exception {
        return listen(family, options, true);
    }

    private EpollDatagramChannel listen(SocketProtocolFamily family, ReplySocketOptions options, boolean autoRead)
            throws Exception {
        EpollDatagramChannel ch = ns.call(() -> new EpollDatagramChannel(family));
        ch.config().setAutoRead(autoRead);
        steered = UdpSteering.handler(ns.namespace(), options);
        ch.pipeline().addLast(steered, new SimpleChannelInboundHandler<DatagramPacket>() {
            @Override
            protected void channelRead0(ChannelHandlerContext ctx, DatagramPacket in) {
                seen.add(new Seen(in.recipient(), in.sender(), in.content().toString(StandardCharsets.UTF_8)));
                ctx.writeAndFlush(new DatagramPacket(in.content().retain(), in.sender(), in.recipient()));
            }
        });
        group.register(ch).sync();
        // On an AF_INET6 channel this is [::ffff:127.0.0.1]: dual-stack, and no wildcard address.
        ch.bind(new InetSocketAddress("127.0.0.1", 0)).sync();
        steering.to(ch);
        return listener = ch;
    }

    private EpollDatagramChannel listen(SocketProtocolFamily family) throws Exception {
        return listen(family, ReplySocketOptions.DEFAULTS);
    }

    private static DatagramChannel connectedClient(InetSocketAddress target) {
        return ns.call(() -> DatagramChannel.open(target.getAddress() instanceof Inet6Address
                ? StandardProtocolFamily.INET6 : StandardProtocolFamily.INET).connect(target));
    }

    /** Sends {@code payload} from a connected client and returns the echo it accepted. */
    private static String echo(DatagramChannel client, String payload) throws IOException {
        client.write(ByteBuffer.wrap(payload.getBytes(StandardCharsets.UTF_8)));
        client.socket().setSoTimeout(TestSockets.TIMEOUT_MS);
        java.net.DatagramPacket p = new java.net.DatagramPacket(new byte[2048], 2048);
        try {
            client.socket().receive(p);
        } catch (SocketTimeoutException e) {
            throw new AssertionError("client connected to " + client.getRemoteAddress() + " got no reply from there in "
                    + TestSockets.TIMEOUT_MS + " ms");
        }
        return new String(p.getData(), 0, p.getLength(), StandardCharsets.UTF_8);
    }

    private static String echo(InetSocketAddress target, String payload) throws IOException {
        try (DatagramChannel client = connectedClient(target)) {
            return echo(client, payload);
        }
    }

    private Seen seen() throws InterruptedException {
        Seen s = seen.poll(TestSockets.TIMEOUT_MS, TimeUnit.MILLISECONDS);
        assertThat(s).as("the application's handler saw the datagram").isNotNull();
        return s;
    }

    @Test
    void aDualStackListenerAnswersIpv4FromTheAddressTheClientSentTo() throws Exception {
        EpollDatagramChannel ch = listen(SocketProtocolFamily.INET6);
        assertThat(Sockets.v6Only(new SocketFd(ch.fd().intValue()))).isFalse();
        try (DatagramChannel client = connectedClient(V4_TARGET)) {
            assertThat(echo(client, "hello v4")).isEqualTo("hello v4");
            Seen s = seen();
            assertThat(s.recipient()).isEqualTo(V4_TARGET);
            assertThat(s.recipient().getAddress()).isInstanceOf(Inet4Address.class);
            assertThat(s.sender()).isEqualTo(client.getLocalAddress());
            assertThat(s.sender().getAddress()).isInstanceOf(Inet4Address.class);
        }
        assertThat(steered.stats()).isEqualTo(new UdpSteeringStats(1, 1, 0, 0));
    }

    @Test
    void aDualStackListenerAnswersIpv6FromTheAddressTheClientSentTo() throws Exception {
        listen(SocketProtocolFamily.INET6);
        try (DatagramChannel client = connectedClient(V6_TARGET)) {
            assertThat(echo(client, "hello v6")).isEqualTo("hello v6");
            Seen s = seen();
            assertThat(s.recipient()).isEqualTo(V6_TARGET);
            assertThat(s.sender()).isEqualTo(client.getLocalAddress());
        }
        assertThat(steered.stats()).isEqualTo(new UdpSteeringStats(1, 1, 0, 0));
    }

    @Test
    void anIpv4ListenerAnswersFromTheAddressTheClientSentTo() throws Exception {
        listen(SocketProtocolFamily.INET);
        try (DatagramChannel client = connectedClient(V4_TARGET)) {
            assertThat(echo(client, "hello")).isEqualTo("hello");
            Seen s = seen();
            assertThat(s.recipient()).isEqualTo(V4_TARGET);
            assertThat(s.recipient().getAddress()).isInstanceOf(Inet4Address.class);
            assertThat(s.sender()).isEqualTo(client.getLocalAddress());
        }
    }

    @Test
    void oneReplySocketPerDestinationServesEveryClientAndDatagram() throws Exception {
        listen(SocketProtocolFamily.INET6);
        List<DatagramChannel> clients = new ArrayList<>();
        try {
            for (int i = 0; i < 3; i++) {
                clients.add(connectedClient(V4_TARGET));
                clients.add(connectedClient(V6_TARGET));
            }
            for (int round = 0; round < 20; round++) {
                for (int i = 0; i < clients.size(); i++) {
                    String payload = "client " + i + " round " + round;
                    assertThat(echo(clients.get(i), payload)).isEqualTo(payload);
                }
            }
        } finally {
            for (DatagramChannel c : clients) {
                c.close();
            }
        }
        assertThat(steered.stats()).isEqualTo(new UdpSteeringStats(2, 120, 0, 0));
    }

    @Test
    void aReplyFromTheListenersOwnAddressPassesUnchanged() throws Exception {
        EpollDatagramChannel ch = listen(SocketProtocolFamily.INET);
        InetSocketAddress own = ch.localAddress();
        // Addressed to the listener directly, not steered: no reply socket is needed or made.
        assertThat(echo(own, "direct")).isEqualTo("direct");
        assertThat(seen().recipient()).isEqualTo(own);
        assertThat(steered.stats()).isEqualTo(new UdpSteeringStats(0, 0, 0, 0));
    }

    @Test
    void withAutoReadOffADualStackListenerReadsOnlyWhenAsked() throws Exception {
        EpollDatagramChannel ch = listen(SocketProtocolFamily.INET6, ReplySocketOptions.DEFAULTS, false);
        try (DatagramChannel client = connectedClient(V6_TARGET)) {
            for (String payload : List.of("first", "second")) {
                client.write(ByteBuffer.wrap(payload.getBytes(StandardCharsets.UTF_8)));
                // A round trip through the event loop; nothing may have been read meanwhile.
                ch.eventLoop().submit(() -> { }).sync();
                assertThat(seen).as("read without a read() request").isEmpty();
                ch.read();
                assertThat(seen().payload()).isEqualTo(payload);
                client.socket().setSoTimeout(TestSockets.TIMEOUT_MS);
                java.net.DatagramPacket p = new java.net.DatagramPacket(new byte[64], 64);
                client.socket().receive(p);
                assertThat(new String(p.getData(), 0, p.getLength(), StandardCharsets.UTF_8)).isEqualTo(payload);
            }
        }
    }

    @Test
    void replySocketsCloseWhenTheListenerCloses() throws Exception {
        EpollDatagramChannel ch = listen(SocketProtocolFamily.INET6);
        assertThat(echo(V4_TARGET, "v4")).isEqualTo("v4");
        assertThat(echo(V6_TARGET, "v6")).isEqualTo("v6");
        assertThat(steered.stats().replySockets()).isEqualTo(2);

        assertThat(ch.close().awaitUninterruptibly(5, TimeUnit.SECONDS)).isTrue();
        assertThat(Awaits.until(() -> steered.stats().replySockets(), n -> n == 0, Duration.ofSeconds(5))).isZero();
        // The kernel released the listener's socket (no duplicate descriptor kept it) ...
        assertThat(Awaits.until(steering::hasSocket, has -> !has, Duration.ofSeconds(5)))
                .as("listener socket still in the SOCKMAP after close").isFalse();
        // ... and the reply sockets: their addresses can be bound again.
        assertBindable(V4_TARGET);
        assertBindable(V6_TARGET);
    }

    @Test
    void shuttingDownTheEventLoopReleasesTheListenerAndItsReplySockets() throws Exception {
        EventLoopGroup own = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        try {
            EpollDatagramChannel ch = ns.call(() -> new EpollDatagramChannel(SocketProtocolFamily.INET6));
            SteeredDatagramHandler handler = UdpSteering.handler(ns.namespace());
            ch.pipeline().addLast(handler, new SimpleChannelInboundHandler<DatagramPacket>() {
                @Override
                protected void channelRead0(ChannelHandlerContext ctx, DatagramPacket in) {
                    ctx.writeAndFlush(new DatagramPacket(in.content().retain(), in.sender(), in.recipient()));
                }
            });
            own.register(ch).sync();
            ch.bind(new InetSocketAddress("127.0.0.1", 0)).sync();
            steering.to(ch);
            assertThat(echo(V4_TARGET, "v4")).isEqualTo("v4");
            assertThat(echo(V6_TARGET, "v6")).isEqualTo("v6");
            assertThat(handler.stats().replySockets()).isEqualTo(2);
        } finally {
            // Closes channels without going through their pipelines' close().
            assertThat(own.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(10, TimeUnit.SECONDS)).isTrue();
        }
        assertThat(Awaits.until(steering::hasSocket, has -> !has, Duration.ofSeconds(5)))
                .as("listener socket still in the SOCKMAP after shutdown").isFalse();
        assertBindable(V4_TARGET);
        assertBindable(V6_TARGET);
    }

    @Test
    void idleReplySocketsAreClosed() throws Exception {
        listen(SocketProtocolFamily.INET6, new ReplySocketOptions(Duration.ofMillis(100), 64));
        assertThat(echo(V6_TARGET, "once")).isEqualTo("once");
        assertThat(Awaits.until(() -> steered.stats().replySockets(), n -> n == 0, Duration.ofSeconds(5))).isZero();
        assertBindable(V6_TARGET);
        // The next reply opens a new one.
        assertThat(echo(V6_TARGET, "again")).isEqualTo("again");
        assertThat(steered.stats().repliesFromOriginalDestination()).isEqualTo(2);
    }

    @Test
    void theLeastRecentlyUsedReplySocketMakesRoomForANewOne() throws Exception {
        listen(SocketProtocolFamily.INET, new ReplySocketOptions(Duration.ofMinutes(1), 2));
        InetSocketAddress a = new InetSocketAddress("127.77.1.10", Steering.PORT);
        InetSocketAddress b = new InetSocketAddress("127.77.1.11", Steering.PORT);
        InetSocketAddress c = new InetSocketAddress("127.77.1.12", Steering.PORT);
        assertThat(echo(a, "a")).isEqualTo("a");
        assertThat(echo(b, "b")).isEqualTo("b");
        assertThat(echo(a, "a")).isEqualTo("a");     // b is now the least recently used
        assertThat(echo(c, "c")).isEqualTo("c");
        assertThat(steered.stats().replySockets()).isEqualTo(2);
        assertBindable(b);
        assertThat(echo(b, "b")).isEqualTo("b");
    }

    @Test
    void whenAnotherSocketOwnsTheSourceTheReplyLeavesFromTheListener() throws Exception {
        InetSocketAddress taken = new InetSocketAddress("127.77.1.20", Steering.PORT);
        try (DatagramChannel owner = TestSockets.udpSocket(ns, StandardProtocolFamily.INET, "127.77.1.20", Steering.PORT);
                DatagramChannel client = ns.call(() -> DatagramChannel.open(StandardProtocolFamily.INET)
                        .bind(new InetSocketAddress("127.0.0.1", 0)))) {
            EpollDatagramChannel ch = listen(SocketProtocolFamily.INET);
            // The program runs before the lookup of a socket bound to the exact destination, so
            // the listener still gets the datagram; the reply socket cannot bind (EADDRINUSE).
            client.send(ByteBuffer.wrap("x".getBytes(StandardCharsets.UTF_8)), taken);
            assertThat(seen().recipient()).isEqualTo(taken);
            client.socket().setSoTimeout(TestSockets.TIMEOUT_MS);
            java.net.DatagramPacket reply = new java.net.DatagramPacket(new byte[16], 16);
            client.socket().receive(reply);
            assertThat(reply.getSocketAddress()).isEqualTo(ch.localAddress());
            assertThat(steered.stats()).isEqualTo(new UdpSteeringStats(0, 0, 1, 0));
        }
    }

    @Test
    void whileTheProgramDoesNotSteerAReplySocketDropsWhatReachesIt() throws Exception {
        listen(SocketProtocolFamily.INET);
        assertThat(echo(V4_TARGET, "steered")).isEqualTo("steered");
        seen();
        // Empty slot: the program passes, and the normal lookup finds the reply socket bound to
        // exactly this address; it reads and drops (no ICMP unreachable either, while it exists).
        steering.stop();
        try (DatagramChannel client = connectedClient(V4_TARGET)) {
            client.write(ByteBuffer.wrap("lost".getBytes(StandardCharsets.UTF_8)));
            assertThat(Awaits.until(() -> steered.stats().strayDatagrams(), n -> n == 1, Duration.ofSeconds(5))).isEqualTo(1);
        }
        assertThat(seen).isEmpty();
    }

    /** The kernel has released {@code address}: a fresh socket (FREEBIND, as IPv6 needs) binds to it. */
    private static void assertBindable(InetSocketAddress address) throws Exception {
        EpollDatagramChannel probe = ns.call(() -> new EpollDatagramChannel(address.getAddress() instanceof Inet6Address
                ? SocketProtocolFamily.INET6 : SocketProtocolFamily.INET));
        probe.config().setOption(io.netty.channel.epoll.EpollChannelOption.IP_FREEBIND, true);
        try {
            group.register(probe).sync();
            io.netty.channel.ChannelFuture bound = probe.bind(address);
            assertThat(bound.awaitUninterruptibly(5, TimeUnit.SECONDS)).isTrue();
            assertThat(bound.cause()).as("binding %s again", address).isNull();
        } finally {
            assertThat(probe.close().awaitUninterruptibly(5, TimeUnit.SECONDS)).isTrue();
        }
    }
}
