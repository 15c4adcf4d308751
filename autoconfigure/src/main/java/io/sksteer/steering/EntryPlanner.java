package io.sksteer.steering;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Turns the entries a rule change touches ({@link GroupEntries.Change}) into the map writes of the
 * two steps of a change, without a kernel: {@link Plan#prepare} (before the flip: the next rules
 * into the half not in force) and {@link Plan#settle} (after it: both halves equal, entries gone
 * deleted). It owns the {@link TablePlacement} and keeps it in step with the plans it makes; the
 * {@link GenerationWriter} writes what the steps say.
 */
final class EntryPlanner {

    /** A way index meaning: in the singles hash. */
    private static final int IN_HASH = -1;
    /** A way index meaning: not looked up yet. */
    private static final int UNKNOWN = -2;

    private final TablePlacement placement;

    EntryPlanner(int tableBits) {
        this.placement = new TablePlacement(tableBits);
    }

    /** Single-port entries in the singles hash because their table bucket is full. */
    int overflowing() {
        return placement.overflowing();
    }

    /** Buckets of the table. */
    int buckets() {
        return placement.buckets();
    }

    /** The bytes of one table bucket as the placement has it now. */
    byte[] bucketBytes(int bucket) {
        return placement.bucketBytes(bucket);
    }

    /**
     * The writes of one step. Single-port entries go to table buckets ({@code buckets}, their
     * bytes from {@link #bucketBytes}) or the singles hash; {@code firstBuckets} are buckets never
     * written before, to be written empty first.
     */
    record Step(Map<Integer, byte[]> firstBuckets, BitSet buckets, Map<byte[], byte[]> singleWrites,
            List<byte[]> singleDeletes, Map<byte[], byte[]> summaryWrites, List<byte[]> summaryDeletes) {
    }

    /** Places the new single-port entries of {@code delta}: a free way of their bucket, or the singles hash. */
    Plan plan(GroupEntries.Change delta) {
        return new Plan(delta);
    }

    /** The entries of one change and where each single-port entry lives. */
    final class Plan {
        private final List<DispatchTables.Key> singleKeys;
        private final List<long[]> singleTargets;   // {old, next}; NO_TARGET where absent
        private final List<byte[]> summaryKeys = new ArrayList<>();
        private final List<DispatchTables.Summary[]> summaryValues;
        /** The way of each single-port entry (by index in singleKeys), {@link #IN_HASH} or {@link #UNKNOWN}. */
        private final int[] ways;

        private Plan(GroupEntries.Change delta) {
            singleKeys = delta.singleKeys;
            singleTargets = delta.singleTargets;
            delta.summaryKeys.forEach(k -> summaryKeys.add(k.bytes()));
            summaryValues = delta.summaryValues;
            ways = new int[singleKeys.size()];
            Arrays.fill(ways, UNKNOWN);
            for (int i = 0; i < singleKeys.size(); i++) {
                if (singleTargets.get(i)[0] == DispatchLayout.NO_TARGET) {
                    ways[i] = placement.place(singleKeys.get(i));   // in force: placed when it was added
                }
            }
        }

        private int way(int i) {
            if (ways[i] == UNKNOWN) {
                ways[i] = placement.wayOf(singleKeys.get(i));
            }
            return ways[i];
        }

        /** Before the flip: the next rules into the half of generation {@code inForce ^ 1}. */
        Step prepare(int inForce) {
            Map<byte[], byte[]> singleWrites = new LinkedHashMap<>();
            BitSet dirty = new BitSet();
            for (int i = 0; i < singleKeys.size(); i++) {
                DispatchTables.Key key = singleKeys.get(i);
                long[] t = singleTargets.get(i);
                int way = way(i);
                if (way != IN_HASH) {
                    placement.prepare(way, 1 - inForce, t[1]);
                    dirty.set(way / DispatchLayout.WAYS);
                } else {
                    singleWrites.put(key.bytes(), singleValue(inForce, t[0], t[1]));
                    dirty.set(placement.bucketOf(key));      // its overflow mark
                }
            }
            // A bucket never written holds zeros, read as rule 0 in both halves: it first gets
            // absent halves under keys that match nothing, and only then its keys.
            Map<Integer, byte[]> firstWrites = new TreeMap<>();
            dirty.stream().filter(b -> !placement.isInitialized(b)).forEach(b -> firstWrites.put(b, TablePlacement.emptyBucket()));
            BitSet first = new BitSet();
            firstWrites.keySet().forEach(first::set);
            placement.markInitialized(first);
            Map<byte[], byte[]> summaryWrites = new LinkedHashMap<>();
            for (int i = 0; i < summaryKeys.size(); i++) {
                DispatchTables.Summary[] v = summaryValues.get(i);
                summaryWrites.put(summaryKeys.get(i), summaryValue(inForce, v[0], v[1]));
            }
            return new Step(firstWrites, dirty, singleWrites, List.of(), summaryWrites, List.of());
        }

        /** After the flip (or before anything reads the maps): both halves hold the next rules. */
        Step settle() {
            Map<byte[], byte[]> singleWrites = new LinkedHashMap<>();
            List<byte[]> singleDeletes = new ArrayList<>();
            BitSet dirty = new BitSet();
            for (int i = 0; i < singleKeys.size(); i++) {
                DispatchTables.Key key = singleKeys.get(i);
                long target = singleTargets.get(i)[1];
                int way = way(i);
                if (way != IN_HASH) {
                    placement.settle(way, target);
                    dirty.set(way / DispatchLayout.WAYS);
                } else if (target == DispatchLayout.NO_TARGET) {
                    singleDeletes.add(key.bytes());
                    if (placement.releaseOverflow(key)) {
                        dirty.set(placement.bucketOf(key));
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
            placement.markInitialized(dirty);
            return new Step(Map.of(), dirty, singleWrites, singleDeletes, summaryWrites, summaryDeletes);
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
}
