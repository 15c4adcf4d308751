package io.sksteer.sample;

import static io.sksteer.testkit.TestSockets.addr;
import static org.assertj.core.api.Assertions.assertThat;

import io.sksteer.testkit.Awaits;
import io.sksteer.testkit.ChildJvm;
import io.sksteer.testkit.HttpProbe;
import io.sksteer.testkit.KernelTest;
import io.sksteer.testkit.TestNetns;
import io.sksteer.testkit.UdpRequestLoop;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.extension.RegisterExtension;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * A rolling restart of the sample on its default configuration: a second instance starts beside
 * the first in the same namespace (as a second {@code java -jar} would), takes the traffic over as
 * soon as it is attached (its program runs after the first one's and assigns with
 * BPF_SK_LOOKUP_F_REPLACE), the first reports STANDBY, then stops on SIGTERM: it detaches, drains
 * and closes. A TCP client loop (HTTP to the controller) and a UDP request loop (the echo) run
 * throughout: not one refused or reset connection, not one lost reply.
 */
@KernelTest
class RollingRestartKernelTest {

    private static final Pattern TOMCAT_PORT = Pattern.compile("Tomcat started on port (\\d+)");
    private static final JsonMapper JSON = JsonMapper.builder().build();

    @RegisterExtension
    static final TestNetns ns = TestNetns.perClass();

    private static ChildJvm.Running instance() throws Exception {
        ChildJvm.Running app = ChildJvm.start(List.of("nsenter", "--net=" + ns.path(), "--"), List.of(),
                SampleApplication.class.getName());
        assertThat(app.awaitOutput("Started SampleApplication", Duration.ofSeconds(90))).as(app.output()).isTrue();
        return app;
    }

    private static InetSocketAddress ownAddress(ChildJvm.Running app) {
        Matcher m = TOMCAT_PORT.matcher(app.output());
        assertThat(m.find()).as(app.output()).isTrue();
        return addr("127.0.0.1", Integer.parseInt(m.group(1)));
    }

    private static JsonNode health(InetSocketAddress server) {
        HttpProbe.Answer a = HttpProbe.get(ns, server, "/actuator/health/sksteer");
        assertThat(a.status()).as(a.body()).isEqualTo(200);
        return JSON.readTree(a.body());
    }

    @ParameterizedTest(name = "the first one stopped with {0}")
    @ValueSource(strings = {"SIGTERM", "SIGKILL"})
    void aSecondInstanceTakesOverAndTheFirstStopsWithoutOneFailedConnectionOrLostReply(String signal) throws Exception {
        AtomicBoolean stop = new AtomicBoolean();
        AtomicInteger tcpOk = new AtomicInteger();
        AtomicInteger udpOk = new AtomicInteger();
        ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
        AtomicLong lastServedByNew = new AtomicLong();
        AtomicLong newPid = new AtomicLong(-1);
        try (ChildJvm.Running first = instance()) {
            InetSocketAddress firstServer = ownAddress(first);
            // Threads take the namespace of the thread that starts them: started inside it.
            List<Thread> loops = ns.call(() -> startAll(List.of(
                    new Thread(() -> {
                        while (!stop.get()) {
                            String r = hello();
                            if (r.startsWith("{")) {
                                tcpOk.incrementAndGet();
                                if (r.contains("\"pid\":\"" + newPid.get() + "\"")) {
                                    lastServedByNew.set(System.nanoTime());
                                }
                            } else {
                                failures.add("tcp: " + r);
                            }
                        }
                    }, "tcp-loop"),
                    new Thread(new UdpRequestLoop(addr("127.77.9.9", 5353), "ping ", 2000, sr -> sr[1].equals(sr[0]), stop,
                            udpOk::incrementAndGet, failures::add), "udp-loop"))));
            assertThat(Awaits.until(() -> tcpOk.get() > 20 && udpOk.get() > 20, ok -> ok, Duration.ofSeconds(20)))
                    .as("both loops served by the first instance; failures: %s", failures).isTrue();

            try (ChildJvm.Running second = instance()) {
                newPid.set(second.process().pid());
                InetSocketAddress secondServer = ownAddress(second);
                // The newer instance serves as soon as it is attached; the older one says so.
                Awaits.until(lastServedByNew::get, t -> t != 0, Duration.ofSeconds(5));
                assertThat(lastServedByNew.get()).as("the second instance answered through the steered address").isNotZero();
                JsonNode older = health(firstServer);
                assertThat(older.get("status").asText()).isEqualTo("STANDBY");
                assertThat(older.get("details").get("supersededBy").toString()).contains("sksteer_steer");
                JsonNode newer = health(secondServer);
                assertThat(newer.get("status").asText()).isEqualTo("UP");
                assertThat(newer.get("details").get("tookOverFrom").toString()).contains("sksteer_steer");
                String report = HttpProbe.get(ns, firstServer, "/actuator/sksteer").body();
                assertThat(JSON.readTree(report).get("program").get("state").asText()).isEqualTo("standby");

                int before = tcpOk.get() + udpOk.get();
                if (signal.equals("SIGTERM")) {
                    first.process().destroy();           // detach, drain, graceful shutdown
                } else {
                    first.process().destroyForcibly();   // the kernel detaches its link; it had no traffic left since the takeover
                }
                assertThat(first.process().waitFor(60, TimeUnit.SECONDS)).as(first.output()).isTrue();
                long stoppedAt = System.nanoTime();
                Awaits.until(() -> tcpOk.get() + udpOk.get(), n -> n > before + 40, Duration.ofSeconds(10));
                stop.set(true);
                for (Thread t : loops) {
                    t.join(10_000);
                }
                System.out.println("[sksteer] RollingRestartKernelTest (" + signal + "): " + tcpOk.get() + " HTTP requests and " + udpOk.get()
                        + " UDP replies, " + failures.size() + " failures; last answer of the new instance "
                        + (lastServedByNew.get() - stoppedAt) / 1_000_000 + " ms after the old one exited");
                assertThat(failures).as("refused or reset connections, lost replies").isEmpty();
                assertThat(lastServedByNew.get()).as("the new instance serves after the old one is gone").isGreaterThan(stoppedAt);
                assertThat(health(secondServer).get("status").asText()).isEqualTo("UP");
                assertThat(ns.namespace().skLookupProgramIds()).hasSize(1);
            }
        }
        Awaits.until(() -> ns.namespace().skLookupProgramIds(), List::isEmpty, Duration.ofSeconds(5));
    }

