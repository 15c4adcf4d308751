package io.sksteer.steering;

import io.sksteer.steering.DispatchTables.Key;
import io.sksteer.steering.DispatchTables.Length;
import io.sksteer.steering.DispatchTables.Summary;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToIntFunction;
import io.sksteer.steering.GroupEntries.Change;
import io.sksteer.steering.GroupEntries.Entries;

/**
 * The dispatcher's tables ({@link DispatchTables} describes their layout), kept up to date one
 * change at a time: a change recomputes the entries of the prefixes it touches and nothing else,
 * so its cost follows the size of the change, not of the rule set.
 *
 * <p>A <em>group</em> is the rules of one protocol family and prefix; its entries (single-port
 * entries, the port-0 entry, the summary) depend on its rules only, apart from the singles
 * budget, which all groups share. The gates, length lists and bucket words are derived from
 * counts kept across changes.
 */
final class TableState {

    /** A rule in force and its counter index. */
    record Member(SteeringRule rule, int id) {
    }

    private static final class Group {
        final int pf;
        final Prefix prefix;
        List<Member> members = List.of();
        Entries entries = Entries.NONE;

        Group(int pf, Prefix prefix) {
            this.pf = pf;
            this.prefix = prefix;
        }
    }

    private final int bucketBits;
    private final int budget;
    private final int[] ports = new int[DispatchLayout.PORT_ENTRIES];
    private final BucketWords words;
    private final long[] globals = new long[4];
    private final List<List<Length>> lengths = new ArrayList<>(List.of(List.of(), List.of(), List.of(), List.of()));
    /** Keyed by the prefix's port-0 key; in the order groups first appeared. */
    private Map<Key, Group> groups = new LinkedHashMap<>();
    /** Per protocol family, a difference array of how many rules cover each port. */
    private final int[][] coverage = new int[4][DispatchLayout.PORT_ENTRIES + 1];
    /** Per protocol family and port, how many single-port entries have that port. */
    private final int[][] singlePorts = new int[4][DispatchLayout.PORT_ENTRIES];
    /** Per protocol family and prefix length: groups, groups with single-port entries, with port-0 entries. */
    private final int[][][] lengthCounts = new int[4][129][3];
    /** Single-port entries in all groups, what the budget limits. */
    private int portEntries;

    TableState(int maxRules) {
        this.bucketBits = DispatchTables.bucketBits(maxRules);
        this.budget = DispatchTables.singlesBudget(maxRules);
        this.words = new BucketWords(bucketBits, maxRules);
    }

    int bucketBits() {
        return bucketBits;
    }

    /** The port gate words (read only). */
    int[] ports() {
        return ports;
    }

    /** The bucket words (read only). */
    long[] buckets() {
        return words.words();
    }

    long[] globals() {
        return globals;
    }

    List<Length> lengths(int pf) {
        return lengths.get(pf);
    }

    /** Every single-port and port-0 entry in force, group by group. */
    Map<Key, Long> singles() {
        Map<Key, Long> all = new LinkedHashMap<>();
        groups.forEach((base, g) -> {
            Entries e = g.entries;
            for (int i = 0; i < e.ports().length; i++) {
                all.put(base.withPort(e.ports()[i]), e.targets()[i]);
            }
            if (e.port0() != DispatchLayout.NO_TARGET) {
                all.put(base, e.port0());
            }
        });
        return all;
    }

    Map<Key, Summary> summaries() {
        Map<Key, Summary> all = new LinkedHashMap<>();
        groups.forEach((base, g) -> {
            if (g.entries.summary() != null) {
                all.put(base, g.entries.summary());
            }
        });
        return all;
    }

    static Key groupKey(SteeringRule r) {
        return Key.of(DispatchTables.pf(r.protocol(), r.prefix().isIpv4()), r.prefix(), 0);
    }

    /**
     * Removes {@code removed} (members in force) and adds {@code added} (members not in force,
     * with ids no member in force has), returning the entries that changed. Added members are
     * best given in precedence order: a new entry then takes a table way before less specific
     * ones.
     *
     * @throws InvalidRuleException if the result exceeds a limit; nothing changes then
     */
    Change update(Collection<Member> removed, Collection<Member> added, ToIntFunction<String> slot) {
        return update(removed, added, slot, false);
    }

