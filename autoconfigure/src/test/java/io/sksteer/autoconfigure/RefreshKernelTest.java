package io.sksteer.autoconfigure;

import static io.sksteer.testkit.LabelledListeners.tcpLabel;
import static io.sksteer.testkit.TestSockets.addr;
import static org.assertj.core.api.Assertions.assertThat;

import io.sksteer.actuate.SksteerHealthIndicator;
import io.sksteer.netty.ListenerHandler;
import io.sksteer.testkit.KernelTest;
import io.sksteer.testkit.LabelledListeners;
import io.sksteer.testkit.TestNetns;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.cloud.context.refresh.ContextRefresher;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * Rules from refreshed configuration with Spring Cloud's real {@link ContextRefresher}: the rules
 * live in a file the application imports (as a mounted ConfigMap would be); the test rewrites it
 * and refreshes, and real connections show where the traffic goes.
 */
@KernelTest
class RefreshKernelTest {

    @RegisterExtension
    static final TestNetns ns = TestNetns.perClass();

    @TempDir
    Path temp;

    private ConfigurableApplicationContext app;

    @Configuration(proxyBeanMethods = false)
    @EnableAutoConfiguration
    static class App {
        @Bean
        ListenerHandler a() {
            return LabelledListeners.tcp("a");
        }

        @Bean
        ListenerHandler b() {
            return LabelledListeners.tcp("b");
        }

        @Bean
        ListenerHandler c() {
            return LabelledListeners.tcp("c");
        }
    }

    @AfterEach
    void stop() {
        if (app != null) {
            app.close();
        }
        assertThat(ns.namespace().skLookupProgramIds()).isEmpty();
    }

    private Path config(String aPorts, String bPorts, String extra) throws Exception {
        Path file = temp.resolve("sksteer.properties");
        Files.writeString(file, String.join("\n",
                "sksteer.listeners.a.rules[0].prefixes=127.77.1.0/24", "sksteer.listeners.a.rules[0].ports=" + aPorts,
                "sksteer.listeners.b.rules[0].prefixes=127.77.1.0/24", "sksteer.listeners.b.rules[0].ports=" + bPorts,
                "sksteer.listeners.c.rules[0].prefixes=127.77.2.0/24", "sksteer.listeners.c.rules[0].ports=80", extra, ""));
        return file;
    }

    private void start(Path file) {
        app = new SpringApplicationBuilder(App.class).web(org.springframework.boot.WebApplicationType.NONE).run(
                "--spring.config.import=optional:file:" + file, "--sksteer.netns=" + ns.path(), "--spring.main.banner-mode=off",
                "--spring.autoconfigure.exclude=" + io.sksteer.webserver.SecurityExclusions.ALL);
    }

    private Set<String> refresh() {
        return app.getBean(ContextRefresher.class).refresh();
    }

    @Test
    void aRefreshMovesAPortRangeBetweenListenersWhileUntouchedRulesKeepEveryConnection() throws Exception {
        Path file = config("8000-8099", "9000", "");
        start(file);
        int program = app.getBean(SksteerLifecycle.class).engine().dispatcher().program().id();
        assertThat(tcpLabel(ns, addr("127.77.1.5", 8050))).isEqualTo("a");

        AtomicBoolean stop = new AtomicBoolean();
        AtomicInteger served = new AtomicInteger();
        ConcurrentLinkedQueue<String> misdirected = new ConcurrentLinkedQueue<>();
        Thread loop = ns.call(() -> {
            Thread t = new Thread(() -> {
                while (!stop.get()) {
                    String label = tcpLabel(ns, addr("127.77.2.9", 80));
                    if (label.equals("c")) {
                        served.incrementAndGet();
                    } else {
                        misdirected.add(label);
                    }
                }
            }, "untouched-rule-loop");
            t.start();
            return t;
        });
        config("9001", "9000,8000-8099", "");
        Set<String> keys = refresh();
        assertThat(keys).anyMatch(k -> k.startsWith("sksteer.listeners."));
        assertThat(tcpLabel(ns, addr("127.77.1.5", 8050))).isEqualTo("b");
        assertThat(tcpLabel(ns, addr("127.77.1.5", 9001))).isEqualTo("a");
        assertThat(tcpLabel(ns, addr("127.77.1.5", 9000))).isEqualTo("b");
        stop.set(true);
        loop.join(10_000);
        assertThat(served.get()).isPositive();
        assertThat(misdirected).as("connections on the untouched rule that went elsewhere").isEmpty();
        assertThat(app.getBean(SksteerLifecycle.class).engine().dispatcher().program().id()).as("no re-attach").isEqualTo(program);
        var last = app.getBean(SksteerRules.class).audit().recent().get(0);
        assertThat(last.origin()).isEqualTo("refresh");
        assertThat(last.outcome()).isEqualTo("applied");
    }

