package io.sksteer.autoconfigure;

import static io.sksteer.testkit.LabelledListeners.tcpLabel;
import static io.sksteer.testkit.LabelledListeners.tcpLine;
import static io.sksteer.testkit.TestSockets.addr;
import static org.assertj.core.api.Assertions.assertThat;

import io.sksteer.netty.ListenerHandler;
import io.sksteer.testkit.Awaits;
import io.sksteer.testkit.KernelTest;
import io.sksteer.testkit.KernelTestExtension;
import io.sksteer.testkit.LabelledListeners;
import io.sksteer.testkit.TestNetns;
import io.sksteer.testkit.TestSockets;
import java.net.StandardProtocolFamily;
import java.nio.channels.ServerSocketChannel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

/**
 * The starter end to end: properties → listeners → dispatcher → attached program, checked with
 * real connections in a namespace of the test's own.
 */
@KernelTest
class SteeringKernelTest {

    @RegisterExtension
    static final TestNetns ns = TestNetns.perClass("2001:db8::/64");

    private ApplicationContextRunner runner() {
        return new ApplicationContextRunner()
                .withConfiguration(AutoConfigurations.of(SksteerAutoConfiguration.class))
                .withPropertyValues(
                        "sksteer.netns=" + ns.path(),
                        "sksteer.listeners.web.protocol=tcp",
                        "sksteer.listeners.web.rules[0].prefixes=127.77.0.0/16",
                        "sksteer.listeners.web.rules[0].ports=80,443,8000-8999",
                        "sksteer.listeners.web.rules[1].prefixes=2001:db8::/64",
                        "sksteer.listeners.web.rules[1].ports=443",
                        "sksteer.listeners.api.rules[0].prefixes=127.77.1.0/24",
                        "sksteer.listeners.api.rules[0].ports=8000-8099",
                        "sksteer.listeners.admin.rules[0].prefixes=127.77.1.2",
                        "sksteer.listeners.admin.rules[0].ports=all",
                        "sksteer.listeners.admin.rules[1].prefixes=127.77.1.3",
                        "sksteer.listeners.admin.rules[1].ports=9000",
                        "sksteer.listeners.dns.protocol=udp",
                        "sksteer.listeners.dns.rules[0].prefixes=127.77.0.0/16,2001:db8::/64",
                        "sksteer.listeners.dns.rules[0].ports=53,5353")
                .withBean("web", ListenerHandler.class, () -> LabelledListeners.tcp("web"))
                .withBean("api", ListenerHandler.class, () -> LabelledListeners.tcp("api"))
                .withBean("admin", ListenerHandler.class, () -> LabelledListeners.tcp("admin"))
                .withBean("dns", ListenerHandler.class, () -> LabelledListeners.udp("dns"));
    }

    @Test
    void theMostSpecificRuleWinsAcrossSlash32Slash24AndSlash16() {
        runner().run(context -> {
            assertThat(context).hasNotFailed();
            assertThat(tcpLabel(ns, addr("127.77.1.2", 22))).as("/32 all beats nothing").isEqualTo("admin");
            assertThat(tcpLabel(ns, addr("127.77.1.2", 80))).as("/32 all beats /16 single").isEqualTo("admin");
            assertThat(tcpLabel(ns, addr("127.77.1.3", 9000))).isEqualTo("admin");
            assertThat(tcpLabel(ns, addr("127.77.1.3", 80))).as("/32 without the port falls to /16").isEqualTo("web");
            assertThat(tcpLabel(ns, addr("127.77.1.3", 8050))).as("/24 range beats /16 range").isEqualTo("api");
            assertThat(tcpLabel(ns, addr("127.77.1.3", 8100))).as("outside the /24 range, inside /16's").isEqualTo("web");
            assertThat(tcpLabel(ns, addr("127.77.200.9", 443))).isEqualTo("web");
        });
    }

    @Test
    void rangeEdgesAreInsideAndTheirNeighboursOutside() {
        runner().run(context -> {
            assertThat(tcpLabel(ns, addr("127.77.2.1", 8000))).isEqualTo("web");
            assertThat(tcpLabel(ns, addr("127.77.2.1", 8999))).isEqualTo("web");
            assertThat(tcpLine(ns, addr("127.77.2.1", 7999))).isEqualTo("refused");
            assertThat(tcpLine(ns, addr("127.77.2.1", 9000))).isEqualTo("refused");
            assertThat(tcpLabel(ns, addr("127.77.1.4", 8000))).as("first port of the /24 range").isEqualTo("api");
            assertThat(tcpLabel(ns, addr("127.77.1.4", 8099))).as("last port of the /24 range").isEqualTo("api");
            assertThat(tcpLine(ns, addr("127.78.0.1", 80))).as("outside every prefix").isEqualTo("refused");
        });
    }

