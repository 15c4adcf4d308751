package io.sksteer.sample;

import static io.sksteer.testkit.TestSockets.addr;
import static org.assertj.core.api.Assertions.assertThat;

import io.sksteer.autoconfigure.SksteerLifecycle;
import io.sksteer.bpf.BpfProgram;
import io.sksteer.bpf.NetnsLink;
import io.sksteer.bpf.sklookup.SkLookupProgram;
import io.sksteer.testkit.Awaits;
import io.sksteer.testkit.HttpProbe;
import io.sksteer.testkit.KernelTest;
import io.sksteer.testkit.LabelledListeners;
import io.sksteer.testkit.TestNetns;
import io.sksteer.testkit.TestSockets;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.context.ConfigurableApplicationContext;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The sample application on its default configuration, started and steering inside a namespace of
 * the test's own, with its actuator over real HTTP on the web server's own address there.
 */
@KernelTest
class SampleApplicationKernelTest {

    private ConfigurableApplicationContext app;

    @RegisterExtension
    static final TestNetns ns = TestNetns.perClass();

    @BeforeEach
    void start() {
        app = SampleApp.run(ns, "--sksteer.netns=" + ns.path(), "--server.port=0");
    }

    @AfterEach
    void stop() {
        app.close();
        assertThat(ns.namespace().skLookupProgramIds()).as("nothing attached after the app stopped").isEmpty();
    }

    @Test
    void theSamplesOwnWebServerAnswersOnItsSteeredPrefixWithSpringsJson404ForUnknownPaths() {
        HttpProbe.Answer hello = HttpProbe.get(ns, addr("127.78.1.2", 80), "/hello");
        assertThat(hello.status()).as(hello.body()).isEqualTo(200);
        JsonNode body = JsonMapper.builder().build().readTree(hello.body());
        assertThat(body.get("listener").asText()).isEqualTo("site");
        assertThat(body.get("local").asText()).isEqualTo("127.78.1.2:80");
        assertThat(body.get("remote").asText()).isEqualTo(LabelledListeners.text(hello.clientAddress()));

        HttpProbe.Answer missing = HttpProbe.get(ns, addr("127.78.200.9", 8999), "/no-such-page");
        assertThat(missing.status()).isEqualTo(404);
        JsonNode error = JsonMapper.builder().build().readTree(missing.body());
        assertThat(error.get("status").asInt()).isEqualTo(404);
        assertThat(error.get("path").asText()).isEqualTo("/no-such-page");
        // Outside the rules: nothing there.
        assertThat(HttpProbe.get(ns, addr("127.78.1.2", 9000), "/hello").refused()).isTrue();
    }

    @Test
    void theReadmeCurlLineAnswersWithTheDialledAddress() {
        assertThat(LabelledListeners.httpGet(ns, addr("127.77.1.2", 8123))).startsWith("listener=web local=127.77.1.2:8123 remote=127.0.0.1:");
        assertThat(LabelledListeners.httpGet(ns, addr("127.77.200.1", 80))).startsWith("listener=web local=127.77.200.1:80 ");
    }

    @Test
    void theEchoListenerRepliesFromTheOriginalDestination() throws Exception {
        InetSocketAddress target = addr("127.77.9.9", 5353);
        String reply = ns.call(() -> {
            try (DatagramChannel client = DatagramChannel.open().connect(target)) {
                client.write(ByteBuffer.wrap("ping".getBytes(StandardCharsets.UTF_8)));
                client.socket().setSoTimeout(TestSockets.TIMEOUT_MS);
                var p = new java.net.DatagramPacket(new byte[64], 64);
                client.socket().receive(p);
                assertThat(p.getSocketAddress()).isEqualTo(target);
                return new String(p.getData(), 0, p.getLength(), StandardCharsets.UTF_8);
            }
        });
        assertThat(reply).isEqualTo("ping");
    }