    /**
     * As {@link #update(Collection, Collection, ToIntFunction)}, checking first, if {@code
     * checkConflicts}, that the rules of each prefix an addition touches do not conflict
     * ({@link RuleSet}).
     */
    Change update(Collection<Member> removed, Collection<Member> added, ToIntFunction<String> slot, boolean checkConflicts) {
        // 1. The touched groups' next members, and their entries, without changing anything.
        Map<Key, Touched> touched = touch(removed, added);
        int entriesAfter = checkLimits(touched.values(), checkConflicts);
        for (Touched t : touched.values()) {
            t.entries = t.members.isEmpty() ? Entries.NONE : GroupEntries.entries(t.members, slot, budget - entriesAfter);
            entriesAfter -= singlePortRules(t.members);
            entriesAfter += t.entries.ports().length;
        }
        // 2. Commit: nothing below throws.
        return commit(touched, removed, added);
    }

    /** A group an update touches: its next members and entries ({@code group} null: a new group). */
    private static final class Touched {
        final Key key;
        final Group group;
        final List<Member> members;
        boolean grown;
        Entries entries;

        Touched(Key key, Group group) {
            this.key = key;
            this.group = group;
            this.members = group == null ? new ArrayList<>(2) : new ArrayList<>(group.members);
        }
    }

    private Map<Key, Touched> touch(Collection<Member> removed, Collection<Member> added) {
        Map<Key, Touched> touched = new LinkedHashMap<>(Math.max(16, (added.size() + removed.size()) * 4 / 3 + 1));
        for (Member m : added) {
            Touched t = touched.computeIfAbsent(groupKey(m.rule()), k -> new Touched(k, groups.get(k)));
            t.members.add(m);
            t.grown = true;
        }
        for (Member m : removed) {
            Touched t = touched.computeIfAbsent(groupKey(m.rule()), k -> new Touched(k, groups.get(k)));
            if (!t.members.removeIf(x -> x.id() == m.id())) {
                throw new IllegalArgumentException("not in force: " + m.rule().describe());
            }
        }
        return touched;
    }

    private static int singlePortRules(List<Member> members) {
        int n = 0;
        for (Member m : members) {
            n += m.rule().ports().rank() == 0 ? 1 : 0;
        }
        return n;
    }

    /**
     * Sorts grown groups' members, checks their conflicts (if asked) and the distinct lengths per
     * protocol family, and returns the single-port entries after the update, counting the touched
     * groups' true single ports only (narrow ranges are expanded within what they leave).
     */
    private int checkLimits(Collection<Touched> touched, boolean checkConflicts) {
        int[][] groupsByLength = new int[4][];
        for (int pf = 0; pf < 4; pf++) {
            groupsByLength[pf] = new int[129];
            for (int length = 0; length <= 128; length++) {
                groupsByLength[pf][length] = lengthCounts[pf][length][0];
            }
        }
        int entriesAfter = portEntries;
        for (Touched t : touched) {
            if (t.grown) {
                t.members.sort((a, b) -> SteeringRule.PRECEDENCE.compare(a.rule(), b.rule()));
                if (checkConflicts) {
                    List<SteeringRule> rules = new ArrayList<>(t.members.size());
                    t.members.forEach(m -> rules.add(m.rule()));
                    RuleSet.checkConflicts(rules);
                }
            }
            if (t.group != null) {
                entriesAfter -= t.group.entries.ports().length;
                groupsByLength[t.key.pf()][t.key.length()]--;
            }
            entriesAfter += singlePortRules(t.members);
            if (!t.members.isEmpty()) {
                groupsByLength[t.key.pf()][t.key.length()]++;
            }
        }
        for (int pf = 0; pf < 4; pf++) {
            int distinct = 0;
            for (int length = 0; length <= 128; length++) {
                distinct += groupsByLength[pf][length] > 0 ? 1 : 0;
            }
            if (distinct > DispatchLayout.MAX_LENGTHS) {
                throw DispatchTables.tooManyLengths(pf);
            }
        }
        return entriesAfter;
    }

