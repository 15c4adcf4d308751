package io.sksteer.sample;

import static io.sksteer.testkit.TestSockets.addr;
import static org.assertj.core.api.Assertions.assertThat;

import io.sksteer.testkit.HttpProbe;
import io.sksteer.testkit.KernelTest;
import io.sksteer.testkit.LabelledListeners;
import io.sksteer.testkit.TestNetns;
import io.sksteer.testkit.TestSockets;
import java.net.DatagramPacket;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * With {@code micrometer-registry-prometheus} on the classpath (a test dependency here, as it
 * would be the user's own), the sksteer meters appear on {@code /actuator/prometheus}, scraped
 * over real HTTP, with the kernel's counts after real traffic. The sample steers in a namespace
 * of the test's own, where it runs.
 */
@KernelTest
class PrometheusScrapeKernelTest {

    private static final Pattern SAMPLE = Pattern.compile("([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\\{(.*)\\})? (\\S+)");

    @RegisterExtension
    static final TestNetns ns = TestNetns.perClass();
    private static ConfigurableApplicationContext app;

    @BeforeAll
    static void start() {
        app = SampleApp.run(ns, "--sksteer.netns=" + ns.path(), "--server.port=0",
                "--management.endpoints.web.exposure.include=sksteer,health,metrics,prometheus");
    }

    @AfterAll
    static void stop() {
        if (app != null) {
            app.close();
        }
        assertThat(ns.namespace().skLookupProgramIds()).as("nothing attached after the app stopped").isEmpty();
    }

    @Test
    void theScrapeShowsTheKernelCountsOfEachRuleAfterRealTraffic() throws Exception {
        // The traffic of the samples in docs/actuator.md: three HTTP requests, one datagram.
        for (int i = 0; i < 3; i++) {
            assertThat(LabelledListeners.httpGet(ns, addr("127.77.1.2", 8123))).startsWith("listener=web");
        }
        assertThat(echo(addr("127.77.9.9", 5353), "ping")).isEqualTo("ping");

        HttpProbe.Answer r = SampleApp.get(ns, app, "/actuator/prometheus");
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        List<String> lines = r.body().lines().filter(l -> l.contains("sksteer_")).toList();
        // Printed for docs/actuator.md: the sample there is copied from this output.
        lines.forEach(l -> System.out.println("[sksteer] PrometheusScrapeKernelTest: " + l));

        String range = "tcp 127.77.0.0/16 8000-8999";
        assertThat(value(lines, "sksteer_lookups_total", "listener=web", "outcome=steered", "rule=" + range)).isEqualTo(3.0);
        assertThat(value(lines, "sksteer_lookups_total", "listener=web", "outcome=matched", "rule=" + range)).isEqualTo(3.0);
        assertThat(value(lines, "sksteer_lookups_total", "listener=web", "outcome=missing_socket", "rule=" + range)).isZero();
        assertThat(value(lines, "sksteer_lookups_total", "listener=web", "outcome=assign_error", "rule=" + range)).isZero();
        assertThat(value(lines, "sksteer_lookups_total", "listener=web", "outcome=steered", "rule=tcp 127.77.0.0/16 80")).isZero();
        assertThat(value(lines, "sksteer_lookups_total", "listener=echo", "outcome=steered", "rule=udp 127.77.0.0/16 5353"))
                .isEqualTo(1.0);
        // Seven rules (80, 443, 8000-8999 for site and for web; 5353 for echo), four outcomes each.
        assertThat(lines.stream().filter(l -> l.startsWith("sksteer_lookups_total{"))).hasSize(28);
        assertThat(value(lines, "sksteer_rules")).isEqualTo(7.0);
        assertThat(value(lines, "sksteer_listeners")).isEqualTo(3.0);
        assertThat(lines).contains("# TYPE sksteer_lookups_total counter", "# TYPE sksteer_rules gauge");
    }

    /**
     * The value of the one sample named {@code name} whose labels are exactly {@code labels}
     * ({@code key=value}, any order in the scrape).
     */
    private static double value(List<String> lines, String name, String... labels) {
        List<String> want = Arrays.stream(labels).sorted().toList();
        List<Double> found = lines.stream().map(SAMPLE::matcher).filter(Matcher::matches)
                .filter(m -> m.group(1).equals(name) && labels(m.group(2)).equals(want))
                .map(m -> Double.parseDouble(m.group(3))).toList();
        assertThat(found).as("samples %s%s in %s", name, want, lines).hasSize(1);
        return found.get(0);
    }

    /** {@code a="x",b="y"} as sorted {@code a=x}, {@code b=y} (our label values hold no quotes or commas). */
    private static List<String> labels(String text) {
        if (text == null || text.isEmpty()) {
            return List.of();
        }
        return Arrays.stream(text.split(",")).filter(s -> !s.isEmpty()).map(s -> s.replace("\"", "")).sorted().toList();
    }

    private static String echo(InetSocketAddress target, String text) {
        return ns.call(() -> {
            try (DatagramChannel client = DatagramChannel.open().connect(target)) {
                client.write(ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8)));
                client.socket().setSoTimeout(TestSockets.TIMEOUT_MS);
                DatagramPacket p = new DatagramPacket(new byte[64], 64);
                client.socket().receive(p);
                return new String(p.getData(), 0, p.getLength(), StandardCharsets.UTF_8);
            }
        });
    }
}
