package io.sksteer.sample;

import static io.sksteer.testkit.TestSockets.addr;
import static org.assertj.core.api.Assertions.assertThat;

import io.sksteer.autoconfigure.SksteerLifecycle;
import io.sksteer.engine.SteeringEngine;
import io.sksteer.steering.RuleCounters;
import io.sksteer.steering.SteeringRule;
import io.sksteer.testkit.Awaits;
import io.sksteer.testkit.HttpProbe;
import io.sksteer.testkit.KernelTest;
import io.sksteer.testkit.LabelledListeners;
import io.sksteer.testkit.TestNetns;
import io.sksteer.testkit.TestSockets;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * The sample, as a hostile client of its actuator and of its UDP listener would try it, inside a
 * namespace of the test's own: each attack reproduced, and shown refused. Other services of the
 * namespace (a TCP server on 127.0.0.1:9000 and a UDP service on 127.0.0.1:53, both the test's
 * own sockets, not sksteer's) and the actuator keep their traffic.
 */
@KernelTest
class HostileRequestsKernelTest {

    private static final String WRITES_ON = "--management.endpoint.sksteer.access=unrestricted";

    @RegisterExtension
    static final TestNetns ns = TestNetns.perClass();

    private final List<AutoCloseable> opened = new ArrayList<>();
    private ConfigurableApplicationContext app;

    @AfterEach
    void stop() throws Exception {
        if (app != null) {
            app.close();
        }
        for (AutoCloseable c : opened) {
            c.close();
        }
        assertThat(ns.namespace().skLookupProgramIds()).isEmpty();
    }

    private ConfigurableApplicationContext start(String... args) {
        List<String> all = new ArrayList<>(List.of("--sksteer.netns=" + ns.path(), "--server.port=0"));
        all.addAll(List.of(args));
        app = SampleApp.run(ns, all.toArray(String[]::new));
        return app;
    }

    private HttpProbe.Answer post(String operation, String json) {
        return SampleApp.post(ns, app, "/actuator/sksteer/" + operation, json);
    }

    private SteeringEngine engine() {
        return app.getBean(SksteerLifecycle.class).engine();
    }

    // ---- writes: opt-in, ceiling, shadow check -------------------------------------------------------

    @Test
    void writesStayOffUnlessSksteerItselfIsToldEvenWhenEveryEndpointIsUnrestricted() {
        start("--management.endpoints.access.default=unrestricted");
        int before = engine().rules().size();
        HttpProbe.Answer r = post("add", "{\"rules\": \"web 127.0.0.0/8 all; echo 127.0.0.0/8 all\"}");
        assertThat(r.status()).as(r.body()).isEqualTo(403);
        assertThat(r.body()).contains("sksteer.live-changes.enabled");
        assertThat(engine().rules().size()).isEqualTo(before);
    }

    @Test
    void aChangeBeyondTheConfiguredRulesIsRefusedNamingTheCeiling() {
        start(WRITES_ON, "--sksteer.live-changes.enabled=true");
        for (String rules : List.of("web 127.0.0.0/8 all; echo 127.0.0.0/8 all", "web 0.0.0.0/0 all", "web ::/0 all",
                "web 127.77.0.0/16 22")) {
            HttpProbe.Answer r = post("add", "{\"rules\": \"" + rules + "\"}");
            assertThat(r.status()).as("%s: %s", rules, r.body()).isEqualTo(400);
            assertThat(r.body()).contains("outside the ceiling of live changes, the configured rules");
        }
        // Inside the ceiling: moving configured traffic between the configured listeners' own rules works.
        assertThat(post("remove", "{\"rules\": \"web 127.77.0.0/16 443\"}").status()).isEqualTo(200);
        assertThat(post("add", "{\"rules\": \"web 127.77.0.0/16 443\"}").status()).isEqualTo(200);
    }

    @Test
    void aChangeThatWouldCaptureAnotherSocketIsRefusedNamingItAndEveryServiceKeepsItsTraffic() throws Exception {
        ServerSocket http = ns.call(() -> new ServerSocket(9000, 50, InetAddress.getByName("127.0.0.1")));
        opened.add(http);
        DatagramChannel dns = TestSockets.udpSocket(ns, java.net.StandardProtocolFamily.INET, "127.0.0.1", 53);
        opened.add(dns);
        // And one on every address, IPv6 and IPv4 (dual-stack), as sshd listens on a host.
        opened.add(TestSockets.tcpListener(ns, java.net.StandardProtocolFamily.INET6, "::", 2222));
        // A ceiling as wide as it gets: only the shadow check stands between the change and the host.
        start(WRITES_ON, "--sksteer.live-changes.enabled=true", "--sksteer.live-changes.allowed[0].prefixes=0.0.0.0/0,::/0",
                "--sksteer.live-changes.allowed[0].ports=all");
        int actuator = SampleApp.server(app).getPort();
        HttpProbe.Answer all = post("add", "{\"rules\": \"web 127.0.0.0/8 all; echo 127.0.0.0/8 all\"}");
        assertThat(all.status()).as(all.body()).isEqualTo(400);
        assertThat(all.body()).contains("would take traffic from");
        HttpProbe.Answer tcp = post("add", "{\"rules\": \"web 127.0.0.1 9000\"}");
        assertThat(tcp.body()).contains("would take traffic from tcp 127.0.0.1:9000 (uid 0, inode")
                .contains("pid " + ProcessHandle.current().pid()).contains("a socket that is not sksteer's");
        HttpProbe.Answer udp = post("add", "{\"rules\": \"echo 127.0.0.0/24 53\"}");
        assertThat(udp.body()).contains("would take traffic from udp 127.0.0.1:53");
        HttpProbe.Answer self = post("add", "{\"rules\": \"web 127.0.0.1 " + actuator + "\"}");
        assertThat(self.body()).contains("would take traffic from tcp 127.0.0.1:" + actuator).contains("the socket of listener 'site'");
        for (String wide : List.of("web 0.0.0.0/0 all", "web ::/0 all", "web ::/0 2222")) {
            assertThat(post("add", "{\"rules\": \"" + wide + "\"}").body()).as(wide).contains("would take traffic from");
        }
        assertThat(post("add", "{\"rules\": \"web ::/0 2222\"}").body()).contains("tcp [0:0:0:0:0:0:0:0]:2222");

        // Every service keeps its traffic.
        CompletableFuture<Boolean> accepted = CompletableFuture.supplyAsync(() -> {
            try (var s = http.accept()) {
                return true;
            } catch (Exception e) {
                return false;
            }
        });
        assertThat(LabelledListeners.tcpLine(ns, addr("127.0.0.1", 9000))).isNotEqualTo("refused");
        assertThat(accepted.get(5, TimeUnit.SECONDS)).isTrue();
        ns.run(() -> {
            try (DatagramChannel client = DatagramChannel.open()) {
                client.send(ByteBuffer.wrap("q".getBytes(StandardCharsets.US_ASCII)), addr("127.0.0.1", 53));
            }
        });
        ByteBuffer got = ByteBuffer.allocate(16);
        dns.configureBlocking(true);
        dns.socket().setSoTimeout(TestSockets.TIMEOUT_MS);
        var packet = new java.net.DatagramPacket(new byte[16], 16);
        dns.socket().receive(packet);
        assertThat(packet.getLength()).isEqualTo(1);
        assertThat(SampleApp.get(ns, app, "/actuator/health").status()).isEqualTo(200);
        // Every refusal is in the audit: on the endpoint and in the log.
        String report = SampleApp.get(ns, app, "/actuator/sksteer").body();
        assertThat(report).contains("\"outcome\":\"refused\"").contains("\"origin\":\"http remote=127.0.0.1:");
    }

    // ---- UDP: no reply loop -------------------------------------------------------------------------

    @Test
    void oneDatagramFromASteeredAddressCostsAtMostTwoLookupsAndNoLoop() throws Exception {
        start();
        SteeringRule echoRule = engine().rules().rules().stream().filter(r -> r.listener().equals("echo")).findFirst().orElseThrow();
        InetSocketAddress echoReal = engine().listeners().get("echo").boundAddress();
        // An unprivileged-looking client bound inside the echo rule sends one datagram to the echo
        // listener's real address, and one to a steered address: each reply would be steered back.
        try (DatagramChannel attacker = ns.call(() -> DatagramChannel.open().bind(addr("127.77.9.9", 5353)))) {
            attacker.send(ByteBuffer.wrap("loop?".getBytes(StandardCharsets.US_ASCII)), addr("127.0.0.1", echoReal.getPort()));
            attacker.send(ByteBuffer.wrap("loop?".getBytes(StandardCharsets.US_ASCII)), addr("127.77.9.10", 5353));
            long refused = Awaits.until(() -> engine().loopedRepliesRefused(), n -> n >= 2, Duration.ofSeconds(5));
            assertThat(refused).isEqualTo(2);
        }
        RuleCounters after = engine().dispatcher().counters(echoRule);
        assertThat(after.lookups()).as("lookups of the echo rule for two datagrams and their refused replies").isLessThanOrEqualTo(2);
        // A plain client still gets its echo, and the counter moves by exactly one: nothing loops behind.
        String reply = ns.call(() -> {
            try (DatagramChannel client = DatagramChannel.open().connect(addr("127.77.9.9", 5353))) {
                client.write(ByteBuffer.wrap("ping".getBytes(StandardCharsets.US_ASCII)));
                client.socket().setSoTimeout(TestSockets.TIMEOUT_MS);
                var p = new java.net.DatagramPacket(new byte[16], 16);
                client.socket().receive(p);
                return new String(p.getData(), 0, p.getLength(), StandardCharsets.US_ASCII);
            }
        });
        assertThat(reply).isEqualTo("ping");
        assertThat(engine().dispatcher().counters(echoRule).lookups()).isEqualTo(after.lookups() + 1);
        assertThat(engine().loopedRepliesRefused()).isEqualTo(2);
    }

    // ---- malformed input -------------------------------------------------------------------------------

    @Test
    void malformedWritesAndExplainQueriesAreRefused() {
        start(WRITES_ON, "--sksteer.live-changes.enabled=true");
        int before = engine().rules().size();
        HttpProbe.Answer empty = post("rules", "{\"rules\": \";\"}");
        assertThat(empty.status()).isEqualTo(400);
        assertThat(empty.body()).contains("no rule given").contains("none");
        HttpProbe.Answer nul = post("add", "{\"rules\": \"web 127.77.0.0/16 443\\u0000\"}");
        assertThat(nul.status()).isEqualTo(400);
        assertThat(nul.body()).contains("control character U+0000");
        assertThat(engine().rules().size()).isEqualTo(before);

        for (String query : List.of("protocol=tcp&address=127.77.1.2&port=80&port=443", "protocol=tcp&address=127.77.1.2&port=80&x=1",
                "protocol=tcp%00&address=127.77.1.2&port=80")) {
            HttpProbe.Answer r = SampleApp.get(ns, app, "/actuator/sksteer/explain?" + query);
            assertThat(r.status()).as("%s: %s", query, r.body()).isEqualTo(400);
        }
        for (String address : List.of("dead.beef", "999.1.1.1", "dead.beef.1975", "127.1", "2135752962", "localhost")) {
            HttpProbe.Answer r = SampleApp.get(ns, app, "/actuator/sksteer/explain?protocol=tcp&address=" + address + "&port=80");
            assertThat(r.status()).as(address).isEqualTo(400);
            assertThat(r.body()).contains("address must be an IPv4 or IPv6 address");
        }
        // The explicit form empties the rules.
        HttpProbe.Answer none = post("rules", "{\"rules\": \"none\"}");
        assertThat(none.status()).as(none.body()).isEqualTo(200);
        assertThat(engine().rules().size()).isZero();
    }
}
