package io.sksteer.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;

import io.sksteer.testkit.KernelTest;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The benchmark harness works: the smoke plan runs every section at tiny sizes and prints every
 * row. No figure is checked: these are benchmarks, not timed tests.
 */
@KernelTest
class SmokeKernelTest {

    @Test
    void smokeRunPrintsEveryRowOfEverySection() {
        Plan plan = Plan.smoke();
        ByteArrayOutputStream progress = new ByteArrayOutputStream();
        Report report = Benchmarks.run(plan, new PrintStream(progress, true, StandardCharsets.UTF_8));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        report.print(new PrintStream(out, true, StandardCharsets.UTF_8));
        String text = out.toString(StandardCharsets.UTF_8);
        System.out.println(text);

        List<String> lines = text.lines().toList();
        for (String title : List.of("### Dispatch baselines", "### Dispatch cost per lookup", "### Startup",
                "### Live update, Dispatcher.change", "### Live update, Dispatcher.apply", "### End to end", "### Web server", "### Goals")) {
            assertThat(lines).as("a table titled %s", title).anyMatch(l -> l.startsWith(title));
        }
        List<List<String>> rows = lines.stream().filter(l -> l.startsWith("|"))
                .map(l -> Arrays.stream(l.substring(1).split("\\|")).map(String::trim).toList()).toList();
        List<String> firstCells = new ArrayList<>(List.of("empty (returns SK_PASS)",
                "floor (SOCKMAP lookup + sk_assign + sk_release)", "start → attached, first in this JVM",
                "kernel memory of the maps (memlock)", "add 5 rules to 40", "remove 5 rules from 45",
                "replace 5 of 40 rules", "TCP connections", "UDP request/reply pairs",
                "diagnostic: UDP, kernel steering only", "HTTP requests, keep-alive off", "HTTP requests, keep-alive on"));
        for (String first : firstCells) {
            assertThat(rows).as("a row starting with %s", first).anyMatch(r -> r.get(0).startsWith(first));
        }
        for (String lookup : List.of("hit tcp4 /32 single port", "hit tcp4 /24 port range", "hit tcp6 /128 single port",
                "hit tcp6 /64 port range", "hit udp4 /32 single port", "miss tcp4 outside every prefix, unnamed port",
                "miss tcp4 outside every prefix, port 443", "miss tcp4 near (rules' /16), port 443",
                "miss tcp6 outside every prefix, unnamed port", "miss tcp6 outside every prefix, port 443",
                "miss tcp6 near (rules' /32), port 443")) {
            for (int size : plan.sizes()) {
                assertThat(rows).as("the row of %s at %d rules", lookup, size)
                        .anyMatch(r -> r.get(0).equals(lookup) && r.get(1).equals(Integer.toString(size)));
            }
        }
        // Both live-update tables have their three rows.
        for (String change : List.of("add 5 rules to 40", "remove 5 rules from 45", "replace 5 of 40 rules")) {
            assertThat(rows.stream().filter(r -> r.get(0).equals(change))).as("rows of %s", change).hasSize(2);
        }
        // Every goal gets a verdict: 5 hits × 3, 6 misses, startup, 3 updates (Dispatcher.change), TCP and UDP,
        // HTTP through the web server with keep-alive off and on.
        assertThat(report.goals()).hasSize(5 * 3 + 6 + 1 + 3 + 2 + 2);
    }
}
