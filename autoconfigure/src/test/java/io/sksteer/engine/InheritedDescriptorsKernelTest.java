package io.sksteer.engine;

import static io.sksteer.testkit.TestSockets.addr;
import static org.assertj.core.api.Assertions.assertThat;

import com.sun.jna.Library;
import com.sun.jna.Native;
import io.sksteer.bpf.FdStore;
import io.sksteer.bpf.SocketFd;
import io.sksteer.bpf.Sockets;
import io.sksteer.bpf.sklookup.Protocol;
import io.sksteer.steering.SteeringConfig;
import io.sksteer.testkit.KernelTest;
import io.sksteer.testkit.LabelledListeners;
import io.sksteer.testkit.TestNetns;
import io.sksteer.testkit.TestSockets;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * What a start does with descriptors passed to it (by a service manager, or any launcher): a
 * listener takes the socket named after it when it fits, and serves on it; a descriptor that does
 * not fit (here not even a socket) is closed and the listener binds its own; a descriptor no
 * listener names is closed. Nothing passed in stays open unused.
 */
@KernelTest
class InheritedDescriptorsKernelTest {

    @RegisterExtension
    static final TestNetns ns = TestNetns.perClass();

    interface C extends Library {
        C INSTANCE = Native.load("c", C.class);

        int dup(int fd);

        int open(String path, int flags);
    }

    private static SteeringConfig config() {
        return new SteeringConfig.Builder().netns(ns.path().toString())
                .listener("echo", new SteeringConfig.ListenerDefinition(Protocol.TCP, null, 128, false,
                        List.of(new SteeringConfig.RuleText(List.of("127.79.5.0/24"), List.of("all")).parse("echo rule"))))
                .listener("dns", new SteeringConfig.ListenerDefinition(Protocol.UDP, null, 128, false,
                        List.of(new SteeringConfig.RuleText(List.of("127.79.6.0/24"), List.of("all")).parse("dns rule"))))
                .build();
    }

    /** The socket inode behind a descriptor of this process, read from /proc. */
    private static String target(int fd) throws Exception {
        Path link = Path.of("/proc/self/fd/" + fd);
        return Files.exists(link, java.nio.file.LinkOption.NOFOLLOW_LINKS) ? Files.readSymbolicLink(link).toString() : "(closed)";
    }

    @Test
    void aListenerTakesTheSocketNamedAfterItAndWhatDoesNotFitOrIsUnclaimedIsClosed() throws Exception {
        // A listening TCP socket in the namespace, bound by "an earlier process": here, a descriptor
        // duplicated from one the test opened and then closed.
        int tcp;
        InetSocketAddress inheritedAddress;
        try (ServerSocketChannel s = TestSockets.tcpListener(ns, StandardProtocolFamily.INET, "127.0.0.1", 0)) {
            inheritedAddress = (InetSocketAddress) s.getLocalAddress();
            tcp = C.INSTANCE.dup(TestSockets.fd(s).value());
        }
        String tcpInode = target(tcp);
        int notASocket = C.INSTANCE.open("/dev/null", 0);
        int unclaimed;
        try (ServerSocketChannel s = TestSockets.tcpListener(ns, StandardProtocolFamily.INET, "127.0.0.1", 0)) {
            unclaimed = C.INSTANCE.dup(TestSockets.fd(s).value());
        }
        String unclaimedInode = target(unclaimed);
        FdStore store = FdStore.of(List.of(new FdStore.Inherited("echo", tcp), new FdStore.Inherited("dns", notASocket),
                new FdStore.Inherited("somebody-else", unclaimed)));

        try (SteeringEngine engine = SteeringEngine.start(config(),
                Map.of("echo", LabelledListeners.tcp("echo"), "dns", LabelledListeners.udp("dns")), Map.of(), store)) {
            SteeredListener echo = engine.listeners().get("echo");
            assertThat(echo.openedBy()).isEqualTo("sksteer (inherited)");
            assertThat(echo.boundAddress()).isEqualTo(inheritedAddress);
            assertThat(target(echo.socket().value())).isEqualTo(tcpInode);
            assertThat(LabelledListeners.tcpLine(ns, addr("127.79.5.77", 4242))).startsWith("echo 127.79.5.77:4242");

            SteeredListener dns = engine.listeners().get("dns");
            assertThat(dns.openedBy()).as("/dev/null is no UDP socket: dns bound its own").isEqualTo("sksteer");
            assertThat(Sockets.protocol(new SocketFd(dns.socket().value()))).isEqualTo(Sockets.IPPROTO_UDP);
            assertThat(udp(addr("127.79.6.1", 53), "hi")).isEqualTo("dns 127.79.6.1:53 hi");

            assertThat(target(notASocket)).as("the misfit descriptor is closed").isNotEqualTo("/dev/null");
            assertThat(target(unclaimed)).as("the unclaimed descriptor is closed").isNotEqualTo(unclaimedInode);
            assertThat(store.claimed()).containsExactlyInAnyOrder("echo", "dns");
            assertThat(engine.descriptorStore()).isEqualTo("off");
        }
        assertThat(target(tcp)).as("closed with its listener").isNotEqualTo(tcpInode);
    }

    /** One datagram to {@code target} from inside the namespace, and the reply. */
    private static String udp(InetSocketAddress target, String payload) {
        return ns.call(() -> {
            try (java.nio.channels.DatagramChannel c = java.nio.channels.DatagramChannel.open().connect(target)) {
                c.socket().setSoTimeout(TestSockets.TIMEOUT_MS);
                c.write(java.nio.ByteBuffer.wrap(payload.getBytes(java.nio.charset.StandardCharsets.US_ASCII)));
                java.net.DatagramPacket p = new java.net.DatagramPacket(new byte[256], 256);
                c.socket().receive(p);
                return new String(p.getData(), 0, p.getLength(), java.nio.charset.StandardCharsets.US_ASCII);
            }
        });
    }
}