    /**
     * For comparison, what rolling avoids: a cold restart (the instance stops, then the next one
     * starts) refuses connections for as long as neither is attached. Measured, not a goal.
     */
    @Test
    void aColdRestartRefusesConnectionsUntilTheNextInstanceIsAttached() throws Exception {
        AtomicBoolean stop = new AtomicBoolean();
        AtomicInteger ok = new AtomicInteger();
        AtomicInteger refused = new AtomicInteger();
        AtomicLong firstRefused = new AtomicLong();
        AtomicLong lastRefused = new AtomicLong();
        ChildJvm.Running first = instance();
        List<Thread> loop = ns.call(() -> startAll(List.of(new Thread(() -> {
            while (!stop.get()) {
                String r = hello();
                if (r.startsWith("{")) {
                    ok.incrementAndGet();
                } else {
                    refused.incrementAndGet();
                    firstRefused.compareAndSet(0, System.nanoTime());
                    lastRefused.set(System.nanoTime());
                }
            }
        }, "tcp-loop"))));
        Awaits.until(ok::get, n -> n > 20, Duration.ofSeconds(20));
        first.process().destroy();
        assertThat(first.process().waitFor(60, TimeUnit.SECONDS)).isTrue();
        first.close();
        try (ChildJvm.Running second = instance()) {
            int before = ok.get();
            assertThat(Awaits.until(ok::get, n -> n > before + 20, Duration.ofSeconds(20))).isGreaterThan(before + 20);
            stop.set(true);
            loop.get(0).join(10_000);
        }
        long gapMs = (lastRefused.get() - firstRefused.get()) / 1_000_000;
        System.out.println("[sksteer] RollingRestartKernelTest (cold restart): " + refused.get() + " connections refused over "
                + gapMs + " ms, " + ok.get() + " served");
        assertThat(refused.get()).as("a cold restart leaves a gap").isPositive();
        Awaits.until(() -> ns.namespace().skLookupProgramIds(), List::isEmpty, Duration.ofSeconds(5));
    }

    private static List<Thread> startAll(List<Thread> threads) {
        threads.forEach(Thread::start);
        return threads;
    }

    /** One HTTP/1.0 request to the steered controller: the body, or what went wrong. */
    private static String hello() {
        try (Socket s = new Socket()) {
            s.connect(addr("127.78.1.2", 80), 3000);
            s.setSoTimeout(10_000);
            s.getOutputStream().write("GET /hello HTTP/1.0\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            InputStream in = s.getInputStream();
            String answer = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            int body = answer.indexOf("\r\n\r\n");
            return answer.startsWith("HTTP/1.1 200") && body > 0 ? answer.substring(body + 4) : "answer '" + answer + "'";
        } catch (Exception e) {
            return e.toString();
        }
    }
}
