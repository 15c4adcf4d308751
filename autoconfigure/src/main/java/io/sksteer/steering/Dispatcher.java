package io.sksteer.steering;

import io.sksteer.bpf.BpfFeatures;
import io.sksteer.bpf.BpfMap;
import io.sksteer.bpf.BpfProgram;
import io.sksteer.bpf.Codec;
import io.sksteer.bpf.KernelMap;
import io.sksteer.bpf.MapFlag;
import io.sksteer.bpf.MapSpec;
import io.sksteer.bpf.MapType;
import io.sksteer.bpf.MappedValues;
import io.sksteer.bpf.PerCpuArray;
import io.sksteer.bpf.ProgramSpec;
import io.sksteer.bpf.SocketMap;
import io.sksteer.bpf.sklookup.Protocol;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.Collection;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;

/**
 * The dispatcher's kernel objects — its maps and its program — and the rule set in force.
 * Creating one fills the maps and loads the program; attaching is the caller's last step.
 *
 * <p>{@link #apply} replaces the rules without touching the program, and writes only what the
 * change touches. Every entry holds a value for each of two generations: the new rules are written
 * into the half of the generation not in force, the generation flips in one word, and once every
 * program run that could still read the old half has finished, the old half is made equal to the
 * new one (or the entry deleted). No lookup sees a mix of old and new rules.
 */
public final class Dispatcher implements AutoCloseable {

    private final int maxRules;
    private final int bucketBits;
    private final int tableBits;
    private final List<KernelMap> maps = new ArrayList<>();
    private final BpfMap<Integer, Integer> ports;
    private final BpfMap<Integer, Long> buckets;
    private final BpfMap<Integer, Integer> state;
    private final BpfMap<Integer, Long> globals;
    private final BpfMap<Integer, byte[]> lengths;
    private final BpfMap<Integer, byte[]> table;
    private final BpfMap<byte[], byte[]> singles;
    private final BpfMap<byte[], byte[]> summaries;
    private final SocketMap<Integer> sockets;
    private final PerCpuArray<RuleCounters> counters;
    /** Loaded on a thread of its own while the tables are computed and written (the verifier takes a while). */
    private final FutureTask<BpfProgram> loading;
    private volatile BpfProgram program;
    private final Map<String, Integer> slots;

    /** The rules in force by identity, with their counter indexes. */
    private final Map<RuleKey, TableState.Member> inForce = new HashMap<>();
    private final Deque<Integer> freeIds = new ArrayDeque<>();
    /** Counter indexes some rule has used: only those need zeroing when reused. */
    private final BitSet usedIds = new BitSet();
    private int generation;
    private boolean created = true;
    /** Why a change stopped half way, after which no further change is made; null if none did. */
    private String failure;
    private RuleSet rules = RuleSet.empty();
    /** The tables of the rules in force, changed in place by each change. */
    private final TableState tables;
    /** The gate words before the change being made (the tables keep the bucket words'). */
    private final int[] previousPorts = new int[DispatchTables.PORT_ENTRIES];

    /**
     * What the last {@link #apply} wrote: singles (table buckets and hash elements) and summaries
     * written and deleted, gate and bucket words written (both phases of a change counted), and
     * how many single-port entries are in the singles hash because their table bucket is full.
     */
    public record ApplyStats(int entriesWritten, int entriesDeleted, int gateWords, int bucketWords, int overflowing) {
    }

    /** What a change did to the rules in force: the rules it removed and those it added. */
    public record RuleChange(List<SteeringRule> removed, List<SteeringRule> added) {
    }

    private int gateWords;
    private final TablePlacement placement;
    private int bucketWords;
    private ApplyStats lastApply = new ApplyStats(0, 0, 0, 0, 0);

    /** A rule's identity: what it matches and where it steers (not where it was written). */
    private record RuleKey(Protocol protocol, int length, long high, long low, int family,
            PortSpec ports, String listener) {
        static RuleKey of(SteeringRule r) {
            Prefix p = r.prefix();
            return new RuleKey(r.protocol(), p.length(), p.half(0), p.half(1), p.isIpv4() ? 4 : 6, r.ports(), r.listener());
        }
    }

