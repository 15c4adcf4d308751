package io.sksteer.benchmarks;

import io.sksteer.bpf.BpfFeatures;
import io.sksteer.bpf.NetworkNamespace;
import io.sksteer.bpf.sklookup.Protocol;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs every benchmark once and prints one Markdown report (docs/benchmarks.md explains it):
 *
 * <pre>
 *   java -jar benchmarks/target/sksteer-benchmarks.jar           # the full run, a few minutes
 *   java -jar benchmarks/target/sksteer-benchmarks.jar --smoke   # tiny sizes, seconds; figures mean nothing
 * </pre>
 *
 * <p>Needs root (or CAP_BPF, CAP_NET_ADMIN and CAP_SYS_ADMIN). Everything happens in network
 * namespaces this program creates; nothing is attached to the machine's own namespace, which the
 * report checks at the end. The report goes to standard output, progress to standard error.
 */
public final class Benchmarks {

    private Benchmarks() {
    }

    public static void main(String[] args) {
        boolean smoke = false;
        for (String a : args) {
            if (a.equals("--smoke")) {
                smoke = true;
            } else {
                System.err.println("usage: java -jar sksteer-benchmarks.jar [--smoke]");
                System.exit(2);
            }
        }
        int status;
        try {
            run(smoke ? Plan.smoke() : Plan.full(), System.err).print(System.out);
            status = 0;
        } catch (RuntimeException | Error e) {
            System.err.println("benchmarks failed: " + e.getMessage());
            e.printStackTrace();
            status = 1;
        }
        // Event-loop threads of Netty and JNA's cleaner must not keep the JVM alive.
        System.exit(status);
    }

    /** Runs every section of {@code plan}; progress lines go to {@code progress}. */
    static Report run(Plan plan, PrintStream progress) {
        for (var f : List.of(BpfFeatures.bpfSyscall(), BpfFeatures.skLookup(), BpfFeatures.sockMap(),
                BpfFeatures.skLookupTestRun())) {
            f.ensureAvailable();
        }
        Report report = new Report();
        report.header("## sksteer benchmarks" + (plan.smokeMode() ? " (SMOKE MODE: tiny sizes, the figures mean nothing)" : ""));
        report.header("");
        report.header("- machine: " + cpuModel() + ", " + Runtime.getRuntime().availableProcessors() + " cores, Linux "
                + read("/proc/sys/kernel/osrelease") + ", Java " + System.getProperty("java.version"));
        report.header("- run: " + Instant.now().truncatedTo(ChronoUnit.SECONDS) + ", rule mix seed " + RuleMix.SEED);

        List<Integer> hostBefore = hostPrograms();
        long t0 = System.nanoTime();
        progress.printf("generating %s filler rules%n", Report.count(plan.fillersNeeded()));
        RuleMix mix = RuleMix.generate(plan.fillersNeeded());

        Map<String, Protocol> protocols = new LinkedHashMap<>();
        protocols.put(RuleMix.WEB, Protocol.TCP);
        protocols.put(RuleMix.API, Protocol.TCP);
        protocols.put(RuleMix.DNS, Protocol.UDP);
        try (NetworkNamespace ns = NetworkNamespace.create();
                Listeners listeners = Listeners.bind(ns, protocols)) {
            // Startup first: its first round is the first dispatcher of this JVM.
            timed(progress, "startup and live update",
                    () -> new ControlPlaneBenchmark(plan, mix, listeners, ns, progress).run(report));
            timed(progress, "dispatch cost", () -> new DispatchBenchmark(plan, mix, listeners, progress).run(report));
        }
        timed(progress, "end to end", () -> new EndToEndBenchmark(plan, progress).run(report));
        timed(progress, "web server", () -> new WebServerBenchmark(plan, progress).run(report));

        List<Integer> hostAfter = hostPrograms();
        if (!hostAfter.equals(hostBefore)) {
            throw new IllegalStateException("sk_lookup programs on this machine's own namespace changed during the run: "
                    + hostBefore + " before, " + hostAfter + " after");
        }
        report.header("- duration: " + Math.round((System.nanoTime() - t0) / 1e9) + " s; sk_lookup programs on the"
                + " machine's own namespace before and after: " + hostBefore + " (unchanged)");
        return report;
    }

    private static void timed(PrintStream progress, String section, Runnable run) {
        long t0 = System.nanoTime();
        run.run();
        progress.printf("%s: done in %d s%n", section, Math.round((System.nanoTime() - t0) / 1e9));
    }

    private static List<Integer> hostPrograms() {
        try (NetworkNamespace host = NetworkNamespace.ofProcess()) {
            return host.skLookupProgramIds();
        }
    }

    private static String cpuModel() {
        for (String line : read("/proc/cpuinfo").split("\n")) {
            if (line.startsWith("model name")) {
                return line.substring(line.indexOf(':') + 1).trim();
            }
        }
        return System.getProperty("os.arch");
    }

    private static String read(String path) {
        try {
            return Files.readString(Path.of(path)).trim();
        } catch (IOException e) {
            return "?";
        }
    }
}
