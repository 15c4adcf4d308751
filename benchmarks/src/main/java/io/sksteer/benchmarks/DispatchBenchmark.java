package io.sksteer.benchmarks;

import io.sksteer.bpf.BpfProgram;
import io.sksteer.bpf.sklookup.Protocol;
import io.sksteer.bpf.sklookup.SkLookupContext;
import io.sksteer.bpf.sklookup.SkLookupTestRun;
import io.sksteer.bpf.sklookup.Verdict;
import io.sksteer.steering.DispatchTables;
import io.sksteer.steering.Dispatcher;
import io.sksteer.steering.RuleSet;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Section 1: what one socket lookup costs the kernel with sksteer's dispatcher, against an empty
 * program, the floor (SOCKMAP lookup + sk_assign + sk_release) and a tubular-style LPM dispatcher
 * on the same rules. Every figure is the kernel's own mean time per run of BPF_PROG_TEST_RUN over
 * {@link Plan#repeat()} runs; each lookup is measured {@link Plan#runs()} times, the runs of all
 * lookups interleaved, and the median is reported.
 */
final class DispatchBenchmark {

    /**
     * A measured lookup.
     *
     * @param name as the table shows it
     * @param protocol TCP or UDP
     * @param address the destination address
     * @param port the destination port
     * @param listener the listener a hit selects, or {@code null} for a miss
     * @param aloneWith the probe whose rule alone forms the 1-rule set this lookup runs against
     */
    record Lookup(String name, Protocol protocol, String address, int port, String listener, RuleMix.Probe aloneWith) {

        boolean hit() {
            return listener != null;
        }

        boolean ipv4() {
            return !address.contains(":");
        }

        String family() {
            return protocol.name().toLowerCase() + (ipv4() ? "4" : "6");
        }

        SkLookupContext context() {
            InetSocketAddress remote = new InetSocketAddress(ipv4() ? "127.0.0.1" : "::1", 40000);
            return new SkLookupContext(protocol, new InetSocketAddress(address, port), remote);
        }
    }

    static final List<Lookup> LOOKUPS = lookups();

    private static List<Lookup> lookups() {
        List<Lookup> out = new ArrayList<>();
        for (RuleMix.Probe p : RuleMix.PROBES) {
            out.add(new Lookup(p.name(), p.rule().protocol(), p.address(), p.port(), p.rule().listener(), p));
        }
        // Misses. "Outside": an address in no rule's prefix, in an address bucket holding no
        // rule. "Near": an address in the /16 (IPv4) or /32 (IPv6) of rules but in no rule's
        // prefix. Port 9 is named by no rule (though with any 'all' rule every port is covered).
        out.add(new Lookup("miss tcp4 outside every prefix, unnamed port", Protocol.TCP, "192.0.2.1", 9, null, RuleMix.TCP4_32));
        out.add(new Lookup("miss tcp4 outside every prefix, port 443", Protocol.TCP, "192.0.2.1", 443, null, RuleMix.TCP4_32));
        out.add(new Lookup("miss tcp4 near (rules' /16), port 443", Protocol.TCP, "10.77.3.3", 443, null, RuleMix.TCP4_32));
        out.add(new Lookup("miss tcp6 outside every prefix, unnamed port", Protocol.TCP, "fd00::1", 9, null, RuleMix.TCP6_128));
        out.add(new Lookup("miss tcp6 outside every prefix, port 443", Protocol.TCP, "fd00::1", 443, null, RuleMix.TCP6_128));
        out.add(new Lookup("miss tcp6 near (rules' /32), port 443", Protocol.TCP, "2001:db8:77:3::3", 443, null, RuleMix.TCP6_128));
        return List.copyOf(out);
    }

    /** The baselines' lookups: one per protocol and family the probes use. */
    static final List<Lookup> BASELINE_LOOKUPS = List.of(
            LOOKUPS.get(RuleMix.PROBES.indexOf(RuleMix.TCP4_32)),
            LOOKUPS.get(RuleMix.PROBES.indexOf(RuleMix.TCP6_128)),
            LOOKUPS.get(RuleMix.PROBES.indexOf(RuleMix.UDP4_32)));

    /** One program run on one lookup, measured {@code runs} times. */
    private record Cell(String key, BpfProgram program, SkLookupContext context, long expectedCookie, List<Integer> ns) {
    }

    private final Plan plan;
    private final RuleMix mix;
    private final Listeners listeners;
    private final PrintStream progress;

    DispatchBenchmark(Plan plan, RuleMix mix, Listeners listeners, PrintStream progress) {
        this.plan = plan;
        this.mix = mix;
        this.listeners = listeners;
        this.progress = progress;
    }

    void run(Report report) {
        List<AutoCloseable> made = new ArrayList<>();
        try {
            Map<String, Cell> cells = new LinkedHashMap<>();
            Map<String, Integer> lpmEntries = new LinkedHashMap<>();
            occupancy.clear();

            // Baselines.
            Baselines baselines = Baselines.load(RuleMix.SLOTS.size());
            made.add(baselines);
            listeners.fill(baselines.sockets(), RuleMix.SLOTS);
            for (Lookup l : BASELINE_LOOKUPS) {
                cell(cells, "empty|" + l.family(), baselines.empty(), l, 0);
                cell(cells, "floor|" + l.family(), baselines.floor(RuleMix.SLOTS.get(l.listener())), l,
                        listeners.cookie(l.listener()));
            }

            // Both dispatchers at every size. A 1-rule set is the one probe rule the lookup is about.
            for (int size : plan.sizes()) {
                Map<RuleMix.Probe, Programs> bySet = new LinkedHashMap<>();
                for (Lookup l : LOOKUPS) {
                    RuleMix.Probe key = size == 1 ? l.aloneWith() : null;
                    Programs programs = bySet.get(key);
                    if (programs == null) {
                        RuleSet rules = size == 1 ? RuleSet.of(List.of(key.rule())) : mix.withProbes(size);
                        progress.printf("dispatch: loading both dispatchers with %s rules%n", Report.count(rules.size()));
                        programs = Programs.create(rules, listeners);
                        made.add(programs);
                        bySet.put(key, programs);
                        lpmEntries.merge(Integer.toString(size), programs.lpm().entries(), Math::max);
                        if (size > 1) {
                            occupancy.put(size, occupancy(rules, programs.dispatcher()));
                        }
                    }
                    long cookie = l.hit() ? listeners.cookie(l.listener()) : 0;
                    cell(cells, "sksteer|" + size + "|" + l.name(), programs.dispatcher().program(), l, cookie);
                    cell(cells, "lpm|" + size + "|" + l.name(), programs.lpm().program(), l, cookie);
                }
            }

            // Every program must decide as expected before its time counts.
            for (Cell c : cells.values()) {
                SkLookupTestRun r = SkLookupTestRun.run(c.program(), c.context(), 1);
                if (r.verdict() != Verdict.PASS || r.cookie() != c.expectedCookie()) {
                    throw new IllegalStateException(c.key() + ": expected SK_PASS selecting cookie " + c.expectedCookie()
                            + ", got " + r.verdict() + " selecting " + r.cookie());
                }
            }

            // Interleaved runs: a slow moment of the machine spreads over all cells, not one.
            for (int run = 0; run < plan.runs(); run++) {
                progress.printf("dispatch: run %d of %d (%d lookups × %s repetitions)%n", run + 1, plan.runs(), cells.size(),
                        Report.count(plan.repeat()));
                for (Cell c : cells.values()) {
                    c.ns().add(SkLookupTestRun.run(c.program(), c.context(), plan.repeat()).nsPerRun());
                }
            }
            tabulate(report, cells, lpmEntries);
        } finally {
            for (int i = made.size() - 1; i >= 0; i--) {
                try {
                    made.get(i).close();
                } catch (Exception e) {
                    progress.println("dispatch: closing failed: " + e);
                }
            }
        }
    }

    private final Map<Integer, String> occupancy = new LinkedHashMap<>();

    /**
     * How often a miss near rules pays probes: the share of address-bucket words taken per
     * protocol family (an address probes when both its words are taken, about the square), and
     * how many table entries overflowed into the hash.
     */
    private static String occupancy(RuleSet rules, Dispatcher d) {
        DispatchTables t = DispatchTables.compute(rules, i -> 0, l -> 0, Math.max(rules.size(), 8));
        int bits = t.bucketBits();
        StringBuilder out = new StringBuilder();
        String[] names = {"tcp4", "tcp6", "udp4", "udp6"};
        for (int pf = 0; pf < 4; pf++) {
            int taken = 0;
            for (int i = 0; i < 1 << bits; i++) {
                if (t.buckets()[pf << bits | i] != 0) {
                    taken++;
                }
            }
            double share = (double) taken / (1 << bits);
            out.append(names[pf]).append(' ').append(String.format(java.util.Locale.ROOT, "%.1f %% (≈ %.2f %%)", 100 * share,
                    100 * share * share)).append(", ");
        }
        return out.append("table entries in the overflow hash: ").append(d.lastApply().overflowing()).toString();
    }

    private void cell(Map<String, Cell> cells, String key, BpfProgram program, Lookup l, long cookie) {
        cells.put(key, new Cell(key, program, l.context(), cookie, new ArrayList<>()));
    }

    private void tabulate(Report report, Map<String, Cell> cells, Map<String, Integer> lpmEntries) {
        String method = "BPF_PROG_TEST_RUN, kernel ns per run, median of " + plan.runs() + " runs × "
                + Report.count(plan.repeat()) + " repetitions";
        Report.Table base = report.table("Dispatch baselines (" + method + ")", "program", "lookup", "ns");
        for (Lookup l : BASELINE_LOOKUPS) {
            base.row("empty (returns SK_PASS)", l.family() + " " + l.address() + ":" + l.port(), fmt(ns(cells, "empty|" + l.family())));
        }
        for (Lookup l : BASELINE_LOOKUPS) {
            base.row("floor (SOCKMAP lookup + sk_assign + sk_release)", l.family() + " " + l.address() + ":" + l.port(),
                    fmt(ns(cells, "floor|" + l.family())));
        }

        Report.Table t = report.table("Dispatch cost per lookup (" + method + ")", "lookup", "rules", "sksteer ns",
                "LPM ns", "sksteer ÷ floor", "sksteer ÷ LPM", "sksteer ÷ empty");
        for (Lookup l : LOOKUPS) {
            for (int size : plan.sizes()) {
                double s = ns(cells, "sksteer|" + size + "|" + l.name());
                double lpm = ns(cells, "lpm|" + size + "|" + l.name());
                double floor = ns(cells, "floor|" + l.family());
                double empty = ns(cells, "empty|" + l.family());
                t.row(l.name(), Report.count(size), fmt(s), fmt(lpm), l.hit() ? Report.fmt2(s / floor) : "",
                        Report.fmt2(s / lpm), l.hit() ? "" : Report.fmt2(s / empty));
            }
        }
        t.note("Lookups: " + describeLookups());
        t.note("Rules: a 1-rule set is the rule the lookup is about (for misses: the tcp4 /32 or tcp6 /128 probe);"
                + " larger sets are the " + RuleMix.PROBES.size() + " probe rules plus fillers of the mix described in"
                + " docs/benchmarks.md (seed " + RuleMix.SEED + ").");
        t.note("LPM: tubular-style trie, ranges expanded to one entry per port; trie entries per size: " + lpmEntries + ".");
        t.note("Floor and empty are the baselines of the lookup's protocol and family; the kernel reports whole ns.");
        occupancy.forEach((size, text) -> t.note("Address-bucket words taken at " + Report.count(size)
                + " rules (≈ chance that an address near rules but in none of their prefixes probes): " + text + "."));

        int largest = plan.largest();
        String at = " at " + Report.count(largest) + " rules";
        for (Lookup l : LOOKUPS) {
            double s = ns(cells, "sksteer|" + largest + "|" + l.name());
            if (l.hit()) {
                report.atMost("hit" + at + " ≤ 2.0 × floor", l.name(), s / ns(cells, "floor|" + l.family()), 2.0);
                report.atMost("hit" + at + " ≤ 0.5 × LPM", l.name(), s / ns(cells, "lpm|" + largest + "|" + l.name()), 0.5);
            }
        }
        for (Lookup l : LOOKUPS) {
            if (!l.hit()) {
                double s = ns(cells, "sksteer|" + largest + "|" + l.name());
                report.atMost("miss" + at + " ≤ 1.5 × empty", l.name(), s / ns(cells, "empty|" + l.family()), 1.5);
            }
        }
        for (Lookup l : LOOKUPS) {
            if (l.hit()) {
                double big = ns(cells, "sksteer|" + largest + "|" + l.name());
                double one = ns(cells, "sksteer|1|" + l.name());
                report.atMost("hit " + Report.count(largest) + " rules ÷ hit 1 rule ≤ 1.2", l.name(), big / one, 1.2);
            }
        }
    }

    private static String describeLookups() {
        StringBuilder b = new StringBuilder();
        for (Lookup l : LOOKUPS) {
            if (b.length() > 0) {
                b.append("; ");
            }
            b.append(l.name()).append(" = ").append(l.ipv4() ? l.address() : "[" + l.address() + "]").append(':').append(l.port());
            if (l.hit()) {
                b.append(" (rule ").append(l.aloneWith().rule().describe()).append(')');
            }
        }
        return b.toString();
    }

    private static double ns(Map<String, Cell> cells, String key) {
        Cell c = cells.get(key);
        if (c == null) {
            throw new IllegalStateException("no measurement " + key);
        }
        return Report.median(c.ns());
    }

    private static String fmt(double ns) {
        return ns == Math.rint(ns) ? Long.toString((long) ns) : Report.fmt1(ns);
    }

    /** sksteer's dispatcher and the LPM dispatcher over one rule set, with the listeners in their SOCKMAPs. */
    record Programs(Dispatcher dispatcher, LpmDispatcher lpm) implements AutoCloseable {

        static Programs create(RuleSet rules, Listeners listeners) {
            Dispatcher d = Dispatcher.create(rules, Math.max(rules.size(), 8), RuleMix.SLOTS, true);
            try {
                listeners.fill(d.sockets(), RuleMix.SLOTS);
                LpmDispatcher lpm = LpmDispatcher.create(rules, RuleMix.SLOTS);
                try {
                    listeners.fill(lpm.sockets(), RuleMix.SLOTS);
                    return new Programs(d, lpm);
                } catch (RuntimeException e) {
                    lpm.close();
                    throw e;
                }
            } catch (RuntimeException e) {
                d.close();
                throw e;
            }
        }

        @Override
        public void close() {
            try {
                lpm.close();
            } finally {
                dispatcher.close();
            }
        }
    }
}