    @Test
    void acceptedConnectionsSeeTheAddressTheClientDialledInPlainIpv4() {
        runner().run(context -> {
            String line = tcpLine(ns, addr("127.77.3.4", 8123));
            assertThat(line).startsWith("web 127.77.3.4:8123 127.0.0.1:");
        });
    }

    @Test
    void steersAnIpv6PrefixReachableThroughALocalRoute() {
        runner().run(context -> {
            assertThat(tcpLine(ns, addr("2001:db8::5", 443))).startsWith("web [2001:db8:0:0:0:0:0:5]:443");
            assertThat(tcpLine(ns, addr("2001:db8::5", 444))).isEqualTo("refused");
        });
    }

    @Test
    void udpRepliesReachAConnectedClientFromTheOriginalDestination() {
        runner().run(context -> {
            assertThat(udpExchange(addr("127.77.4.4", 53), "q1")).isEqualTo("dns 127.77.4.4:53 q1");
            assertThat(udpExchange(addr("127.77.4.5", 5353), "q2")).isEqualTo("dns 127.77.4.5:5353 q2");
            assertThat(udpExchange(addr("2001:db8::53", 53), "q3")).isEqualTo("dns [2001:db8:0:0:0:0:0:53]:53 q3");
            assertThat(TestSockets.udpRefused(ns, addr("127.77.4.4", 54))).as("port outside the rule").isTrue();
        });
    }