    /** Puts the touched groups' next members and entries in place, returning the entries that changed. */
    private Change commit(Map<Key, Touched> touched, Collection<Member> removed, Collection<Member> added) {
        boolean fromEmpty = groups.isEmpty();
        words.begin(fromEmpty);
        if (fromEmpty) {
            groups = new LinkedHashMap<>(Math.max(16, touched.size() * 4 / 3 + 1));
        }
        Change change = new Change();
        boolean expandedGone = false;
        for (Touched t : touched.values()) {
            Group g = t.group;
            if (g == null) {
                g = new Group(t.key.pf(), t.members.get(0).rule().prefix());
                groups.put(t.key, g);
                words.enter(g.pf, g.prefix, 1);
            } else {
                count(g, -1);
            }
            GroupEntries.diff(t.key, g.entries, t.entries, change);
            g.entries = t.entries;
            g.members = List.copyOf(t.members);
            if (g.members.isEmpty()) {
                groups.remove(t.key);
                expandedGone |= !words.enter(g.pf, g.prefix, -1);
            } else {
                count(g, 1);
            }
        }
        for (Member m : removed) {
            cover(m.rule(), -1);
        }
        for (Member m : added) {
            cover(m.rule(), 1);
        }
        if (expandedGone) {
            // Classes of expanded prefixes are not counted per word: rebuilt from the groups left.
            words.clearExpanded();
            for (Group g : groups.values()) {
                if (BucketWords.isExpanded(g.pf, g.prefix)) {
                    words.enter(g.pf, g.prefix, 1);
                }
            }
        }
        refresh();
        return change;
    }

    /** Adds ({@code sign} 1) or removes (-1) what a group counts for. */
    private void count(Group g, int sign) {
        int[] c = lengthCounts[g.pf][g.prefix.length()];
        c[0] += sign;
        c[1] += (g.entries.flags() & DispatchLayout.FLAG_SINGLES) != 0 ? sign : 0;
        c[2] += (g.entries.flags() & DispatchLayout.FLAG_SUMMARIES) != 0 ? sign : 0;
        for (int port : g.entries.ports()) {
            singlePorts[g.pf][port] += sign;
        }
        portEntries += sign * g.entries.ports().length;
    }

    private void cover(SteeringRule r, int sign) {
        int[] c = coverage[DispatchTables.pf(r.protocol(), r.prefix().isIpv4())];
        c[r.ports().first()] += sign;
        c[r.ports().last() + 1] -= sign;
    }

    /**
     * Calls {@code visit} with the index, value before and value now of every bucket word the
     * last update may have changed.
     */
    void forEachChangedWord(BucketWords.WordVisitor visit) {
        words.forEachChangedWord(visit);
    }

    /** {@link BucketWords#bucketProduct}. */
    static long bucketProduct(long high, boolean ipv4) {
        return BucketWords.bucketProduct(high, ipv4);
    }

    /** Globals, length lists and gates from the counts. */
    private void refresh() {
        for (int pf = 0; pf < 4; pf++) {
            boolean v4 = pf % 2 == 0;
            int globalBelow = (v4 ? DispatchLayout.V4_BUCKET_LENGTH : DispatchLayout.V6_BUCKET_LENGTH) - DispatchLayout.EXPAND_BITS;
            long global = 0;
            List<Length> list = new ArrayList<>();
            for (int length = 128; length >= 0; length--) {
                int[] c = lengthCounts[pf][length];
                if (c[0] > 0) {
                    list.add(new Length(length, (c[1] > 0 ? DispatchLayout.FLAG_SINGLES : 0)
                            | (c[2] > 0 ? DispatchLayout.FLAG_SUMMARIES : 0)));
                    if (length < globalBelow) {
                        global |= 1L << DispatchTables.lengthClass(length, v4);
                    }
                }
            }
            lengths.set(pf, List.copyOf(list));
            globals[pf] = global;
        }
        Arrays.fill(ports, 0);
        for (int pf = 0; pf < 4; pf++) {
            int depth = 0;
            int[] c = coverage[pf];
            int[] s = singlePorts[pf];
            int global = globals[pf] != 0 ? DispatchLayout.GATE_GLOBAL_LENGTHS << pf : 0;
            int covered = DispatchLayout.GATE_COVERED << pf;
            int single = DispatchLayout.GATE_SINGLE_PORTS << pf;
            for (int p = 0; p < DispatchLayout.PORT_ENTRIES; p++) {
                depth += c[p];
                ports[p] |= (depth > 0 ? covered : 0) | (s[p] > 0 ? single : 0) | global;
            }
        }
    }
}
