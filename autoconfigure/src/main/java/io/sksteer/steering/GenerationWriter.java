package io.sksteer.steering;

import io.sksteer.bpf.BpfProgram;
import io.sksteer.bpf.MappedValues;
import java.nio.ByteBuffer;
import java.util.BitSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The only writer of the dispatcher's maps. Every entry holds a value for each of two
 * generations; the state map says which is in force.
 *
 * <ul>
 *   <li>{@link #fillEmpty}: before anything reads the maps (nothing attached), both halves at
 *       once, whole arrays in one copy each, then the generation.</li>
 *   <li>{@link #replace}: prepare (the next rules into the half not in force, invisible to
 *       lookups) → flip (one word) → wait (until no program run can still read the old half) →
 *       settle (the old half made equal to the new, entries gone deleted). No lookup sees a mix
 *       of old and new rules.</li>
 * </ul>
 */
final class GenerationWriter {

    private final DispatcherObjects maps;
    private final EntryPlanner planner;
    /** The gate words before the change being made (the tables keep the bucket words'). */
    private final int[] previousPorts = new int[DispatchLayout.PORT_ENTRIES];
    private int generation;
    private int written;
    private int deleted;
    private int gateWords;
    private int bucketWords;

    GenerationWriter(DispatcherObjects maps, EntryPlanner planner) {
        this.maps = maps;
        this.planner = planner;
    }

    /** The generation in force: it changes at the flip. */
    int generation() {
        return generation;
    }

    /** Zeroes the counters of rule ids that are used again. */
    void zeroCounters(List<Integer> ids) {
        maps.counters.updateAll(ids, RuleCounters.ZERO);
    }

    /** Remembers the gate words of {@code tables} before a change, so that it writes only those that differ. */
    void gatesBefore(TableState tables) {
        System.arraycopy(tables.ports(), 0, previousPorts, 0, previousPorts.length);
    }

    /** Writes {@code plan} into empty maps nothing reads yet, and puts it in force. */
    Dispatcher.ApplyStats fillEmpty(EntryPlanner.Plan plan, TableState tables) {
        reset();
        int next = 1 - generation;
        EntryPlanner.Step step = plan.settle();
        // Only the buckets the rules use: the others keep the zeros the kernel created them with,
        // whose keys match nothing, and get absent halves before their first key (see
        // EntryPlanner.Plan#prepare). The cost follows the rules, not the capacity.
        writeBuckets(step.buckets());
        written += step.buckets().cardinality();
        writeEntries(step);
        writeLengths(tables, next);
        writeAllGates(tables);
        MappedValues.publish();
        maps.state.update(0, next);
        generation = next;
        return stats();
    }

    /**
     * Puts {@code plan} in force while the program runs. When it throws, {@link #generation()}
     * says whether the flip was made.
     */
    Dispatcher.ApplyStats replace(EntryPlanner.Plan plan, TableState tables) {
        reset();
        int next = 1 - generation;
        // 1. The new rules in the other generation's half, invisible until the flip.
        EntryPlanner.Step prepare = plan.prepare(generation);
        prepare.firstBuckets().forEach(maps.table.mapValues()::put);
        MappedValues.publish();
        written += prepare.firstBuckets().size();
        // Each write changes only what no program run of the generation in force reads: the
        // other half, a way whose key it has no rule for, or an overflow mark that only adds a
        // probe. The order does not matter.
        maps.singles.updateAll(prepare.singleWrites());
        writeBuckets(prepare.buckets());
        maps.summaries.updateAll(prepare.summaryWrites());
        written += prepare.buckets().cardinality() + prepare.singleWrites().size() + prepare.summaryWrites().size();
        writeLengths(tables, next);
        // 2. Gates admit both rule sets while both may be read.
        writeGates(tables, true);
        // 3. The flip, after every store above.
        MappedValues.publish();
        maps.state.update(0, next);
        generation = next;
        // 4. Once no program run can still be reading the old half, align it (or delete).
        BpfProgram.awaitRunsInFlight();
        // The generation in force has none of the deleted entries or freed ways, and the
        // writes change only the half it does not read.
        EntryPlanner.Step settle = plan.settle();
        writeBuckets(settle.buckets());
        written += settle.buckets().cardinality();
        writeEntries(settle);
        writeGates(tables, false);
        return stats();
    }

    private void reset() {
        written = 0;
        deleted = 0;
        gateWords = 0;
        bucketWords = 0;
    }

    private Dispatcher.ApplyStats stats() {
        return new Dispatcher.ApplyStats(written, deleted, gateWords, bucketWords, planner.overflowing());
    }

    private void writeBuckets(BitSet dirty) {
        MappedValues ways = maps.table.mapValues();
        for (int b = dirty.nextSetBit(0); b >= 0; b = dirty.nextSetBit(b + 1)) {
            ways.put(b, planner.bucketBytes(b));
        }
    }

    /** The hash entries of a settling step: writes, then deletes. */
    private void writeEntries(EntryPlanner.Step step) {
        maps.singles.updateAll(step.singleWrites());
        maps.summaries.updateAll(step.summaryWrites());
        maps.singles.deleteAll(step.singleDeletes());
        maps.summaries.deleteAll(step.summaryDeletes());
        written += step.singleWrites().size() + step.summaryWrites().size();
        deleted += step.singleDeletes().size() + step.summaryDeletes().size();
    }

    private void writeLengths(TableState t, int gen) {
        Map<Integer, byte[]> writes = new LinkedHashMap<>();
        Map<Integer, Long> globalWrites = new LinkedHashMap<>();
        for (int pf = 0; pf < 4; pf++) {
            int base = (gen * 4 + pf) * DispatchLayout.MAX_LENGTHS;
            List<DispatchTables.Length> list = t.lengths(pf);
            for (int i = 0; i < list.size(); i++) {
                writes.put(base + i, DispatchTables.lengthRecord(list.get(i), pf % 2 == 0));
            }
            if (list.size() < DispatchLayout.MAX_LENGTHS) {
                writes.put(base + list.size(), DispatchTables.lengthRecord(null, true));
            }
            globalWrites.put(gen * 4 + pf, t.globals()[pf]);
        }
        writes.forEach(maps.lengths.mapValues()::put);
        globalWrites.forEach(maps.globals.mapValues()::putLong);
    }

    /** Writes the gate and bucket words that differ: the union of before and after the change, or just after. */
    private void writeGates(TableState tables, boolean union) {
        int[] oldPorts = previousPorts;
        int[] newPorts = tables.ports();
        MappedValues portValues = maps.ports.mapValues();
        for (int i = 0; i < newPorts.length; i++) {
            int was = union ? oldPorts[i] : oldPorts[i] | newPorts[i];
            int want = union ? oldPorts[i] | newPorts[i] : newPorts[i];
            if (was != want) {
                portValues.putInt(i, want);
                gateWords++;
            }
        }
        MappedValues bucketValues = maps.buckets.mapValues();
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
    private void writeAllGates(TableState tables) {
        int[] portWords = tables.ports();
        long[] bucketWordsNow = tables.buckets();
        ByteBuffer portImage = DispatchTables.buffer(DispatchLayout.PORT_ENTRIES * 8);
        for (int i = 0; i < DispatchLayout.PORT_ENTRIES; i++) {
            portImage.putInt(8 * i, portWords[i]);
            gateWords += portWords[i] != 0 ? 1 : 0;
        }
        maps.ports.mapValues().putAll(portImage.array());
        ByteBuffer bucketImage = DispatchTables.buffer(8 * bucketWordsNow.length);
        bucketImage.asLongBuffer().put(bucketWordsNow);
        for (long word : bucketWordsNow) {
            bucketWords += word != 0 ? 1 : 0;
        }
        maps.buckets.mapValues().putAll(bucketImage.array());
    }
}