    /** Sends from a connected UDP socket, which accepts only datagrams from {@code target}. */
    private static String udpExchange(java.net.InetSocketAddress target, String payload) {
        return ns.call(() -> {
            try (var client = java.nio.channels.DatagramChannel.open(
                    target.getAddress() instanceof java.net.Inet6Address ? StandardProtocolFamily.INET6 : StandardProtocolFamily.INET)) {
                client.connect(target);
                client.write(java.nio.ByteBuffer.wrap(payload.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
                client.socket().setSoTimeout(TestSockets.TIMEOUT_MS);
                var p = new java.net.DatagramPacket(new byte[512], 512);
                client.socket().receive(p);
                assertThat(p.getSocketAddress()).as("reply source").isEqualTo(target);
                return new String(p.getData(), 0, p.getLength(), java.nio.charset.StandardCharsets.UTF_8);
            }
        });
    }

    @Test
    void trafficOutsideTheRulesReachesAPlainSocketBoundThere() throws Exception {
        try (ServerSocketChannel bystander = TestSockets.tcpListener(ns, StandardProtocolFamily.INET, "127.77.2.1", 9000)) {
            runner().run(context -> {
                TestSockets.connectAndAccept(ns, bystander, addr("127.77.2.1", 9000));
                assertThat(tcpLabel(ns, addr("127.77.2.1", 8000))).isEqualTo("web");
            });
        }
    }

    @Test
    void aRuleOverASocketBoundByAnotherIsRefusedAtStartupNamingThatSocket() throws Exception {
        try (ServerSocketChannel bystander = TestSockets.tcpListener(ns, StandardProtocolFamily.INET, "127.77.5.5", 80)) {
            runner().run(context -> {
                assertThat(context).hasFailed();
                assertThat(context.getStartupFailure()).hasStackTraceContaining("sksteer.listeners.web.rules[0]")
                        .hasStackTraceContaining("would take traffic from tcp 127.77.5.5:80 (uid 0, inode")
                        .hasStackTraceContaining("allow-shadowing");
            });
            assertThat(ns.namespace().skLookupProgramIds()).as("nothing attached").isEmpty();
        }
    }

    @Test
    void aClosedListenerSocketIsRefusedUnderDrop() throws Exception {
        try (ServerSocketChannel bystander = TestSockets.tcpListener(ns, StandardProtocolFamily.INET, "127.77.5.5", 80)) {
            runner().withPropertyValues("sksteer.listeners.web.rules[0].allow-shadowing=true").run(context -> {
                context.getBean(SksteerLifecycle.class).engine().listeners().get("web").channel().close().sync();
                assertThat(tcpLine(ns, addr("127.77.5.5", 80))).as("never leaked to the bystander").isEqualTo("refused");
                assertThat(tcpLabel(ns, addr("127.77.1.2", 80))).as("other listeners still serve").isEqualTo("admin");
            });
        }
    }

    @Test
    void aClosedListenerSocketFallsToThePlainSocketUnderPass() throws Exception {
        try (ServerSocketChannel bystander = TestSockets.tcpListener(ns, StandardProtocolFamily.INET, "127.77.5.5", 80)) {
            runner().withPropertyValues("sksteer.on-missing-socket=pass", "sksteer.listeners.web.rules[0].allow-shadowing=true")
                    .run(context -> {
                context.getBean(SksteerLifecycle.class).engine().listeners().get("web").channel().close().sync();
                TestSockets.connectAndAccept(ns, bystander, addr("127.77.5.5", 80));
            });
        }
    }

    @Test
    void startingAttachesOneProgramAndClosingLeavesNothingAttached() {
        assertThat(ns.namespace().skLookupProgramIds()).isEmpty();
        runner().run(context -> {
            int programId = context.getBean(SksteerLifecycle.class).engine().dispatcher().program().id();
            assertThat(ns.namespace().skLookupProgramIds()).containsExactly(programId);
        });
        assertThat(ns.namespace().skLookupProgramIds()).isEmpty();
    }

    @Test
    void countersCountRealTrafficExactlyAndExplainDoesNot() {
        runner().run(context -> {
            var engine = context.getBean(SksteerLifecycle.class).engine();
            var rules = engine.dispatcher().rules();
            var steeredRule = rules.resolve(io.sksteer.bpf.sklookup.Protocol.TCP,
                    java.net.InetAddress.getByName("127.77.1.2").getAddress(), 22).orElseThrow();
            var missingRule = rules.resolve(io.sksteer.bpf.sklookup.Protocol.TCP,
                    java.net.InetAddress.getByName("127.77.6.6").getAddress(), 443).orElseThrow();
            for (int i = 0; i < 7; i++) {
                assertThat(tcpLabel(ns, addr("127.77.1.2", 22))).isEqualTo("admin");
            }
            engine.listeners().get("web").channel().close().sync();
            for (int i = 0; i < 3; i++) {
                assertThat(tcpLine(ns, addr("127.77.6.6", 443))).isEqualTo("refused");
            }
            io.sksteer.bpf.sklookup.SkLookupTestRun.run(engine.dispatcher().program(), new io.sksteer.bpf.sklookup.SkLookupContext(
                    io.sksteer.bpf.sklookup.Protocol.TCP, addr("127.77.1.2", 22), addr("127.0.0.1", 5000)), 100);
            assertThat(engine.dispatcher().counters(steeredRule)).isEqualTo(new io.sksteer.steering.RuleCounters(7, 7, 0, 0));
            assertThat(engine.dispatcher().counters(missingRule)).isEqualTo(new io.sksteer.steering.RuleCounters(3, 0, 3, 0));
        });
    }

    @Test
    void startAndStopLeaveNoKernelDescriptorOpen() {
        var before = KernelTestExtension.kernelFds();
        runner().run(context -> assertThat(tcpLabel(ns, addr("127.77.1.2", 80))).isEqualTo("admin"));
        var after = Awaits.until(KernelTestExtension::kernelFds, fds -> fds.equals(before), java.time.Duration.ofSeconds(5));
        assertThat(after).isEqualTo(before);
    }

    @Test
    void aListenerThatCannotBindFailsStartupAndLeavesNothingAttached() throws Exception {
        var before = KernelTestExtension.kernelFds();
        try (ServerSocketChannel squatter = TestSockets.tcpListener(ns, StandardProtocolFamily.INET, "127.0.0.1", 0)) {
            int port = TestSockets.port(squatter);
            runner().withPropertyValues("sksteer.listeners.api.bind=127.0.0.1:" + port).run(context -> {
                assertThat(context).hasFailed();
                Throwable failure = context.getStartupFailure();
                var analysis = new ListenerBindFailureAnalyzer().analyze(failure);
                assertThat(analysis).isNotNull();
                assertThat(analysis.getDescription()).contains("listener 'api'").contains("127.0.0.1:" + port)
                        .contains("Nothing was attached");
                assertThat(ns.namespace().skLookupProgramIds()).isEmpty();
            });
        }
        var after = Awaits.until(KernelTestExtension::kernelFds, fds -> fds.equals(before), java.time.Duration.ofSeconds(5));
        assertThat(after).as("everything made before the failure was closed").isEqualTo(before);
    }

    @Test
    void disabledMeansNoBeansThatTouchTheKernel() {
        runner().withPropertyValues("sksteer.enabled=false").run(context -> {
            assertThat(context).doesNotHaveBean(SksteerLifecycle.class);
            assertThat(ns.namespace().skLookupProgramIds()).isEmpty();
        });
    }
}
