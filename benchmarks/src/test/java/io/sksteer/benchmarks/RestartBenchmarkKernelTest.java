package io.sksteer.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;

import io.sksteer.testkit.Awaits;
import io.sksteer.testkit.KernelTest;
import io.sksteer.testkit.ServiceManager;
import io.sksteer.testkit.TestNetns;
import io.sksteer.testkit.UdpRequestLoop;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The three ways to restart one service, measured in one run on the same application (a TCP
 * {@code echo} and a UDP {@code dns} listener that answer with their pid, autoconfigure's
 * {@code FdStoreTestApp}) under the same systemd-like launcher, with a TCP connection loop and a
 * UDP request loop throughout:
 * <ul>
 *   <li>cold: SIGTERM, then the next process starts;</li>
 *   <li>rolling: the next process starts beside the running one and takes over (its program runs
 *       later and assigns with F_REPLACE), then the older one gets SIGTERM;</li>
 *   <li>descriptor store: SIGTERM, then the next process starts and takes the stored link and
 *       sockets over.</li>
 * </ul>
 * Printed as a table for docs/benchmarks.md. Only what each design promises is asserted (rolling
 * and the store refuse nothing; cold does): the figures are measurements, not goals.
 */
@KernelTest
class RestartBenchmarkKernelTest {

    private static final int SIGTERM = 15;
    private static final String APP = "io.sksteer.autoconfigure.FdStoreTestApp";

    @RegisterExtension
    static final TestNetns ns = TestNetns.perClass();

    record Row(String restart, int tcpServed, int udpServed, int failed, long gapMs, long longestWaitMs) {
    }

    /** The client loops and what they saw. */
    private static final class Loops {
        final AtomicBoolean stop = new AtomicBoolean();
        final AtomicInteger tcp = new AtomicInteger();
        final AtomicInteger udp = new AtomicInteger();
        final AtomicInteger failed = new AtomicInteger();
        final AtomicLong lastTcpAnswer = new AtomicLong(System.nanoTime());
        final AtomicLong gap = new AtomicLong();
        final AtomicLong longestWait = new AtomicLong();
        final List<Thread> threads = new ArrayList<>();

        void start() {
            threads.addAll(ns.call(() -> List.of(thread(this::tcpLoop, "tcp-loop"), thread(this::udpLoop, "udp-loop"))));
        }

        private static Thread thread(Runnable r, String name) {
            Thread t = new Thread(r, name);
            t.start();
            return t;
        }

        private void tcpLoop() {
            int n = 0;
            while (!stop.get()) {
                long t0 = System.nanoTime();
                InetSocketAddress target = new InetSocketAddress("127.79.1." + (1 + n % 250), 1 + (n * 7919) % 65535);
                n++;
                String line;
                try (Socket s = new Socket()) {
                    s.connect(target, 60_000);
                    s.setSoTimeout(60_000);
                    line = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8)).readLine();
                } catch (Exception e) {
                    line = null;
                }
                long now = System.nanoTime();
                if (line != null && line.startsWith("pid")) {
                    tcp.incrementAndGet();
                    gap.accumulateAndGet((now - lastTcpAnswer.getAndSet(now)) / 1_000_000, Math::max);
                    longestWait.accumulateAndGet((now - t0) / 1_000_000, Math::max);
                } else {
                    failed.incrementAndGet();
                }
            }
        }

        private void udpLoop() {
            new UdpRequestLoop(new InetSocketAddress("127.79.2.53", 53), "q", 60_000, sr -> sr[1].endsWith(" " + sr[0]), stop,
                    udp::incrementAndGet, f -> failed.incrementAndGet()).run();
        }

        void awaitServed(int more) {
            int target = tcp.get() + udp.get() + more;
            assertThat(Awaits.until(() -> tcp.get() + udp.get(), n -> n >= target, Duration.ofSeconds(60)))
                    .as("served after the restart").isGreaterThanOrEqualTo(target);
        }

        void close() throws InterruptedException {
            stop.set(true);
            for (Thread t : threads) {
                t.join(70_000);
            }
        }
    }

    private static ServiceManager.Child started(ServiceManager manager, boolean store) throws Exception {
        ServiceManager.Child c = manager.start(APP, "--sksteer.fd-store.enabled=" + store);
        assertThat(c.awaitOutput("Started FdStoreTestApp", Duration.ofSeconds(90))).as(c.output()).isTrue();
        return c;
    }

    private static Row measure(String restart, boolean store, boolean rolling) throws Exception {
        Loops loops = new Loops();
        try (ServiceManager manager = new ServiceManager(ns.path())) {
            ServiceManager.Child first = started(manager, store);
            loops.start();
            loops.awaitServed(200);
            // Counted from here: the steady state before is not part of the restart.
            loops.failed.set(0);
            loops.gap.set(0);
            loops.longestWait.set(0);
            int tcpBefore = loops.tcp.get();
            int udpBefore = loops.udp.get();
            ServiceManager.Child next;
            if (rolling) {
                next = started(manager, store);
                first.signal(SIGTERM);
                first.waitFor(Duration.ofSeconds(60));
            } else {
                first.signal(SIGTERM);
                first.waitFor(Duration.ofSeconds(60));
                next = started(manager, store);
            }
            loops.awaitServed(200);
            loops.close();
            next.signal(SIGTERM);
            next.waitFor(Duration.ofSeconds(60));
            return new Row(restart, loops.tcp.get() - tcpBefore, loops.udp.get() - udpBefore, loops.failed.get(), loops.gap.get(),
                    loops.longestWait.get());
        } finally {
            loops.close();
            Awaits.until(() -> ns.namespace().skLookupProgramIds(), List::isEmpty, Duration.ofSeconds(10));
        }
    }

    @Test
    void restartsColdRollingAndThroughTheDescriptorStore() throws Exception {
        List<Row> rows = List.of(
                measure("cold (SIGTERM, then a new start)", false, false),
                measure("rolling (new start, then SIGTERM to the old)", false, true),
                measure("descriptor store (SIGTERM, then a new start)", true, false));
        StringBuilder table = new StringBuilder("\n### Restarts, one service (RestartBenchmarkKernelTest)\n\n"
                + "| restart | TCP served | UDP served | refused, reset or lost | longest time without a TCP answer | longest wait of one connection |\n"
                + "|---|---|---|---|---|---|\n");
        for (Row r : rows) {
            table.append(String.format("| %s | %,d | %,d | %,d | %,d ms | %,d ms |%n", r.restart(), r.tcpServed(), r.udpServed(), r.failed(),
                    r.gapMs(), r.longestWaitMs()));
        }
        System.out.println(table);
        assertThat(rows.get(0).failed()).as("a cold restart refuses while nothing is attached").isPositive();
        assertThat(rows.get(1).failed()).as("rolling: %s", rows.get(1)).isZero();
        assertThat(rows.get(2).failed()).as("descriptor store: %s", rows.get(2)).isZero();
    }
}