    private Dispatcher(int maxRules, Map<String, Integer> slots, boolean dropOnMissing) {
        this.maxRules = maxRules;
        this.bucketBits = DispatchTables.bucketBits(maxRules);
        this.tableBits = DispatchTables.tableBits(maxRules);
        this.placement = new TablePlacement(tableBits);
        this.tables = new TableState(maxRules);
        this.slots = Map.copyOf(slots);
        for (int id = 0; id < maxRules; id++) {
            freeIds.add(id);
        }
        try {
            ports = add(BpfMap.create(mapped(DispatcherProgram.PORTS, 4, DispatchTables.PORT_ENTRIES),
                    Codec.u32(), Codec.u32()));
            buckets = add(BpfMap.create(mapped(DispatcherProgram.BUCKETS, 8, 4 << bucketBits),
                    Codec.u32(), Codec.u64()));
            state = add(BpfMap.create(MapSpec.of(DispatcherProgram.STATE, MapType.ARRAY, 4, 4, 1), Codec.u32(), Codec.u32()));
            globals = add(BpfMap.create(mapped(DispatcherProgram.GLOBALS, 8, 2 * 4), Codec.u32(), Codec.u64()));
            lengths = add(BpfMap.create(mapped(DispatcherProgram.LENGTHS, DispatchTables.LENGTH_RECORD,
                    2 * 4 * DispatchTables.MAX_LENGTHS), Codec.u32(), Codec.bytes(DispatchTables.LENGTH_RECORD)));
            table = add(BpfMap.create(mapped(DispatcherProgram.TABLE, DispatchTables.TABLE_BUCKET, 1 << tableBits),
                    Codec.u32(), Codec.bytes(DispatchTables.TABLE_BUCKET)));
            // The overflow of the table. Sized for the worst case, every entry of both rule sets of
            // a change overflowing: per set, expansions stop at the singles budget, and true single
            // ports and port-0 entries come from at most maxRules rules.
            singles = add(BpfMap.create(new MapSpec(DispatcherProgram.SINGLES, MapType.HASH, DispatchTables.KEY_SIZE,
                    2 * DispatchTables.SINGLE_HALF, 2 * (maxRules + DispatchTables.singlesBudget(maxRules)),
                    Set.of(MapFlag.BPF_F_NO_PREALLOC)),
                    Codec.bytes(DispatchTables.KEY_SIZE), Codec.bytes(2 * DispatchTables.SINGLE_HALF)));
            summaries = add(BpfMap.create(new MapSpec(DispatcherProgram.SUMMARIES, MapType.HASH, DispatchTables.KEY_SIZE,
                    2 * DispatchTables.SUMMARY_HALF, maxRules, Set.of(MapFlag.BPF_F_NO_PREALLOC)),
                    Codec.bytes(DispatchTables.KEY_SIZE), Codec.bytes(2 * DispatchTables.SUMMARY_HALF)));
            sockets = add(SocketMap.createSockMap(MapSpec.sockMap(DispatcherProgram.SOCKETS, Math.max(1, slots.size()))));
            // One more than the rules: the last counts test runs (explain), which must not count as traffic.
            counters = add(PerCpuArray.create(MapSpec.of(DispatcherProgram.COUNTERS, MapType.PERCPU_ARRAY, 4, 32, maxRules + 1),
                    Codec.of(32, (c, b) -> b.putLong(c.lookups()).putLong(c.steered()).putLong(c.missingSocket()).putLong(c.assignErrors()),
                            b -> new RuleCounters(b.getLong(), b.getLong(), b.getLong(), b.getLong()))));
            ProgramSpec spec = DispatcherProgram.spec(bucketBits, tableBits, dropOnMissing,
                    BpfFeatures.ingressIfindex().isAvailable() ? maxRules : -1);
            List<KernelMap> used = List.copyOf(maps);
            loading = new FutureTask<>(() -> BpfProgram.load(spec, used));
            Thread loader = new Thread(loading, "sksteer-program-load");
            loader.setDaemon(true);
            loader.start();
        } catch (RuntimeException e) {
            closeMaps(e);
            throw e;
        }
    }

