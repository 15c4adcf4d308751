package io.sksteer.steering;

import io.sksteer.steering.DispatchTables.Key;
import io.sksteer.steering.DispatchTables.Length;
import io.sksteer.steering.DispatchTables.Summary;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToIntFunction;

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

    /**
     * A group's entries: single-port entries ({@code ports[i]} steers to {@code targets[i]}), the
     * port-0 entry ({@link DispatchLayout#NO_TARGET} if none), the summary (null if none), the
     * length flags, and how many of its single-port entries count against the budget.
     */
    record Entries(int[] ports, long[] targets, long port0, Summary summary, int flags) {
        static final Entries NONE = new Entries(new int[0], new long[0], DispatchLayout.NO_TARGET, null, 0);
    }

    /** Entries to write after a change, with their old and new values. */
    static final class Change {
        final List<Key> singleKeys = new ArrayList<>();
        /** {old, next} targets, {@link DispatchLayout#NO_TARGET} where absent. */
        final List<long[]> singleTargets = new ArrayList<>();
        final List<Key> summaryKeys = new ArrayList<>();
        /** {old, next}, {@link Summary#NONE} where absent. */
        final List<Summary[]> summaryValues = new ArrayList<>();

        private void single(Key key, long old, long next) {
            if (old != next) {
                singleKeys.add(key);
                singleTargets.add(new long[] {old, next});
            }
        }
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
    private final long[] buckets;
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
    /** Per bucket word and class (index << 6 | class), the groups at least a bucket long entered there. */
    private final Counts wordClasses;
    /**
     * The bucket words the last update changed, with their values before it: index and old value
     * per word, or every word (a copy of the array before) when it rebuilt the expanded classes.
     */
    private int[] touchedWords = new int[64];
    private long[] touchedValues = new long[64];
    private int touchedCount;
    private final java.util.BitSet touchedSet = new java.util.BitSet();
    private long[] bucketsBefore;
    private boolean allTouched;
    /** The last update started from no groups: every word was zero before it. */
    private boolean filledFromEmpty;
    /** Single-port entries in all groups, what the budget limits. */
    private int portEntries;

    TableState(int maxRules) {
        this.bucketBits = DispatchTables.bucketBits(maxRules);
        this.budget = DispatchTables.singlesBudget(maxRules);
        this.buckets = new long[4 << bucketBits];
        // Two words per group of a bucket's length or longer, at most a group per rule (capped:
        // the counts grow if a huge capacity fills).
        this.wordClasses = new Counts(Math.min(2 * Math.max(1, maxRules), 1 << 18));
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
        return buckets;
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
            for (int i = 0; i < e.ports.length; i++) {
                all.put(base.withPort(e.ports[i]), e.targets[i]);
            }
            if (e.port0 != DispatchLayout.NO_TARGET) {
                all.put(base, e.port0);
            }
        });
        return all;
    }

    Map<Key, Summary> summaries() {
        Map<Key, Summary> all = new LinkedHashMap<>();
        groups.forEach((base, g) -> {
            if (g.entries.summary != null) {
                all.put(base, g.entries.summary);
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
        final class Touched {
            final Key key;
            final Group group;                   // null: a new group
            final List<Member> members;
            boolean grown;
            Entries entries;

            Touched(Key key) {
                this.key = key;
                this.group = groups.get(key);
                this.members = group == null ? new ArrayList<>(2) : new ArrayList<>(group.members);
            }
        }
        Map<Key, Touched> touched = new LinkedHashMap<>(Math.max(16, (added.size() + removed.size()) * 4 / 3 + 1));
        for (Member m : added) {
            Touched t = touched.computeIfAbsent(groupKey(m.rule()), Touched::new);
            t.members.add(m);
            t.grown = true;
        }
        for (Member m : removed) {
            Touched t = touched.computeIfAbsent(groupKey(m.rule()), Touched::new);
            if (!t.members.removeIf(x -> x.id() == m.id())) {
                throw new IllegalArgumentException("not in force: " + m.rule().describe());
            }
        }
        int[][] groupsByLength = new int[4][];
        for (int pf = 0; pf < 4; pf++) {
            groupsByLength[pf] = new int[129];
            for (int length = 0; length <= 128; length++) {
                groupsByLength[pf][length] = lengthCounts[pf][length][0];
            }
        }
        // True single ports first, so that narrow ranges are expanded within what they leave.
        int entriesAfter = portEntries;
        for (Touched t : touched.values()) {
            if (t.grown) {
                t.members.sort((a, b) -> SteeringRule.PRECEDENCE.compare(a.rule(), b.rule()));
                if (checkConflicts) {
                    List<SteeringRule> rules = new ArrayList<>(t.members.size());
                    t.members.forEach(m -> rules.add(m.rule()));
                    RuleSet.checkConflicts(rules);
                }
            }
            if (t.group != null) {
                entriesAfter -= t.group.entries.ports.length;
                groupsByLength[t.key.pf()][t.key.length()]--;
            }
            for (Member m : t.members) {
                entriesAfter += m.rule().ports().rank() == 0 ? 1 : 0;
            }
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
        for (Touched t : touched.values()) {
            t.entries = t.members.isEmpty() ? Entries.NONE : entries(t.members, slot, budget - entriesAfter);
            for (Member m : t.members) {
                entriesAfter -= m.rule().ports().rank() == 0 ? 1 : 0;
            }
            entriesAfter += t.entries.ports.length;
        }

        // 2. Commit: nothing below throws.
        for (int i = 0; i < touchedCount; i++) {
            touchedSet.clear(touchedWords[i]);
        }
        touchedCount = 0;
        // Filling empty tables: every word was zero before, nothing to record word by word.
        allTouched = groups.isEmpty();
        if (allTouched) {
            groups = new LinkedHashMap<>(Math.max(16, touched.size() * 4 / 3 + 1));
        }
        filledFromEmpty = allTouched;
        Change change = new Change();
        boolean expandedGone = false;
        for (Touched t : touched.values()) {
            Group g = t.group;
            if (g == null) {
                g = new Group(t.key.pf(), t.members.get(0).rule().prefix());
                groups.put(t.key, g);
                enterBuckets(g, 1);
            } else {
                count(g, -1);
            }
            diff(t.key, g.entries, t.entries, change);
            g.entries = t.entries;
            g.members = List.copyOf(t.members);
            if (g.members.isEmpty()) {
                groups.remove(t.key);
                expandedGone |= !enterBuckets(g, -1);
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
            if (!filledFromEmpty) {
                if (bucketsBefore == null) {
                    bucketsBefore = new long[buckets.length];
                }
                System.arraycopy(buckets, 0, bucketsBefore, 0, buckets.length);
                for (int i = 0; i < touchedCount; i++) {
                    bucketsBefore[touchedWords[i]] = touchedValues[i];
                }
                allTouched = true;
            }
            for (int pf = 0; pf < 4; pf++) {
                long keep = ~expandedClasses(pf % 2 == 0);
                for (int i = pf << bucketBits; i < (pf + 1) << bucketBits; i++) {
                    buckets[i] &= keep;
                }
            }
            for (Group g : groups.values()) {
                if (isExpanded(g)) {
                    enterBuckets(g, 1);
                }
            }
        }
        refresh();
        return change;
    }

    /**
     * A group's entries, expanding narrow ranges while {@code room} single-port entries remain
     * (the group's own single ports already counted).
     */
    private static Entries entries(List<Member> members, ToIntFunction<String> slot, int room) {
        int[] ports = new int[Math.max(4, members.size())];
        long[] targets = new long[ports.length];
        int n = 0;
        // Members are in precedence order: single ports ascending, then ranges by first port, then all.
        int singles = 0;
        while (singles < members.size() && members.get(singles).rule().ports().rank() == 0) {
            singles++;
        }
        for (int i = 0; i < singles; i++) {
            Member m = members.get(i);
            ports[n] = m.rule().ports().first();
            targets[n++] = DispatchLayout.target(m.id(), slot.applyAsInt(m.rule().listener()));
        }
        List<Member> wide = new ArrayList<>(0);
        Member allPorts = null;
        boolean single = singles > 0;
        int expandedUpTo = 0;
        for (int i = singles; i < members.size(); i++) {
            Member m = members.get(i);
            PortSpec p = m.rule().ports();
            if (p.rank() == 2) {
                allPorts = allPorts == null ? m : allPorts;
                continue;
            }
            // A narrow range becomes single-port entries, unless a wide range before it overlaps
            // it (that one wins there) or the budget is spent.
            boolean shadowed = false;
            for (Member w : wide) {
                shadowed |= w.rule().ports().overlaps(p);
            }
            int width = p.last() - p.first() + 1;
            if (width <= DispatchLayout.NARROW_RANGE && !shadowed && width <= room) {
                long target = DispatchLayout.target(m.id(), slot.applyAsInt(m.rule().listener()));
                for (int port = Math.max(p.first(), expandedUpTo + 1); port <= p.last(); port++) {
                    if (Arrays.binarySearch(ports, 0, singles, port) < 0) {
                        if (n == ports.length) {
                            ports = Arrays.copyOf(ports, 2 * n);
                            targets = Arrays.copyOf(targets, 2 * n);
                        }
                        ports[n] = port;
                        targets[n++] = target;
                        room--;
                    }
                }
                expandedUpTo = Math.max(expandedUpTo, p.last());
                single = true;
            } else {
                wide.add(m);
            }
        }
        if (wide.size() > DispatchLayout.MAX_RANGES_PER_ENTRY) {
            throw DispatchTables.tooManyRanges(wide.get(DispatchLayout.MAX_RANGES_PER_ENTRY).rule());
        }
        int flags = single ? DispatchLayout.FLAG_SINGLES : 0;
        long port0 = DispatchLayout.NO_TARGET;
        Summary summary = null;
        if (!wide.isEmpty() || allPorts != null) {
            flags |= DispatchLayout.FLAG_SUMMARIES;
            int allId = allPorts == null ? DispatchLayout.NO_RULE : allPorts.id();
            int allSlot = allPorts == null ? 0 : slot.applyAsInt(allPorts.rule().listener());
            // The port-0 entry sits in the singles table: an 'all' rule costs no hash lookup, and
            // a prefix without wide ranges no summary lookup.
            port0 = DispatchLayout.target(allPorts == null ? DispatchLayout.NO_ALL : allId,
                    allSlot | (wide.isEmpty() ? 0 : DispatchLayout.HAS_RANGES));
            if (!wide.isEmpty()) {
                int[] ranges = new int[4 * wide.size()];
                for (int i = 0; i < wide.size(); i++) {
                    Member w = wide.get(i);
                    ranges[4 * i] = w.rule().ports().first();
                    ranges[4 * i + 1] = w.rule().ports().last();
                    ranges[4 * i + 2] = w.id();
                    ranges[4 * i + 3] = slot.applyAsInt(w.rule().listener());
                }
                summary = new Summary(allId, allSlot, ranges);
            }
        }
        return new Entries(Arrays.copyOf(ports, n), Arrays.copyOf(targets, n), port0, summary, flags);
    }

    /** The entries of one group that differ between {@code was} and {@code now}. */
    private static void diff(Key base, Entries was, Entries now, Change change) {
        if (was == Entries.NONE) {                   // a new group: every entry is new
            for (int i = 0; i < now.ports.length; i++) {
                change.single(base.withPort(now.ports[i]), DispatchLayout.NO_TARGET, now.targets[i]);
            }
            change.single(base, DispatchLayout.NO_TARGET, now.port0);
            if (now.summary != null) {
                change.summaryKeys.add(base);
                change.summaryValues.add(new Summary[] {Summary.NONE, now.summary});
            }
            return;
        }
        Map<Integer, Long> old = new HashMap<>(2 * was.ports.length);
        for (int i = 0; i < was.ports.length; i++) {
            old.put(was.ports[i], was.targets[i]);
        }
        for (int i = 0; i < now.ports.length; i++) {
            Long o = old.remove(now.ports[i]);
            change.single(base.withPort(now.ports[i]), o == null ? DispatchLayout.NO_TARGET : o, now.targets[i]);
        }
        for (int i = 0; i < was.ports.length; i++) {
            if (old.containsKey(was.ports[i])) {
                change.single(base.withPort(was.ports[i]), was.targets[i], DispatchLayout.NO_TARGET);
            }
        }
        change.single(base, was.port0, now.port0);
        Summary a = was.summary == null ? Summary.NONE : was.summary;
        Summary b = now.summary == null ? Summary.NONE : now.summary;
        if (!a.equals(b)) {
            change.summaryKeys.add(base);
            change.summaryValues.add(new Summary[] {a, b});
        }
    }

    /** Adds ({@code sign} 1) or removes (-1) what a group counts for. */
    private void count(Group g, int sign) {
        int[] c = lengthCounts[g.pf][g.prefix.length()];
        c[0] += sign;
        c[1] += (g.entries.flags & DispatchLayout.FLAG_SINGLES) != 0 ? sign : 0;
        c[2] += (g.entries.flags & DispatchLayout.FLAG_SUMMARIES) != 0 ? sign : 0;
        for (int port : g.entries.ports) {
            singlePorts[g.pf][port] += sign;
        }
        portEntries += sign * g.entries.ports.length;
    }

    private void cover(SteeringRule r, int sign) {
        int[] c = coverage[DispatchTables.pf(r.protocol(), r.prefix().isIpv4())];
        c[r.ports().first()] += sign;
        c[r.ports().last() + 1] -= sign;
    }

    private static int bucketLength(boolean v4) {
        return v4 ? DispatchLayout.V4_BUCKET_LENGTH : DispatchLayout.V6_BUCKET_LENGTH;
    }

    /** Whether a group's prefix is shorter than a bucket, and so entered in several. */
    private static boolean isExpanded(Group g) {
        return g.prefix.length() < bucketLength(g.pf % 2 == 0);
    }

    /** The class bits of the lengths entered in several buckets. */
    private static long expandedClasses(boolean v4) {
        long bits = 0;
        int bucketLength = bucketLength(v4);
        for (int length = bucketLength - DispatchLayout.EXPAND_BITS; length < bucketLength; length++) {
            bits |= 1L << DispatchTables.lengthClass(length, v4);
        }
        return bits;
    }

    /**
     * Enters ({@code sign} 1) or withdraws (-1) a group's class in the words of its buckets. A
     * prefix at least a bucket long has two words, counted per word and class, so a withdrawal
     * clears a class no other group has there. Expanded prefixes are entered only; the return
     * value false says one was withdrawn without clearing its words.
     */
    private boolean enterBuckets(Group g, int sign) {
        boolean v4 = g.pf % 2 == 0;
        int length = g.prefix.length();
        int bucketLength = bucketLength(v4);
        if (length < bucketLength - DispatchLayout.EXPAND_BITS) {
            return true;                             // a global length
        }
        int cls = DispatchTables.lengthClass(length, v4);
        if (length >= bucketLength) {
            long product = bucketProduct(g.prefix.half(0), v4);
            for (int word : new int[] {DispatchTables.firstBucket(product, bucketBits),
                    DispatchTables.secondBucket(product, bucketBits)}) {
                int index = g.pf << bucketBits | word;
                if (wordClasses.add((long) index << 6 | cls, sign) == 0) {
                    setWord(index, buckets[index] & ~(1L << cls));
                } else {
                    setWord(index, buckets[index] | 1L << cls);
                }
            }
            return true;
        }
        if (sign < 0) {
            return false;
        }
        byte[] a = Arrays.copyOf(g.prefix.address(), 16);
        int free = bucketLength - length;
        int lastByte = bucketLength / 8 - 1;
        for (int v = 0; v < 1 << free; v++) {
            a[lastByte] = (byte) ((a[lastByte] & ~((1 << free) - 1)) | v);
            long product = DispatchTables.bucketProduct(a, v4);
            int first = g.pf << bucketBits | DispatchTables.firstBucket(product, bucketBits);
            int second = g.pf << bucketBits | DispatchTables.secondBucket(product, bucketBits);
            setWord(first, buckets[first] | 1L << cls);
            setWord(second, buckets[second] | 1L << cls);
        }
        return true;
    }

    private void setWord(int index, long value) {
        if (value != buckets[index] && !allTouched && !touchedSet.get(index)) {
            touchedSet.set(index);
            if (touchedCount == touchedWords.length) {
                touchedWords = Arrays.copyOf(touchedWords, 2 * touchedCount);
                touchedValues = Arrays.copyOf(touchedValues, 2 * touchedCount);
            }
            touchedWords[touchedCount] = index;
            touchedValues[touchedCount++] = buckets[index];
        }
        buckets[index] = value;
    }

    /**
     * Calls {@code visit} with the index, value before and value now of every bucket word the
     * last update may have changed.
     */
    void forEachChangedWord(WordVisitor visit) {
        if (allTouched) {
            for (int i = 0; i < buckets.length; i++) {
                visit.word(i, filledFromEmpty ? 0 : bucketsBefore[i], buckets[i]);
            }
        } else {
            for (int i = 0; i < touchedCount; i++) {
                visit.word(touchedWords[i], touchedValues[i], buckets[touchedWords[i]]);
            }
        }
    }

    interface WordVisitor {
        void word(int index, long before, long now);
    }

    private static final boolean LITTLE_ENDIAN = java.nio.ByteOrder.nativeOrder() == java.nio.ByteOrder.LITTLE_ENDIAN;

    /**
     * {@link DispatchTables#bucketProduct} of an address whose first eight bytes are {@code
     * high} (big-endian), without copying it.
     */
    static long bucketProduct(long high, boolean ipv4) {
        int first = (int) (high >>> 32);
        int second = (int) high;
        if (LITTLE_ENDIAN) {
            first = Integer.reverseBytes(first);
            second = Integer.reverseBytes(second);
        }
        long x = ipv4 ? (first & DispatchTables.nativeMask24()) & 0xffffffffL
                : (first & 0xffffffffL) << 32 | (second & 0xffffffffL);
        return x * DispatchLayout.HASH_MULTIPLIER;
    }

    /** Counts by long key, in two arrays (open addressing): no object per entry. */
    static final class Counts {
        private long[] keys;
        private int[] counts;
        private boolean[] used;
        private int size;

        /** Room for about {@code expected} keys before the first growth. */
        Counts(int expected) {
            int capacity = Integer.highestOneBit(Math.max(1 << 10, 2 * expected) - 1) << 1;
            keys = new long[capacity];
            counts = new int[capacity];
            used = new boolean[capacity];
        }

        /** Adds {@code delta} to the count of {@code key}, returning the new count. */
        int add(long key, int delta) {
            if (2 * (size + 1) > keys.length) {
                grow();
            }
            int mask = keys.length - 1;
            int i = (int) ((key * DispatchLayout.HASH_MULTIPLIER) >>> 40) & mask;
            while (used[i] && keys[i] != key) {
                i = (i + 1) & mask;
            }
            if (!used[i]) {
                used[i] = true;
                keys[i] = key;
                size++;
            }
            counts[i] += delta;
            return counts[i];
        }

        /** Doubles the arrays when half full, dropping keys whose count is zero. */
        private void grow() {
            long[] oldKeys = keys;
            int[] oldCounts = counts;
            boolean[] oldUsed = used;
            int live = 0;
            for (int i = 0; i < oldKeys.length; i++) {
                live += oldUsed[i] && oldCounts[i] != 0 ? 1 : 0;
            }
            int capacity = Integer.highestOneBit(Math.max(1 << 10, 4 * (live + 1)) - 1) << 1;
            keys = new long[capacity];
            counts = new int[capacity];
            used = new boolean[capacity];
            size = 0;
            for (int i = 0; i < oldKeys.length; i++) {
                if (oldUsed[i] && oldCounts[i] != 0) {
                    add(oldKeys[i], oldCounts[i]);
                }
            }
        }
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
