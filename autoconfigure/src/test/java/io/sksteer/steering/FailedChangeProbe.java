package io.sksteer.steering;

import io.sksteer.bpf.internal.SeccompLauncher;
import io.sksteer.bpf.sklookup.Protocol;
import io.sksteer.bpf.sklookup.SkLookupContext;
import io.sksteer.bpf.sklookup.SkLookupTestRun;
import io.sksteer.bpf.sklookup.Verdict;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;

/**
 * Run in a child JVM by {@link FailedChangeKernelTest}: creates a dispatcher (not attached), then
 * makes {@code BPF_MAP_UPDATE_BATCH} fail with ENOMEM for the rest of the process and applies a
 * change that needs it. Prints one line per finding, each starting with {@link #RESULT}. With no
 * socket in the SOCKMAP and drop-on-missing set, a test run's verdict says whether a rule
 * matched (DROP) or none did (PASS).
 */
public final class FailedChangeProbe {

    public static final String RESULT = "PROBE-RESULT: ";
    private static final int BPF_MAP_UPDATE_BATCH = 26;
    private static final int ENOMEM = 12;

    private FailedChangeProbe() {
    }

    public static void main(String[] args) {
        RuleSet before = RuleSet.of(List.of(rule("127.77.1.0/24", "80")));
        // A wide range goes into the summaries hash, written with BPF_MAP_UPDATE_BATCH.
        RuleSet after = RuleSet.of(List.of(rule("127.77.1.0/24", "80"), rule("127.88.0.0/24", "1000-2000")));
        try (Dispatcher d = Dispatcher.create(before, 64, Map.of("web", 0), true)) {
            print("before: 127.77.1.5:80 " + verdict(d, "127.77.1.5", 80) + ", 127.88.0.5:1500 " + verdict(d, "127.88.0.5", 1500));
            SeccompLauncher.install(BPF_MAP_UPDATE_BATCH, ENOMEM);
            try {
                d.apply(after);
                print("the change went through");
            } catch (RuntimeException e) {
                print("the change failed: " + e.getMessage());
            }
            print("failure: " + d.failure().orElse("none"));
            print("rules in force: " + d.rules().size());
            print("after: 127.77.1.5:80 " + verdict(d, "127.77.1.5", 80) + ", 127.88.0.5:1500 " + verdict(d, "127.88.0.5", 1500));
            try {
                d.apply(before);
                print("a further change went through");
            } catch (IllegalStateException e) {
                print("a further change was refused: " + e.getMessage());
            }
        } catch (RuntimeException e) {
            print("unexpected: " + e);
        }
        System.out.flush();
    }

    private static SteeringRule rule(String prefix, String ports) {
        return new SteeringRule(Protocol.TCP, Prefix.parse(prefix, "test"), PortSpec.parse(ports, "test"), "web", "test");
    }

    private static Verdict verdict(Dispatcher d, String address, int port) {
        return SkLookupTestRun.run(d.program(), new SkLookupContext(Protocol.TCP, new InetSocketAddress(address, port),
                new InetSocketAddress("127.0.0.1", 40000)), 1).verdict();
    }

    private static void print(String line) {
        System.out.println(RESULT + line);
    }
}
