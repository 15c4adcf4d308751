package io.sksteer.bpf;

import static org.assertj.core.api.Assertions.assertThat;

import io.sksteer.testkit.KernelTest;
import io.sksteer.testkit.TestNetns;
import io.sksteer.testkit.TestSockets;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.nio.channels.DatagramChannel;
import java.nio.channels.ServerSocketChannel;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The kernel's own inventory of a namespace's sockets (sock_diag), against sockets the test opens there. */
@KernelTest
class SocketInventoryKernelTest {

    @RegisterExtension
    static final TestNetns ns = TestNetns.perClass();

    @Test
    void listsListeningTcpAndUnconnectedUdpSocketsWithTheirCookies() throws Exception {
        try (ServerSocketChannel tcp = TestSockets.tcpListener(ns, StandardProtocolFamily.INET, "127.0.0.1", 9000);
                ServerSocketChannel wildcard6 = TestSockets.tcpListener(ns, StandardProtocolFamily.INET6, "::", 9001);
                DatagramChannel udp = TestSockets.udpSocket(ns, StandardProtocolFamily.INET, "127.0.0.1", 53);
                DatagramChannel connected = TestSockets.udpSocket(ns, StandardProtocolFamily.INET, "127.0.0.1", 0)) {
            connected.connect(new InetSocketAddress("127.0.0.1", 53));
            List<BoundSocket> all = Sockets.bound(ns.namespace());
            assertThat(all).hasSize(3);
            BoundSocket t = find(all, Sockets.IPPROTO_TCP, 9000);
            assertThat(t.local()).isEqualTo(new InetSocketAddress("127.0.0.1", 9000));
            assertThat(t.cookie()).isEqualTo(Sockets.cookie(TestSockets.fd(tcp)));
            assertThat(t.uid()).isZero();
            assertThat(t.takes(new byte[] {127, 0, 0, 1}, 9000)).isTrue();
            assertThat(t.takes(new byte[] {127, 0, 0, 2}, 9000)).isFalse();
            BoundSocket w = find(all, Sockets.IPPROTO_TCP, 9001);
            assertThat(w.wildcard()).isTrue();
            assertThat(w.family()).isEqualTo(Sockets.AF_INET6);
            assertThat(w.v6Only()).isFalse();
            assertThat(w.takes(new byte[] {127, 9, 9, 9}, 9001)).as("dual-stack wildcard takes IPv4").isTrue();
            BoundSocket u = find(all, Sockets.IPPROTO_UDP, 53);
            assertThat(u.cookie()).isEqualTo(Sockets.cookie(TestSockets.fd(udp)));
            assertThat(u.describe()).startsWith("udp 127.0.0.1:53 (uid 0, inode " + u.inode() + ", pid " + ProcessHandle.current().pid());
        }
    }

    private static BoundSocket find(List<BoundSocket> all, int protocol, int port) {
        return all.stream().filter(s -> s.protocol() == protocol && s.local().getPort() == port).findFirst()
                .orElseThrow(() -> new AssertionError("no socket " + protocol + "/" + port + " in " + all));
    }
}
