package io.sksteer.benchmarks;

import io.sksteer.bpf.KernelMap;
import io.sksteer.bpf.NetnsLink;
import io.sksteer.bpf.NetworkNamespace;
import io.sksteer.steering.DispatchTables;
import io.sksteer.steering.Dispatcher;
import io.sksteer.steering.RuleSet;
import io.sksteer.steering.SteeringRule;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Sections 3 and 4: how long it takes to go from a validated rule set to an attached program, how
 * much kernel memory the maps hold, and how long {@link Dispatcher#apply} takes for a change of
 * {@link Plan#change()} rules. Wall-clock times in this process ({@link System#nanoTime()}).
 */
final class ControlPlaneBenchmark {

    private final Plan plan;
    private final RuleMix mix;
    private final Listeners listeners;
    private final NetworkNamespace ns;
    private final PrintStream progress;

    ControlPlaneBenchmark(Plan plan, RuleMix mix, Listeners listeners, NetworkNamespace ns, PrintStream progress) {
        this.plan = plan;
        this.mix = mix;
        this.listeners = listeners;
        this.ns = ns;
        this.progress = progress;
    }

    void run(Report report) {
        int size = plan.startupSize();
        int fillers = size - RuleMix.PROBES.size();
        List<SteeringRule> baseList = new ArrayList<>();
        RuleMix.PROBES.forEach(p -> baseList.add(p.rule()));
        baseList.addAll(mix.fillers(0, fillers));

        // Validation (RuleSet.of: duplicates, conflicts, precedence order), which configuration
        // binding does before anything is created; reported apart from startup.
        long v0 = System.nanoTime();
        RuleSet base = RuleSet.of(baseList);
        double validateMs = ms(System.nanoTime() - v0);

        // Startup: maps created and filled, program loaded, sockets placed, link attached.
        List<Double> startMs = new ArrayList<>();
        Dispatcher kept = null;
        NetnsLink keptLink = null;
        long memlock = 0;
        Map<String, Long> perMap = new LinkedHashMap<>();
        try {
            for (int round = 0; round < plan.startupRounds(); round++) {
                progress.printf("startup: round %d of %d, %s rules%n", round + 1, plan.startupRounds(), Report.count(size));
                long t0 = System.nanoTime();
                Dispatcher d = Dispatcher.create(base, plan.capacity(), RuleMix.SLOTS, true);
                NetnsLink link;
                try {
                    listeners.fill(d.sockets(), RuleMix.SLOTS);
                    link = NetnsLink.attach(d.program(), ns);
                } catch (RuntimeException e) {
                    d.close();
                    throw e;
                }
                startMs.add(ms(System.nanoTime() - t0));
                if (round == 0) {
                    memlock = 0;
                    for (KernelMap m : d.maps()) {
                        long bytes = m.memlockBytes();
                        perMap.put(m.name(), bytes);
                        memlock += Math.max(0, bytes);
                    }
                }
                if (kept != null) {
                    keptLink.close();
                    kept.close();
                }
                kept = d;
                keptLink = link;
            }

            // The tables of these rules built alone in Java and copied out (DispatchTables.compute);
            // creation builds the same tables in place, while the program loads.
            long c0 = System.nanoTime();
            DispatchTables.compute(base, i -> 0, l -> 0, plan.capacity());
            double computeMs = ms(System.nanoTime() - c0);

            Report.Table startup = report.table("Startup (wall clock in this JVM)", "measure", "value");
            startup.row("rules", Report.count(size) + " (capacity " + Report.count(plan.capacity()) + ")");
            startup.row("validation, RuleSet.of (before startup, not counted)", Report.fmt1(validateMs) + " ms");
            startup.row("start → attached, first in this JVM", Report.fmt1(startMs.get(0)) + " ms");
            startup.row("start → attached, median of " + startMs.size(), Report.fmt1(Report.median(startMs)) + " ms");
            startup.row("DispatchTables.compute alone (Java, for comparison)", Report.fmt1(computeMs) + " ms");
            startup.row("kernel memory of the maps (memlock)", Report.fmt1(memlock / 1048576.0) + " MiB");
            startup.note("start → attached = Dispatcher.create(rules, capacity, slots, true) + listeners into the SOCKMAP"
                    + " + NetnsLink.attach to the benchmark's namespace.");
            startup.note("memlock per map (KiB): " + kib(perMap));
            report.atMost("start → attached with " + Report.count(size) + " rules ≤ 1 s", "first in this JVM, seconds",
                    startMs.get(0) / 1000, 1.0);

            update(report, kept, base);
        } finally {
            if (keptLink != null) {
                keptLink.close();
            }
            if (kept != null) {
                kept.close();
            }
        }
    }

    /** Four live updates per round, each of {@link Plan#change()} rules, on the attached dispatcher. */
    private void update(Report report, Dispatcher d, RuleSet base) {
        int fillers = plan.startupSize() - RuleMix.PROBES.size();
        List<SteeringRule> extra = mix.fillers(fillers, fillers + plan.change());
        List<SteeringRule> plusList = new ArrayList<>(base.rules());
        plusList.addAll(extra);
        RuleSet plus = RuleSet.of(plusList);
        List<SteeringRule> swapList = new ArrayList<>();
        RuleMix.PROBES.forEach(p -> swapList.add(p.rule()));
        swapList.addAll(mix.fillers(plan.change(), fillers));
        swapList.addAll(extra);
        RuleSet swap = RuleSet.of(swapList);

        List<SteeringRule> swapped = mix.fillers(0, plan.change());

        Map<String, List<Double>> times = new LinkedHashMap<>();
        Map<String, List<Double>> changeTimes = new LinkedHashMap<>();
        String add = "add " + Report.count(plan.change()) + " rules to " + Report.count(base.size());
        String remove = "remove " + Report.count(plan.change()) + " rules from " + Report.count(plus.size());
        String replace = "replace " + Report.count(plan.change()) + " of " + Report.count(base.size()) + " rules";
        for (int round = 0; round < plan.updateRounds(); round++) {
            progress.printf("update: round %d of %d%n", round + 1, plan.updateRounds());
            time(times, add, () -> d.apply(plus));
            time(times, remove, () -> d.apply(base));
            time(times, replace, () -> d.apply(swap));
            time(times, replace, () -> d.apply(base));
            time(changeTimes, add, () -> d.change(List.of(), extra));
            time(changeTimes, remove, () -> d.change(extra, List.of()));
            time(changeTimes, replace, () -> d.change(swapped, extra));
            time(changeTimes, replace, () -> d.change(extra, swapped));
        }
        if (!sameRules(d.rules(), base)) {
            throw new IllegalStateException("after the updates the dispatcher does not hold the base rules");
        }
        long c0 = System.nanoTime();
        DispatchTables.compute(plus, i -> 0, l -> 0, plan.capacity());
        double computeMs = ms(System.nanoTime() - c0);

        Report.Table c = report.table("Live update, Dispatcher.change: the rules removed and added (wall clock, program attached)",
                "change", "median ms", "min ms", "max ms", "changes");
        rows(c, changeTimes);
        c.note("the live-changes API: validation of the rules touched, the next rule set, tables and map writes, all counted.");
        Report.Table t = report.table("Live update, Dispatcher.apply: the whole next rule set (wall clock, program attached)",
                "change", "median ms", "min ms", "max ms", "applies");
        rows(t, times);
        t.note("the next rule set is validated (RuleSet.of) before and not counted; apply compares every rule with those in"
                + " force, then changes what differs.");
        t.note("DispatchTables.compute for " + Report.count(plus.size()) + " rules (Java, once), for comparison: "
                + Report.fmt1(computeMs) + " ms.");
        for (Map.Entry<String, List<Double>> e : changeTimes.entrySet()) {
            report.atMost("apply a change of " + Report.count(plan.change()) + " rules ≤ 100 ms", e.getKey()
                    + " (Dispatcher.change), median seconds", Report.median(e.getValue()) / 1000, 0.1);
        }
    }

    private static void rows(Report.Table t, Map<String, List<Double>> times) {
        for (Map.Entry<String, List<Double>> e : times.entrySet()) {
            List<Double> v = e.getValue();
            t.row(e.getKey(), Report.fmt1(Report.median(v)), Report.fmt1(v.stream().mapToDouble(x -> x).min().orElse(0)),
                    Report.fmt1(v.stream().mapToDouble(x -> x).max().orElse(0)), v.size());
        }
    }

    private static boolean sameRules(RuleSet a, RuleSet b) {
        if (a.size() != b.size()) {
            return false;
        }
        for (int i = 0; i < a.size(); i++) {
            if (!a.rules().get(i).sameAs(b.rules().get(i))) {
                return false;
            }
        }
        return true;
    }

    private static void time(Map<String, List<Double>> times, String name, Runnable change) {
        long t0 = System.nanoTime();
        change.run();
        times.computeIfAbsent(name, k -> new ArrayList<>()).add(ms(System.nanoTime() - t0));
    }

    private static double ms(long nanos) {
        return nanos / 1e6;
    }

    private static String kib(Map<String, Long> perMap) {
        StringBuilder b = new StringBuilder();
        perMap.forEach((name, bytes) -> b.append(b.length() == 0 ? "" : ", ").append(name).append(' ')
                .append(bytes < 0 ? "?" : Report.count(Math.round(bytes / 1024.0))));
        return b.toString();
    }
}