    @Test
    void anInvalidRefreshKeepsTheRulesWarnsOnHealthAndTheNextGoodOneClearsIt() throws Exception {
        Path file = config("8000-8099", "9000", "");
        start(file);
        config("8000-8099", "9000,70000", "");
        refresh();
        assertThat(tcpLabel(ns, addr("127.77.1.5", 8050))).as("the old rules stay").isEqualTo("a");
        SksteerHealthIndicator health = app.getBean(SksteerHealthIndicator.class);
        var h = health.health();
        assertThat(h.getStatus().getCode()).isEqualTo("UP");
        assertThat(h.getDetails().get("warnings").toString()).contains("the last refresh was refused")
                .contains("sksteer.listeners.b.rules[0].ports[1]");
        // A mistyped key is refused too, naming it and the key meant, instead of being dropped.
        config("8000-8099", "9000", "sksteer.listeners.c.rules[1].prefixes=127.77.3.0/24\nsksteer.listeners.c.rules[1].prots=81");
        refresh();
        assertThat(health.health().getDetails().get("warnings").toString()).contains("the last refresh was refused")
                .contains("sksteer.listeners.c.rules[1].prots").contains("nearest known: sksteer.listeners.c.rules[1].ports");
        assertThat(tcpLabel(ns, addr("127.77.3.1", 81))).as("nothing of the refused refresh is in force").isEqualTo("refused");
        config("8000-8099", "9000,9100", "");
        refresh();
        assertThat(health.health().getDetails()).doesNotContainKey("warnings");
        assertThat(tcpLabel(ns, addr("127.77.1.5", 9100))).isEqualTo("b");
    }

    @Test
    void aRefreshThatTouchesNothingOfSksteerChangesNothingAndRestartOnlyKeysAreReported() throws Exception {
        Path file = config("8000-8099", "9000", "other.setting=1");
        start(file);
        SksteerRules rules = app.getBean(SksteerRules.class);
        config("8000-8099", "9000", "other.setting=2");
        assertThat(refresh()).contains("other.setting");
        assertThat(rules.audit().recent()).as("no change at all").isEmpty();

        config("8000-8099", "9000", "sksteer.max-rules=8192");
        assertThat(refresh()).contains("sksteer.max-rules");
        assertThat(rules.audit().recent()).isEmpty();
        assertThat(app.getBean(SksteerHealthIndicator.class).health().getDetails().get("warnings").toString())
                .contains("take effect only at a restart").contains("sksteer.max-rules");
    }

    @Test
    void tenThousandRulesComeIntoForceThroughOneRefresh() throws Exception {
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < 10_000; i++) {
            lines.add("sksteer.listeners.a.rules[" + i + "].prefixes=127.88." + (i >> 8) + "." + (i & 0xff));
            lines.add("sksteer.listeners.a.rules[" + i + "].ports=8080");
        }
        Path file = config("8000-8099", "9000", "sksteer.max-rules=32768");
        start(file);
        Files.write(file, lines, java.nio.file.StandardOpenOption.APPEND);
        long t0 = System.nanoTime();
        refresh();
        long total = (System.nanoTime() - t0) / 1_000_000;
        long ours = app.getBean(ConfigurationRefresh.class).lastNanos() / 1_000_000;
        // The appended a.rules[0..9999] replace a's first rule: 10,000 for a, one each for b and c.
        assertThat(app.getBean(SksteerLifecycle.class).engine().rules().size()).isEqualTo(10_002);
        assertThat(tcpLabel(ns, addr("127.88.39.15", 8080))).isEqualTo("a");

        // Again, warm: the same 10,000 rules move to another port (10,000 out, 10,000 in), three times.
        List<Long> moves = new ArrayList<>();
        List<Long> movesTotal = new ArrayList<>();
        for (int port = 8081; port <= 8083; port++) {
            Files.writeString(file, Files.readString(file).replace("ports=" + (port - 1), "ports=" + port));
            long t1 = System.nanoTime();
            refresh();
            movesTotal.add((System.nanoTime() - t1) / 1_000_000);
            moves.add(app.getBean(ConfigurationRefresh.class).lastNanos() / 1_000_000);
            assertThat(tcpLabel(ns, addr("127.88.39.15", port))).isEqualTo("a");
            assertThat(tcpLabel(ns, addr("127.88.39.15", port - 1))).isEqualTo("refused");
        }
        System.out.println("[sksteer] RefreshKernelTest: 10,000 rules added by a first refresh: " + ours + " ms in sksteer, "
                + total + " ms for the whole refresh; moved (10,000 out, 10,000 in) by three more: " + moves + " ms in sksteer, "
                + movesTotal + " ms in all");
    }
}
