package io.sksteer.bpf;

import static io.sksteer.testkit.TestSockets.fd;
import static io.sksteer.testkit.TestSockets.port;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sksteer.testkit.Awaits;
import io.sksteer.testkit.KernelTest;
import io.sksteer.testkit.TestNetns;
import io.sksteer.testkit.TestSockets;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.channels.ServerSocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Objects;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * recvmsg with original destinations, on a dual-stack socket bound to the wildcard address (the
 * control messages are the same whether a datagram was steered or addressed to a local address).
 */
@KernelTest
class DatagramReceiverKernelTest {

    @RegisterExtension
    static final TestNetns ns = TestNetns.perClass("2001:db8::/64");

    private static DatagramChannel send(InetSocketAddress target, byte[] payload) {
        return ns.call(() -> {
            DatagramChannel c = DatagramChannel.open(target.getAddress() instanceof Inet6Address
                    ? StandardProtocolFamily.INET6 : StandardProtocolFamily.INET).connect(target);
            c.write(ByteBuffer.wrap(payload));
            return c;
        });
    }

    private static ReceivedDatagram receive(DatagramReceiver receiver, ByteBuffer into) {
        ReceivedDatagram d = Awaits.until(() -> receiver.receive(into), Objects::nonNull,
                Duration.ofMillis(TestSockets.TIMEOUT_MS));
        assertThat(d).as("a datagram arrived").isNotNull();
        return d;
    }

    @Test
    void reportsIpv4AndIpv6DestinationsAsPlainAddresses() throws Exception {
        try (DatagramChannel server = TestSockets.udpSocket(ns, StandardProtocolFamily.INET6, "::", 0);
                DatagramReceiver receiver = DatagramReceiver.open(fd(server))) {
            InetSocketAddress v4 = new InetSocketAddress("127.77.3.4", port(server));
            InetSocketAddress v6 = new InetSocketAddress("2001:db8::9", port(server));
            // One at a time: datagrams sent from different threads may be queued in any order.
            try (DatagramChannel c4 = send(v4, "four".getBytes(StandardCharsets.UTF_8))) {
                ByteBuffer direct = ByteBuffer.allocateDirect(64);
                direct.position(5);
                ReceivedDatagram first = receive(receiver, direct);
                assertThat(first.destination()).isEqualTo(v4);
                assertThat(first.destination().getAddress()).isInstanceOf(Inet4Address.class);
                assertThat(first.sender()).isEqualTo(c4.getLocalAddress());
                assertThat(first.sender().getAddress()).isInstanceOf(Inet4Address.class);
                assertThat(first.length()).isEqualTo(4);
                assertThat(first.truncated()).isFalse();
                assertThat(direct.position()).isEqualTo(9);
                byte[] stored = new byte[4];
                direct.get(5, stored);
                assertThat(new String(stored, StandardCharsets.UTF_8)).isEqualTo("four");
            }
            try (DatagramChannel c6 = send(v6, "six".getBytes(StandardCharsets.UTF_8))) {
                ByteBuffer heap = ByteBuffer.allocate(64);
                heap.position(10);
                ReceivedDatagram second = receive(receiver, heap);
                assertThat(second.destination()).isEqualTo(v6);
                assertThat(second.sender()).isEqualTo(c6.getLocalAddress());
                assertThat(new String(heap.array(), 10, second.length(), StandardCharsets.UTF_8)).isEqualTo("six");
                assertThat(heap.position()).isEqualTo(13);
                assertThat(receiver.receive(ByteBuffer.allocate(64))).as("nothing waiting").isNull();
            }
        }
    }

    @Test
    void aLongerDatagramIsCutToTheBufferAndSaysSo() throws Exception {
        try (DatagramChannel server = TestSockets.udpSocket(ns, StandardProtocolFamily.INET, "127.0.0.1", 0);
                DatagramReceiver receiver = DatagramReceiver.open(fd(server));
                DatagramChannel client = send((InetSocketAddress) server.getLocalAddress(), new byte[100])) {
            ReceivedDatagram d = receive(receiver, ByteBuffer.allocate(10));
            assertThat(d.length()).isEqualTo(10);
            assertThat(d.truncated()).isTrue();
            assertThat(d.destination()).isEqualTo(server.getLocalAddress());
        }
    }

    @Test
    void closingTheReceiverLeavesTheSocketToItsOwner() throws Exception {
        try (DatagramChannel server = TestSockets.udpSocket(ns, StandardProtocolFamily.INET, "127.0.0.1", 0)) {
            DatagramReceiver receiver = DatagramReceiver.open(fd(server));
            assertThat(receiver.descriptor()).isNotEqualTo(fd(server));
            assertThat(Sockets.cookie(receiver.descriptor())).as("the same socket").isEqualTo(Sockets.cookie(fd(server)));
            receiver.close();
            receiver.close();
            assertThatThrownBy(() -> receiver.receive(ByteBuffer.allocate(8))).isInstanceOf(IllegalStateException.class);
            assertThat(TestSockets.sendAndReceive(ns, server, (InetSocketAddress) server.getLocalAddress(), "still here"))
                    .isEqualTo("still here");
        }
    }

    @Test
    void refusesNonUdpSockets() throws Exception {
        try (ServerSocketChannel tcp = TestSockets.tcpListener(ns, StandardProtocolFamily.INET, "127.0.0.1", 0)) {
            assertThatThrownBy(() -> DatagramReceiver.open(fd(tcp))).isInstanceOf(BpfException.class)
                    .hasMessageContaining("not a UDP socket");
        }
    }
}
