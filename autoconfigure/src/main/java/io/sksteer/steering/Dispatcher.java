package io.sksteer.steering;

import io.sksteer.bpf.BpfFeatures;
import io.sksteer.bpf.BpfMap;
import io.sksteer.bpf.BpfProgram;
import io.sksteer.bpf.Codec;
import io.sksteer.bpf.KernelMap;
import io.sksteer.bpf.MapFlag;
import io.sksteer.bpf.MapSpec;
import io.sksteer.bpf.MapType;
import io.sksteer.bpf.PerCpuArray;
import io.sksteer.bpf.SocketMap;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The dispatcher's kernel objects — its maps and its program — and the rule set in force.
 * Creating one fills the maps and loads the program; attaching is the caller's last step.
 * {@link #apply} replaces the rules without touching the program: the new rules are written under
 * the other generation, the generation flips in one word, and the old entries go only after every
 * program run that could still read them has finished.
 */
public final class Dispatcher implements AutoCloseable {

    private final int maxRules;
    private final int rangeCapacity;
    private final List<KernelMap> maps = new ArrayList<>();
    private final BpfMap<Integer, Integer> ports;
    private final BpfMap<Integer, Long> buckets;
    private final BpfMap<Integer, Integer> state;
    private final BpfMap<Integer, byte[]> lengths;
    private final BpfMap<byte[], byte[]> entries;
    private final BpfMap<Integer, byte[]> ranges;
    private final SocketMap<Integer> sockets;
    private final PerCpuArray<RuleCounters> counters;
    private final BpfProgram program;
    private final Map<String, Integer> slots;

    private final Map<RuleKey, Integer> ruleIds = new HashMap<>();
    private final Deque<Integer> freeIds = new ArrayDeque<>();
    private int generation;
    private RuleSet rules = RuleSet.empty();
    private DispatchTables tables;

    /** A rule's identity: what it matches and where it steers (not where it was written). */
    private record RuleKey(io.sksteer.bpf.sklookup.Protocol protocol, Prefix prefix, PortSpec ports, String listener) {
        static RuleKey of(SteeringRule r) {
            return new RuleKey(r.protocol(), r.prefix(), r.ports(), r.listener());
        }
    }

    private Dispatcher(int maxRules, Map<String, Integer> slots, boolean dropOnMissing) {
        this.maxRules = maxRules;
        this.rangeCapacity = maxRules;
        this.slots = Map.copyOf(slots);
        for (int id = 0; id < maxRules; id++) {
            freeIds.add(id);
        }
        try {
            ports = add(BpfMap.create(MapSpec.of(DispatcherProgram.PORTS, MapType.ARRAY, 4, 4, DispatchTables.PORT_ENTRIES),
                    Codec.u32(), Codec.u32()));
            buckets = add(BpfMap.create(MapSpec.of(DispatcherProgram.BUCKETS, MapType.ARRAY, 4, 8,
                    4 * DispatchTables.BUCKETS_PER_PF), Codec.u32(), Codec.u64()));
            state = add(BpfMap.create(MapSpec.of(DispatcherProgram.STATE, MapType.ARRAY, 4, 4, 1), Codec.u32(), Codec.u32()));
            lengths = add(BpfMap.create(MapSpec.of(DispatcherProgram.LENGTHS, MapType.ARRAY, 4, DispatchTables.LENGTH_RECORD,
                    2 * 4 * DispatchTables.MAX_LENGTHS), Codec.u32(), Codec.bytes(DispatchTables.LENGTH_RECORD)));
            // Two keys at most per rule (its single port, its entry's summary), per generation.
            entries = add(BpfMap.create(new MapSpec(DispatcherProgram.ENTRIES, MapType.HASH, DispatchTables.KEY_SIZE,
                    DispatchTables.VALUE_SIZE, 4 * maxRules, Set.of(MapFlag.BPF_F_NO_PREALLOC)),
                    Codec.bytes(DispatchTables.KEY_SIZE), Codec.bytes(DispatchTables.VALUE_SIZE)));
            ranges = add(BpfMap.create(MapSpec.of(DispatcherProgram.RANGES, MapType.ARRAY, 4, DispatchTables.RANGE_RECORD,
                    2 * rangeCapacity), Codec.u32(), Codec.bytes(DispatchTables.RANGE_RECORD)));
            sockets = add(SocketMap.createSockMap(MapSpec.sockMap(DispatcherProgram.SOCKETS, Math.max(1, slots.size()))));
            // One more than the rules: the last counts test runs (explain), which must not count as traffic.
            counters = add(PerCpuArray.create(MapSpec.of(DispatcherProgram.COUNTERS, MapType.PERCPU_ARRAY, 4, 32, maxRules + 1),
                    Codec.of(32, (c, b) -> b.putLong(c.lookups()).putLong(c.steered()).putLong(c.missingSocket()).putLong(c.assignErrors()),
                            b -> new RuleCounters(b.getLong(), b.getLong(), b.getLong(), b.getLong()))));
            tables = DispatchTables.compute(RuleSet.empty(), r -> 0, l -> 0, rangeCapacity);
            program = BpfProgram.load(DispatcherProgram.spec(dropOnMissing,
                    BpfFeatures.ingressIfindex().isAvailable() ? maxRules : -1), maps);
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
            return d;
        } catch (RuntimeException e) {
            d.close();
            throw e;
        }
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
        Integer id = ruleIds.get(RuleKey.of(rule));
        return id == null ? RuleCounters.ZERO : counters.sum(id, RuleCounters::plus);
    }

    /**
     * Replaces the rule set in force. The program is neither reloaded nor detached, and no lookup
     * sees a mix of old and new rules.
     *
     * @throws InvalidRuleException if the rules exceed a limit or name an unknown listener; the
     *     rules in force stay as they were
     */
    public synchronized void apply(RuleSet next) {
        for (SteeringRule r : next.rules()) {
            if (!slots.containsKey(r.listener())) {
                throw new InvalidRuleException(r.origin(), r.listener(), "no listener named '" + r.listener() + "'");
            }
        }
        // Rule ids: kept for rules that stay, taken from the free list for new ones.
        Map<RuleKey, Integer> nextIds = new HashMap<>();
        List<Integer> fresh = new ArrayList<>();
        for (SteeringRule r : next.rules()) {
            RuleKey key = RuleKey.of(r);
            Integer id = ruleIds.get(key);
            if (id == null) {
                id = nextIds.get(key);
            }
            if (id == null) {
                if (freeIds.isEmpty()) {
                    freeIds.addAll(fresh);
                    throw new InvalidRuleException(r.origin(), null, "more than " + maxRules
                            + " rules; raise sksteer.max-rules");
                }
                id = freeIds.poll();
                fresh.add(id);
            }
            nextIds.put(key, id);
        }
        DispatchTables nextTables;
        try {
            nextTables = DispatchTables.compute(next, r -> nextIds.get(RuleKey.of(r)), slots::get, rangeCapacity);
            counters.updateAll(fresh, RuleCounters.ZERO);
        } catch (RuntimeException e) {
            fresh.forEach(freeIds::addFirst);
            throw e;
        }

        int nextGen = 1 - generation;
        boolean first = rules.size() == 0 && tables.entries().isEmpty();
        // 1. The new generation's ranges, entries and lengths, invisible until the flip.
        int rangeBase = nextGen * rangeCapacity;
        Map<Integer, byte[]> rangeWrites = new LinkedHashMap<>();
        for (DispatchTables.RangeRecord r : nextTables.ranges()) {
            rangeWrites.put(rangeBase + r.index(), r.value());
        }
        ranges.updateAll(rangeWrites);
        Map<byte[], byte[]> entryWrites = new LinkedHashMap<>();
        for (DispatchTables.Entry e : nextTables.entries()) {
            entryWrites.put(withGeneration(e.key(), nextGen), withRangeBase(e.value(), rangeBase));
        }
        entries.updateAll(entryWrites);
        writeLengths(nextGen, nextTables);
        // 2. Gates admit both rule sets while both may be read.
        writeGates(tables, nextTables, true);
        // 3. The flip.
        state.update(0, nextGen);
        // 4. Wait until no program run can still be reading the old generation, then drop it.
        if (!first) {
            BpfProgram.awaitRunsInFlight();
        }
        List<byte[]> old = new ArrayList<>(tables.entries().size());
        for (DispatchTables.Entry e : tables.entries()) {
            old.add(withGeneration(e.key(), generation));
        }
        entries.deleteAll(old);
        writeLengths(generation, null);
        writeGates(tables, nextTables, false);
        Set<Integer> keep = new HashSet<>(nextIds.values());
        for (Integer id : ruleIds.values()) {
            if (!keep.contains(id)) {
                freeIds.add(id);
            }
        }
        ruleIds.clear();
        ruleIds.putAll(nextIds);
        generation = nextGen;
        tables = nextTables;
        rules = next;
    }

    private void writeLengths(int gen, DispatchTables t) {
        Map<Integer, byte[]> writes = new LinkedHashMap<>();
        for (int pf = 0; pf < 4; pf++) {
            int base = (gen * 4 + pf) * DispatchTables.MAX_LENGTHS;
            List<Integer> list = t == null ? List.of() : t.lengths(pf);
            for (int i = 0; i < list.size(); i++) {
                writes.put(base + i, DispatchTables.lengthRecord(list.get(i), pf % 2 == 0));
            }
            if (list.size() < DispatchTables.MAX_LENGTHS) {
                writes.put(base + list.size(), DispatchTables.lengthRecord(-1, true));
            }
        }
        lengths.updateAll(writes);
    }

    /** Writes the gate words that differ: the union of both tables, or just {@code next}. */
    private void writeGates(DispatchTables previous, DispatchTables next, boolean union) {
        int[] oldPorts = previous.ports();
        int[] newPorts = next.ports();
        Map<Integer, Integer> portWrites = new LinkedHashMap<>();
        for (int i = 0; i < newPorts.length; i++) {
            int was = union ? oldPorts[i] : oldPorts[i] | newPorts[i];
            int want = union ? oldPorts[i] | newPorts[i] : newPorts[i];
            if (was != want) {
                portWrites.put(i, want);
            }
        }
        ports.updateAll(portWrites);
        long[] oldBuckets = previous.buckets();
        long[] newBuckets = next.buckets();
        Map<Integer, Long> bucketWrites = new LinkedHashMap<>();
        for (int i = 0; i < newBuckets.length; i++) {
            long was = union ? oldBuckets[i] : oldBuckets[i] | newBuckets[i];
            long want = union ? oldBuckets[i] | newBuckets[i] : newBuckets[i];
            if (was != want) {
                bucketWrites.put(i, want);
            }
        }
        buckets.updateAll(bucketWrites);
    }

    private static byte[] withGeneration(byte[] key, int gen) {
        byte[] k = key.clone();
        k[0] = (byte) gen;
        return k;
    }

    private static byte[] withRangeBase(byte[] value, int base) {
        ByteBuffer b = DispatchTables.buffer(value.length).put(value);
        b.putInt(12, b.getInt(12) + base);
        return b.array();
    }

    /**
     * Closes the program and the maps. Attached through a link, the program keeps running (and
     * keeps the maps alive) until the link closes; close the link first.
     */
    @Override
    public void close() {
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