    @Test
    void theEndpointCountsSteeredAndMissingExactly() throws Exception {
        int steered = 6;
        int missing = 4;
        for (int i = 0; i < steered; i++) {
            assertThat(LabelledListeners.httpGet(ns, addr("127.77.1.2", 8123))).startsWith("listener=web");
        }
        app.getBean(SksteerLifecycle.class).engine().listeners().get("web").channel().close().sync();
        for (int i = 0; i < missing; i++) {
            assertThat(LabelledListeners.tcpLine(ns, addr("127.77.1.2", 80))).isEqualTo("refused");
        }
        JsonNode report = json(get("/actuator/sksteer"));
        JsonNode range = rule(report, "8000-8999");
        assertThat(range.get("steered").asLong()).isEqualTo(steered);
        assertThat(range.get("missingSocket").asLong()).isZero();
        JsonNode eighty = rule(report, "80");
        assertThat(eighty.get("missingSocket").asLong()).isEqualTo(missing);
        assertThat(eighty.get("steered").asLong()).isZero();
    }

    @Test
    void healthTurnsDownWithinASecondOfTheListenerClosingAndNamesIt() throws Exception {
        assertThat(get("/actuator/health").status()).isEqualTo(200);
        app.getBean(SksteerLifecycle.class).engine().listeners().get("web").channel().close().sync();
        HttpProbe.Answer down = Awaits.until(() -> get("/actuator/health"), r -> r.status() == 503, Duration.ofSeconds(1));
        assertThat(down.status()).isEqualTo(503);
        assertThat(down.body()).contains("listener 'web' is closed");
    }

    @Test
    void aSecondProgramOnTheNamespaceShowsUpInTheEndpoint() throws Exception {
        try (BpfProgram foreign = BpfProgram.load(SkLookupProgram.builder("foreign").build(), List.of());
                NetnsLink link = NetnsLink.attach(foreign, ns.namespace())) {
            JsonNode program = json(get("/actuator/sksteer")).get("program");
            assertThat(program.get("programsOnNamespace").asInt()).isEqualTo(2);
            assertThat(program.get("position").asInt()).isEqualTo(1);
            assertThat(program.get("programIds").get(1).asInt()).isEqualTo(foreign.id());
        }
    }

    @Test
    void explainOverHttpAnswersAndRejectsBadParametersWithA400() throws Exception {
        JsonNode hit = json(get("/actuator/sksteer/explain?protocol=tcp&address=127.77.1.2&port=8123"));
        assertThat(hit.get("listener").asText()).isEqualTo("web");
        assertThat(hit.get("rule").asText()).isEqualTo("tcp 127.77.0.0/16 port 8000-8999 -> web");
        JsonNode miss = json(get("/actuator/sksteer/explain?protocol=udp&address=127.77.1.2&port=5354"));
        assertThat(miss.get("steered").asBoolean()).isFalse();
        HttpProbe.Answer bad = get("/actuator/sksteer/explain?protocol=tcp&address=not-an-ip&port=80");
        assertThat(bad.status()).isEqualTo(400);
        assertThat(bad.body()).contains("address must be an IPv4 or IPv6 address");
    }

    @Test
    void metricsAreVisibleOverHttp() throws Exception {
        LabelledListeners.httpGet(ns, addr("127.77.3.3", 443));
        JsonNode m = json(get("/actuator/metrics/sksteer.lookups?tag=outcome:steered&tag=listener:web"));
        assertThat(m.get("measurements").get(0).get("value").asDouble()).isEqualTo(1.0);
    }

    private static JsonNode rule(JsonNode report, String ports) {
        for (JsonNode r : report.get("rules")) {
            if (r.get("protocol").asText().equals("tcp") && r.get("ports").asText().equals(ports)) {
                return r;
            }
        }
        throw new AssertionError("no tcp rule with ports " + ports + " in " + report);
    }

    private HttpProbe.Answer get(String path) {
        return SampleApp.get(ns, app, path);
    }

    private static JsonNode json(HttpProbe.Answer r) {
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        return JsonMapper.builder().build().readTree(r.body());
    }

}
