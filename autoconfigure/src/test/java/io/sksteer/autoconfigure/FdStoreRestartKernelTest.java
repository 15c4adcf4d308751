package io.sksteer.autoconfigure;

import static io.sksteer.testkit.TestSockets.addr;
import static org.assertj.core.api.Assertions.assertThat;

import io.sksteer.testkit.Awaits;
import io.sksteer.testkit.KernelTest;
import io.sksteer.testkit.ServiceManager;
import io.sksteer.testkit.TestNetns;
import io.sksteer.testkit.UdpRequestLoop;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A restart of one instance under a service manager's descriptor store ({@link ServiceManager}
 * does what systemd does with {@code FileDescriptorStoreMax=}): the first process binds its
 * listeners, attaches, and gives the store its link and sockets; it stops (SIGTERM) or dies
 * (SIGKILL); the next process is started with them, takes the sockets over and swaps its program
 * into the same link. Meanwhile the link stays attached and the sockets open in the store, so SYNs
 * and datagrams wait in their queues: a TCP loop and a UDP request loop run throughout and not one
 * connection is refused or reset, not one reply lost (with SIGKILL, only what the dying process
 * had read and not answered).
 */
@KernelTest
class FdStoreRestartKernelTest {

    private static final int SIGTERM = 15;
    private static final int SIGKILL = 9;

    @RegisterExtension
    static final TestNetns ns = TestNetns.perClass();

    private static ServiceManager.Child started(ServiceManager manager) throws Exception {
        ServiceManager.Child c = manager.start(FdStoreTestApp.class.getName());
        assertThat(c.awaitOutput("Started FdStoreTestApp", Duration.ofSeconds(90))).as(c.output()).isTrue();
        return c;
    }

    @ParameterizedTest(name = "the first process ended by signal {0}")
    @ValueSource(ints = {SIGTERM, SIGKILL})
    void theNextProcessTakesOverTheStoredSocketsAndLinkWithoutOneRefusedConnection(int signal) throws Exception {
        AtomicBoolean stop = new AtomicBoolean();
        AtomicInteger tcpOk = new AtomicInteger();
        AtomicInteger udpOk = new AtomicInteger();
        AtomicLong slowestTcpMs = new AtomicLong();
        ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
        ConcurrentLinkedQueue<String> servedBy = new ConcurrentLinkedQueue<>();
        List<Thread> loops = new java.util.concurrent.CopyOnWriteArrayList<>();
        try (ServiceManager manager = new ServiceManager(ns.path())) {
            ServiceManager.Child first = started(manager);
            assertThat(first.output()).contains("are kept in the service manager's descriptor store");
            assertThat(Awaits.until(manager::stored, s -> s.size() == 3, Duration.ofSeconds(5)))
                    .containsExactlyInAnyOrder("sksteer-link", "echo", "dns");
            int linkId = linkId(first.output());
            int firstProgram = onlyProgram();

            loops.addAll(ns.call(() -> List.of(
                    start(new Thread(() -> {
                        int n = 0;
                        while (!stop.get()) {
                            long t0 = System.nanoTime();
                            String line = tcp(addr("127.79.1." + (1 + n % 250), 1 + (n * 7919) % 65535));
                            n++;
                            if (line.startsWith("pid")) {
                                tcpOk.incrementAndGet();
                                slowestTcpMs.accumulateAndGet((System.nanoTime() - t0) / 1_000_000, Math::max);
                                String pid = line.substring(0, line.indexOf(' '));
                                if (!servedBy.contains(pid)) {
                                    servedBy.add(pid);
                                }
                            } else {
                                failures.add("tcp: " + line);
                            }
                        }
                    }, "tcp-loop")),
                    // A datagram sent while no process reads waits in the socket's queue: the
                    // reply comes once the next process runs, seconds later.
                    start(new Thread(new UdpRequestLoop(addr("127.79.2.53", 53), "q", 60_000, sr -> sr[1].endsWith(" " + sr[0]), stop,
                            udpOk::incrementAndGet, failures::add), "udp-loop")))));
            assertThat(Awaits.until(() -> tcpOk.get() > 20 && udpOk.get() > 20, ok -> ok, Duration.ofSeconds(20)))
                    .as("both loops served by the first process; failures: %s", failures).isTrue();

            first.signal(signal);
            first.waitFor(Duration.ofSeconds(60));
            assertThat(ns.namespace().skLookupProgramIds()).as("the stored link stays attached with no process running").hasSize(1);
            long stoppedAt = System.nanoTime();
            ServiceManager.Child second = started(manager);
            String secondPid = "pid" + second.pid();
            assertThat(second.output()).contains("swapped into inherited link " + linkId)
                    .containsAnyOf("inherited the sockets of [echo, dns]", "inherited the sockets of [dns, echo]");
            int served = tcpOk.get() + udpOk.get();
            Awaits.until(() -> tcpOk.get() + udpOk.get(), n -> n > served + 40, Duration.ofSeconds(20));
            long gapMs = (System.nanoTime() - stoppedAt) / 1_000_000;
            stop.set(true);
            for (Thread t : loops) {
                t.join(70_000);
            }
            int secondProgram = onlyProgram();
            System.out.println("[sksteer] FdStoreRestartKernelTest (signal " + signal + "): " + tcpOk.get() + " TCP connections and "
                    + udpOk.get() + " UDP replies, " + failures.size() + " failures " + failures + "; slowest TCP answer "
                    + slowestTcpMs.get() + " ms (the restart, ~" + gapMs + " ms)");
            assertThat(servedBy).as("served by the first process, then the second").contains(secondPid).hasSizeGreaterThan(1);
            if (signal == SIGTERM) {
                assertThat(failures).as("refused or reset connections, lost replies").isEmpty();
            } else {
                // What the killed process had accepted or read and not yet answered: one per loop at most.
                assertThat(failures.size()).as("failures: %s", failures).isLessThanOrEqualTo(2);
            }
            assertThat(linkId(second.output())).as("the same link, kept through the restart").isEqualTo(linkId);
            assertThat(secondProgram).as("running the new process's program").isNotEqualTo(firstProgram);
            second.signal(SIGTERM);
            second.waitFor(Duration.ofSeconds(60));
            assertThat(ns.namespace().skLookupProgramIds()).as("still kept by the store after the last stop").hasSize(1);
        } finally {
            stop.set(true);
            for (Thread t : loops) {
                t.join(70_000);
            }
        }
        // The service manager closed its store (a final stop): the link is gone with it.
        assertThat(Awaits.until(() -> ns.namespace().skLookupProgramIds(), List::isEmpty, Duration.ofSeconds(5))).isEmpty();
    }

    private static int onlyProgram() {
        List<Integer> ids = ns.namespace().skLookupProgramIds();
        assertThat(ids).hasSize(1);
        return ids.get(0);
    }

    /** The link id of the start line ("... attached to NETNS (link N) ..."). */
    private static int linkId(String output) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("\\(link (\\d+)\\)").matcher(output);
        assertThat(m.find()).as(output).isTrue();
        return Integer.parseInt(m.group(1));
    }

    private static Thread start(Thread t) {
        t.start();
        return t;
    }

    /** One connection: the line the listener sent, or what went wrong. */
    private static String tcp(java.net.InetSocketAddress target) {
        try (Socket s = new Socket()) {
            s.connect(target, 60_000);
            s.setSoTimeout(60_000);
            String line = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8)).readLine();
            return line == null ? "closed without an answer" : line;
        } catch (Exception e) {
            return e.toString();
        }
    }
}