    /**
     * Creates the maps, writes {@code rules} and loads the program (not attached).
     *
     * @param maxRules capacity of the rule tables and counters
     * @param slots the SOCKMAP slot of each listener name
     * @param dropOnMissing whether a matched rule whose socket is gone drops (else passes)
     * @throws InvalidRuleException when the rules exceed a limit; nothing is left open then
     */
    public static Dispatcher create(RuleSet rules, int maxRules, Map<String, Integer> slots, boolean dropOnMissing) {
        Dispatcher d = new Dispatcher(maxRules, slots, dropOnMissing);
        try {
            d.apply(rules);
            d.program = d.loaded();
            return d;
        } catch (RuntimeException e) {
            d.close();
            throw e;
        }
    }

    /** The program once its load has finished; its failure rethrown as it was. */
    private BpfProgram loaded() {
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    return loading.get();
                } catch (InterruptedException e) {
                    interrupted = true;          // the load is a system call: it finishes anyway
                }
            }
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            if (e.getCause() instanceof Error err) {
                throw err;
            }
            throw new IllegalStateException("loading the dispatcher program failed", e.getCause());
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** An ARRAY user space writes through a mapping: no system call per element. */
    private static MapSpec mapped(String name, int valueSize, int entries) {
        return new MapSpec(name, MapType.ARRAY, 4, valueSize, entries, Set.of(MapFlag.BPF_F_MMAPABLE));
    }

    private <M extends KernelMap> M add(M map) {
        maps.add(map);
        return map;
    }

    /** The SOCKMAP holding each listener's socket at its slot. */
    public SocketMap<Integer> sockets() {
        return sockets;
    }

    /** The loaded dispatcher program. */
    public BpfProgram program() {
        return program;
    }

    /** The maps, for reports. */
    public List<KernelMap> maps() {
        return List.copyOf(maps);
    }

    /** The slot of each listener. */
    public Map<String, Integer> slots() {
        return slots;
    }

    /** The rules in force. */
    public synchronized RuleSet rules() {
        return rules;
    }

    /** A rule's counters summed over CPUs (zero for a rule not in force). */
    public synchronized RuleCounters counters(SteeringRule rule) {
        TableState.Member m = inForce.get(RuleKey.of(rule));
        return m == null ? RuleCounters.ZERO : counters.sum(m.id(), RuleCounters::plus);
    }

    /**
     * Why a rule change stopped half way (a kernel call failed while the maps were being written),
     * if one did. Lookups stay whole, but no further change is made.
     */
    public synchronized Optional<String> failure() {
        return Optional.ofNullable(failure);
    }

    /** What the last successful {@link #apply} (or the creation) wrote to the maps. */
    public synchronized ApplyStats lastApply() {
        return lastApply;
    }

    /**
     * Replaces the rule set in force. The program is neither reloaded nor detached, no lookup
     * sees a mix of old and new rules, and the map writes are proportional to the change.
     *
     * @throws InvalidRuleException if the rules exceed a limit or name an unknown listener; the
     *     rules in force stay as they were
     */
    public synchronized RuleChange apply(RuleSet next) {
        checkNoFailure();
        List<SteeringRule> nextRules = next.rules();
        nextRules.forEach(this::checkListener);
        // Rules that stay keep their ids; new ones take ids from the free list.
        BitSet kept = new BitSet(maxRules);
        // Sized for the first fill; a change usually adds few.
        Map<RuleKey, TableState.Member> added = new LinkedHashMap<>(inForce.isEmpty() ? nextRules.size() * 4 / 3 + 1 : 16);
        List<Integer> fresh = new ArrayList<>();
        for (SteeringRule r : nextRules) {
            RuleKey key = RuleKey.of(r);
            TableState.Member m = inForce.get(key);
            if (m != null) {
                kept.set(m.id());
            } else {
                if (freeIds.isEmpty()) {
                    fresh.forEach(freeIds::addFirst);
                    throw new RuleCapacityException(r.origin(), maxRules, "more than " + maxRules + " rules");
                }
                int id = freeIds.poll();
                fresh.add(id);
                added.put(key, new TableState.Member(r, id));
            }
        }
        Map<RuleKey, TableState.Member> removed = new LinkedHashMap<>();
        inForce.forEach((key, m) -> {
            if (!kept.get(m.id())) {
                removed.put(key, m);
            }
        });
        return change(next, removed, added, fresh, false);
    }

    /**
     * Removes {@code remove} from the rules in force and adds {@code add}, as {@link #apply}
     * would with the resulting rule set, at a cost that follows the size of the change rather
     * than of the rule set. Rules to add that are already in force are left as they are; rules
     * are the same when protocol, prefix, ports and listener are (their origins may differ).
     *
     * @throws InvalidRuleException if a rule to remove is not in force, a rule to add names an
     *     unknown listener or conflicts with another, or a limit is exceeded; nothing changes then
     */
    public synchronized RuleChange change(Collection<SteeringRule> remove, Collection<SteeringRule> add) {
        checkNoFailure();
        Map<RuleKey, TableState.Member> removed = new LinkedHashMap<>();
        for (SteeringRule r : remove) {
            RuleKey key = RuleKey.of(r);
            TableState.Member m = inForce.get(key);
            if (m == null) {
                throw new InvalidRuleException(r.origin(), r.describe(), "no such rule is in force");
            }
            removed.put(key, m);
        }
        Map<RuleKey, SteeringRule> wanted = new LinkedHashMap<>();
        for (SteeringRule r : add) {
            checkListener(r);
            RuleKey key = RuleKey.of(r);
            if (removed.remove(key) == null && !inForce.containsKey(key)) {
                wanted.putIfAbsent(key, r);
            }
        }
        if (wanted.size() > freeIds.size()) {
            // The rules removed keep their counters until the change is made.
            throw new RuleCapacityException(wanted.values().iterator().next().origin(), maxRules, "more than " + maxRules
                    + " rules while the change is made (the rules it removes count until it is done)");
        }
        Map<RuleKey, TableState.Member> added = new LinkedHashMap<>();
        List<Integer> fresh = new ArrayList<>();
        wanted.forEach((key, r) -> {
            int id = freeIds.poll();
            fresh.add(id);
            added.put(key, new TableState.Member(r, id));
        });
        RuleSet next;
        try {
            next = RuleSet.merged(rules, rulesOf(removed), wanted.values());
        } catch (RuntimeException e) {
            fresh.forEach(freeIds::addFirst);
            throw e;
        }
        return change(next, removed, added, fresh, true);
    }

    private static List<SteeringRule> rulesOf(Map<RuleKey, TableState.Member> members) {
        List<SteeringRule> out = new ArrayList<>(members.size());
        members.values().forEach(m -> out.add(m.rule()));
        return out;
    }

    private void checkListener(SteeringRule r) {
        if (!slots.containsKey(r.listener())) {
            throw new InvalidRuleException(r.origin(), r.listener(), "no listener named '" + r.listener() + "'");
        }
    }

    private void checkNoFailure() {
        if (failure != null) {
            throw new IllegalStateException("an earlier rule change stopped half way (" + failure + "), so the maps may hold"
                    + " values of neither rule set outside the generation in force; no further change is made: restart"
                    + " steering to rebuild them");
        }
    }

    /**
     * Puts {@code next} in force: the rules in force less {@code removed}, plus {@code added}
     * (whose ids, {@code fresh}, were taken from the free list and go back to it on failure).
     */
    private RuleChange change(RuleSet next, Map<RuleKey, TableState.Member> removed, Map<RuleKey, TableState.Member> added,
            List<Integer> fresh, boolean checkConflicts) {
        if (!created && removed.isEmpty() && added.isEmpty()) {
            rules = next;                            // the same rules: nothing to write, no flip
            lastApply = new ApplyStats(0, 0, 0, 0, placement.overflowing);
            return new RuleChange(List.of(), List.of());
        }
        TableState.Change delta;
        try {
            List<Integer> reused = new ArrayList<>();
            for (int id : fresh) {
                if (usedIds.get(id)) {
                    reused.add(id);
                }
            }
            counters.updateAll(reused, RuleCounters.ZERO);
            if (!created) {
                System.arraycopy(tables.ports(), 0, previousPorts, 0, previousPorts.length);
            }
            delta = tables.update(removed.values(), added.values(), slots::get, checkConflicts);
        } catch (RuntimeException e) {
            fresh.forEach(freeIds::addFirst);
            throw e;
        }
        fresh.forEach(usedIds::set);

        int nextGen = 1 - generation;
        EntryChanges changes = new EntryChanges(delta);
        gateWords = 0;
        bucketWords = 0;
        boolean flipped = false;
        try {
            changes.place();
            if (created) {
                // Nothing in the maps and nothing attached yet (create): both halves at once, and
                // whole arrays in one copy each.
                changes.settle();
                writeLengths(nextGen);
                writeAllGates();
                MappedValues.publish();
                state.update(0, nextGen);
            } else {
                // 1. The new rules in the other generation's half, invisible until the flip.
                changes.prepare(generation);
                writeLengths(nextGen);
                // 2. Gates admit both rule sets while both may be read.
                writeGates(true);
                // 3. The flip, after every store above.
                MappedValues.publish();
                state.update(0, nextGen);
                flipped = true;
                // 4. Once no program run can still be reading the old half, align it (or delete).
                BpfProgram.awaitRunsInFlight();
                changes.settle();
                writeGates(false);
            }
        } catch (RuntimeException e) {
            if (!created) {
                // Lookups read only the generation in force, which is whole: the previous rules
                // before the flip, the new ones after it. What is not whole is the other half of
                // some entries, which the next change would put in force: so there is none.
                failure = e.getMessage() + (flipped ? "; the new rules are in force" : "; the previous rules are still in force");
                if (flipped) {
                    commit(next, removed, added, nextGen);
                } else {
                    fresh.forEach(freeIds::addFirst);
                }
            }
            throw e;
        }
        commit(next, removed, added, nextGen);
        lastApply = new ApplyStats(changes.written, changes.deleted, gateWords, bucketWords, placement.overflowing);
        created = false;
        return new RuleChange(rulesOf(removed), rulesOf(added));
    }

    private void commit(RuleSet next, Map<RuleKey, TableState.Member> removed, Map<RuleKey, TableState.Member> added,
            int nextGen) {
        removed.forEach((key, m) -> {
            inForce.remove(key);
            freeIds.add(m.id());
        });
        inForce.putAll(added);
        generation = nextGen;
        rules = next;
    }

    /**
     * The singles and summaries entries a change touches, written in one or two steps.
     */
    private final class EntryChanges {
        final List<DispatchTables.Key> singleKeys;
        final List<long[]> singleTargets;   // {old, next}; NO_TARGET where absent
        final List<byte[]> summaryKeys = new ArrayList<>();
        final List<DispatchTables.Summary[]> summaryValues;
        int written;
        int deleted;

        EntryChanges(TableState.Change delta) {
            singleKeys = delta.singleKeys;
            singleTargets = delta.singleTargets;
            delta.summaryKeys.forEach(k -> summaryKeys.add(k.bytes()));
            summaryValues = delta.summaryValues;
        }

        /** The way of each changed single-port entry (by index in singleKeys): -1 in the hash, -2 not looked up yet. */
        private int[] ways;

        int way(int i) {
            if (ways[i] == -2) {
                ways[i] = placement.wayOf(singleKeys.get(i));
            }
            return ways[i];
        }

        /** Gives each new single-port entry a free way of its bucket, or the singles hash. */
        void place() {
            ways = new int[singleKeys.size()];
            Arrays.fill(ways, -2);
            for (int i = 0; i < singleKeys.size(); i++) {
                if (singleTargets.get(i)[0] != DispatchTables.NO_TARGET) {
                    continue;                            // in force: placed when it was added
                }
                DispatchTables.Key key = singleKeys.get(i);
                int bucket = placement.bucketOf(key);
                int free = -1;
                for (int w = bucket * DispatchTables.WAYS; w < (bucket + 1) * DispatchTables.WAYS && free < 0; w++) {
                    if (placement.keys[w] == null) {
                        free = w;
                    }
                }
                if (free >= 0) {
                    placement.keys[free] = key;
                    ways[i] = free;
                } else {
                    ways[i] = -1;
                    placement.overflowing++;
                    placement.overflowCount[bucket]++;
                }
            }
        }

        /** Before the flip: the next rules into the half of generation {@code inForce ^ 1}. */
        void prepare(int inForce) {
            Map<byte[], byte[]> singleWrites = new LinkedHashMap<>();
            BitSet dirty = new BitSet();
            for (int i = 0; i < singleKeys.size(); i++) {
                DispatchTables.Key key = singleKeys.get(i);
                long[] t = singleTargets.get(i);
                int way = way(i);
                if (way >= 0) {
                    placement.halves[2 * way + 1 - inForce] = t[1];
                    dirty.set(way / DispatchTables.WAYS);
                } else {
                    singleWrites.put(key.bytes(), singleValue(inForce, t[0], t[1]));
                    dirty.set(placement.bucketOf(key));      // its overflow mark
                }
            }
            // A bucket never written holds zeros, read as rule 0 in both halves: it first gets
            // absent halves under keys that match nothing, and only then its keys.
            Map<Integer, byte[]> firstWrites = new TreeMap<>();
            dirty.stream().filter(b -> !placement.initialized.get(b)).forEach(b -> firstWrites.put(b, TablePlacement.emptyBucket()));
            firstWrites.forEach(table.mapValues()::put);
            MappedValues.publish();
            firstWrites.keySet().forEach(placement.initialized::set);
            written += firstWrites.size();
            Map<byte[], byte[]> summaryWrites = new LinkedHashMap<>();
            for (int i = 0; i < summaryKeys.size(); i++) {
                DispatchTables.Summary[] v = summaryValues.get(i);
                summaryWrites.put(summaryKeys.get(i), summaryValue(inForce, v[0], v[1]));
            }
            // Each write changes only what no program run of the generation in force reads: the
            // other half, a way whose key it has no rule for, or an overflow mark that only adds a
            // probe. The order does not matter.
            singles.updateAll(singleWrites);
            MappedValues ways = table.mapValues();
            for (int b = dirty.nextSetBit(0); b >= 0; b = dirty.nextSetBit(b + 1)) {
                ways.put(b, placement.bucketBytes(b));
            }
            summaries.updateAll(summaryWrites);
            written += dirty.cardinality() + singleWrites.size() + summaryWrites.size();
        }

        /** After the flip (or before anything reads the maps): both halves hold the next rules. */
        void settle() {
            Map<byte[], byte[]> singleWrites = new LinkedHashMap<>();
            List<byte[]> singleDeletes = new ArrayList<>();
            BitSet dirty = new BitSet();
            for (int i = 0; i < singleKeys.size(); i++) {
                DispatchTables.Key key = singleKeys.get(i);
                long target = singleTargets.get(i)[1];
                int way = way(i);
                if (way >= 0) {
                    placement.halves[2 * way] = target;
                    placement.halves[2 * way + 1] = target;
                    if (target == DispatchTables.NO_TARGET) {
                        placement.keys[way] = null;
                    }
                    dirty.set(way / DispatchTables.WAYS);
                } else if (target == DispatchTables.NO_TARGET) {
                    singleDeletes.add(key.bytes());
                    placement.overflowing--;
                    int bucket = placement.bucketOf(key);
                    if (--placement.overflowCount[bucket] == 0) {
                        dirty.set(bucket);
                    }
                } else {
                    singleWrites.put(key.bytes(), DispatchTables.singleValue(target, target));
                }
            }
            Map<byte[], byte[]> summaryWrites = new LinkedHashMap<>();
            List<byte[]> summaryDeletes = new ArrayList<>();
            for (int i = 0; i < summaryKeys.size(); i++) {
                DispatchTables.Summary summary = summaryValues.get(i)[1];
                if (summary == DispatchTables.Summary.NONE) {
                    summaryDeletes.add(summaryKeys.get(i));
                } else {
                    summaryWrites.put(summaryKeys.get(i), DispatchTables.summaryValue(summary, summary));
                }
            }
            // The generation in force has none of the deleted entries or freed ways, and the
            // writes change only the half it does not read. Before anything is attached, the
            // whole table is written in one copy, every bucket then initialized.
            if (created) {
                // In pieces of 8,192 buckets (1.2 MiB): the table of a large max-rules is hundreds of MiB.
                int buckets = placement.overflowCount.length;
                for (int first = 0; first < buckets; first += 8192) {
                    int count = Math.min(8192, buckets - first);
                    table.mapValues().putRange(first, placement.image(first, count));
                }
                placement.initialized.set(0, placement.overflowCount.length);
                written += dirty.cardinality();
            } else {
                MappedValues ways = table.mapValues();
                for (int b = dirty.nextSetBit(0); b >= 0; b = dirty.nextSetBit(b + 1)) {
                    ways.put(b, placement.bucketBytes(b));
                }
                placement.initialized.or(dirty);
                written += dirty.cardinality();
            }
            singles.updateAll(singleWrites);
            summaries.updateAll(summaryWrites);
            singles.deleteAll(singleDeletes);
            summaries.deleteAll(summaryDeletes);
            written += singleWrites.size() + summaryWrites.size();
            deleted += singleDeletes.size() + summaryDeletes.size();
        }
    }

    private static byte[] singleValue(int inForce, long inForceTarget, long otherTarget) {
        return inForce == 0 ? DispatchTables.singleValue(inForceTarget, otherTarget)
                : DispatchTables.singleValue(otherTarget, inForceTarget);
    }

    private static byte[] summaryValue(int inForce, DispatchTables.Summary inForceSummary,
            DispatchTables.Summary other) {
        return inForce == 0 ? DispatchTables.summaryValue(inForceSummary, other)
                : DispatchTables.summaryValue(other, inForceSummary);
    }

    private void writeLengths(int gen) {
        TableState t = tables;
        Map<Integer, byte[]> writes = new LinkedHashMap<>();
        Map<Integer, Long> globalWrites = new LinkedHashMap<>();
        for (int pf = 0; pf < 4; pf++) {
            int base = (gen * 4 + pf) * DispatchTables.MAX_LENGTHS;
            List<DispatchTables.Length> list = t.lengths(pf);
            for (int i = 0; i < list.size(); i++) {
                writes.put(base + i, DispatchTables.lengthRecord(list.get(i), pf % 2 == 0));
            }
            if (list.size() < DispatchTables.MAX_LENGTHS) {
                writes.put(base + list.size(), DispatchTables.lengthRecord(null, true));
            }
            globalWrites.put(gen * 4 + pf, t.globals()[pf]);
        }
        writes.forEach(lengths.mapValues()::put);
        globalWrites.forEach(globals.mapValues()::putLong);
    }

    /** Writes the gate and bucket words that differ: the union of before and after the change, or just after. */
    private void writeGates(boolean union) {
        int[] oldPorts = previousPorts;
        int[] newPorts = tables.ports();
        MappedValues portValues = ports.mapValues();
        for (int i = 0; i < newPorts.length; i++) {
            int was = union ? oldPorts[i] : oldPorts[i] | newPorts[i];
            int want = union ? oldPorts[i] | newPorts[i] : newPorts[i];
            if (was != want) {
                portValues.putInt(i, want);
                gateWords++;
            }
        }
        MappedValues bucketValues = buckets.mapValues();
        tables.forEachChangedWord((i, before, now) -> {
            long was = union ? before : before | now;
            long want = union ? before | now : now;
            if (was != want) {
                bucketValues.putLong(i, want);
                bucketWords++;
            }
        });
    }

    /** Before anything is attached: all gate and bucket words, each array in one copy. */
    private void writeAllGates() {
        int[] portWords = tables.ports();
        long[] bucketWordsNow = tables.buckets();
        ByteBuffer portImage = DispatchTables.buffer(DispatchTables.PORT_ENTRIES * 8);
        for (int i = 0; i < DispatchTables.PORT_ENTRIES; i++) {
            portImage.putInt(8 * i, portWords[i]);
            gateWords += portWords[i] != 0 ? 1 : 0;
        }
        ports.mapValues().putAll(portImage.array());
        ByteBuffer bucketImage = DispatchTables.buffer(8 * bucketWordsNow.length);
        bucketImage.asLongBuffer().put(bucketWordsNow);
        for (long word : bucketWordsNow) {
            bucketWords += word != 0 ? 1 : 0;
        }
        buckets.mapValues().putAll(bucketImage.array());
    }

    /**
     * Closes the program and the maps. Attached through a link, the program keeps running (and
     * keeps the maps alive) until the link closes; close the link first.
     */
    @Override
    public void close() {
        if (program == null && loading != null) {
            try {
                program = loaded();
            } catch (RuntimeException e) {
                // it failed to load: nothing to close (create() already threw its error)
            }
        }
        if (program != null) {
            program.close();
        }
        closeMaps(null);
    }

    private void closeMaps(RuntimeException primary) {
        for (KernelMap m : maps) {
            try {
                m.close();
            } catch (RuntimeException e) {
                if (primary != null) {
                    primary.addSuppressed(e);
                }
            }
        }
    }
}
