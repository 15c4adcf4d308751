package io.sksteer.netty;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.socket.DatagramPacket;
import io.netty.channel.socket.SocketProtocolFamily;
import io.sksteer.testkit.KernelTest;
import io.sksteer.testkit.TestNetns;
import io.sksteer.testkit.TestSockets;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
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
 * What Netty 4.2 epoll does by itself with steered datagrams, measured, so that an upgrade that
 * changes it shows up here. The reasons are in Netty's native code: {@code setIpRecvOrigDestAddr}
 * sets only {@code IPPROTO_IP/IP_RECVORIGDSTADDR}, {@code init_packet} reads only an
 * {@code SOL_IP/IP_ORIGDSTADDR} control message (and {@code UDP_GRO}), and a packet without one
 * gets the channel's local address as recipient; on the way out {@code filterOutboundMessage} and
 * {@code doWriteMessage} use only content and recipient, so a {@code DatagramPacket}'s sender is
 * ignored.
 */
@KernelTest
class NettyDatagramFactsKernelTest {

    private static final InetSocketAddress V4_TARGET = new InetSocketAddress("127.77.1.2", Steering.PORT);
    private static final InetSocketAddress V6_TARGET = new InetSocketAddress("2001:db8::7", Steering.PORT);

    @RegisterExtension
    static final TestNetns ns = TestNetns.perClass("2001:db8::/64");
    private static EventLoopGroup group;

    private Steering steering;
    private Channel listener;
    private final BlockingQueue<DatagramPacket> received = new LinkedBlockingQueue<>();

    @BeforeAll
    static void start() {
        group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
    }

    @AfterAll
    static void stop() {
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(10, TimeUnit.SECONDS);
    }

    @BeforeEach
    void attach() {
        steering = Steering.attach(ns);
    }

    @AfterEach
    void detach() {
        if (listener != null) {
            listener.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
        }
        steering.close();
        received.forEach(DatagramPacket::release);
    }

    private Channel listen(SocketProtocolFamily family, boolean recvOrigDstAddr) throws Exception {
        EpollDatagramChannel ch = ns.call(() -> new EpollDatagramChannel(family));
        ch.config().setOption(EpollChannelOption.IP_RECVORIGDSTADDR, recvOrigDstAddr);
        ch.pipeline().addLast(new SimpleChannelInboundHandler<DatagramPacket>(false) {
            @Override
            protected void channelRead0(ChannelHandlerContext ctx, DatagramPacket msg) {
                received.add(msg);
            }
        });
        group.register(ch).sync();
        // On an AF_INET6 channel Netty maps 127.0.0.1 to ::ffff:127.0.0.1: dual-stack, not wildcard.
        ch.bind(new InetSocketAddress("127.0.0.1", 0)).sync();
        steering.to(ch);
        return listener = ch;
    }

    private DatagramPacket sendFromConnectedClient(InetSocketAddress target) throws Exception {
        try (DatagramChannel client = ns.call(() -> DatagramChannel.open(
                target.getAddress() instanceof java.net.Inet6Address ? StandardProtocolFamily.INET6 : StandardProtocolFamily.INET)
                .connect(target))) {
            client.write(ByteBuffer.wrap(new byte[] {42}));
            DatagramPacket p = received.poll(TestSockets.TIMEOUT_MS, TimeUnit.MILLISECONDS);
            assertThat(p).as("a datagram to %s reached the listener", target).isNotNull();
            assertThat(p.sender()).isEqualTo(client.getLocalAddress());
            return p;
        }
    }

    @Test
    void ipv4ListenerWithIpRecvOrigDstAddrSeesTheOriginalDestination() throws Exception {
        listen(SocketProtocolFamily.INET, true);
        assertThat(sendFromConnectedClient(V4_TARGET).recipient()).isEqualTo(V4_TARGET);
    }

    @Test
    void scatteringReadsWithRecvmmsgSeeTheOriginalDestinationToo() throws Exception {
        Channel ch = ns.call(() -> new EpollDatagramChannel(SocketProtocolFamily.INET));
        ch.config().setOption(EpollChannelOption.MAX_DATAGRAM_PAYLOAD_SIZE, 1500);
        ch.config().setRecvByteBufAllocator(new io.netty.channel.FixedRecvByteBufAllocator(16 * 1500));
        ch.config().setOption(EpollChannelOption.IP_RECVORIGDSTADDR, true);
        ch.pipeline().addLast(new SimpleChannelInboundHandler<DatagramPacket>(false) {
            @Override
            protected void channelRead0(ChannelHandlerContext ctx, DatagramPacket msg) {
                received.add(msg);
            }
        });
        group.register(ch).sync();
        ch.bind(new InetSocketAddress("127.0.0.1", 0)).sync();
        steering.to(ch);
        listener = ch;
        // MAX_DATAGRAM_PAYLOAD_SIZE with room for several datagrams makes Netty use recvmmsg.
        assertThat(sendFromConnectedClient(V4_TARGET).recipient()).isEqualTo(V4_TARGET);
    }

    @Test
    void withoutTheOptionTheRecipientIsTheListenersOwnAddress() throws Exception {
        Channel ch = listen(SocketProtocolFamily.INET, false);
        assertThat(sendFromConnectedClient(V4_TARGET).recipient()).isEqualTo(ch.localAddress());
    }

    @Test
    void dualStackListenerSeesTheOriginalIpv4DestinationAsPlainIpv4() throws Exception {
        listen(SocketProtocolFamily.INET6, true);
        DatagramPacket p = sendFromConnectedClient(V4_TARGET);
        assertThat(p.recipient()).isEqualTo(V4_TARGET);
        assertThat(p.recipient().getAddress()).isInstanceOf(java.net.Inet4Address.class);
        assertThat(p.sender().getAddress()).isInstanceOf(java.net.Inet4Address.class);
    }

    @Test
    void dualStackListenerCannotSeeTheOriginalIpv6Destination() throws Exception {
        Channel ch = listen(SocketProtocolFamily.INET6, true);
        // No IPV6_RECVORIGDSTADDR, no parsing of SOL_IPV6 control messages: Netty falls back to
        // the channel's own address, which is not where the client sent the datagram.
        assertThat(sendFromConnectedClient(V6_TARGET).recipient()).isEqualTo(ch.localAddress());
    }

    @Test
    void aReplysSenderIsIgnoredItLeavesFromTheListenersAddress() throws Exception {
        Channel ch = listen(SocketProtocolFamily.INET, true);
        try (DatagramChannel client = ns.call(() -> DatagramChannel.open(StandardProtocolFamily.INET)
                .bind(new InetSocketAddress("127.0.0.1", 0)))) {
            client.send(ByteBuffer.wrap(new byte[] {1}), V4_TARGET);
            DatagramPacket in = received.poll(TestSockets.TIMEOUT_MS, TimeUnit.MILLISECONDS);
            assertThat(in).isNotNull();
            ch.writeAndFlush(new DatagramPacket(Unpooled.wrappedBuffer(new byte[] {2}), in.sender(), in.recipient())).sync();
            client.socket().setSoTimeout(TestSockets.TIMEOUT_MS);
            java.net.DatagramPacket reply = new java.net.DatagramPacket(new byte[16], 16);
            client.socket().receive(reply);
            assertThat(reply.getSocketAddress()).as("source of the reply").isEqualTo(ch.localAddress())
                    .isNotEqualTo(V4_TARGET);
        }
    }
}
