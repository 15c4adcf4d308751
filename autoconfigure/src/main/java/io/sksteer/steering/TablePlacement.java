package io.sksteer.steering;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.BitSet;

/**
 * Where each single-port entry lives: a way of its table bucket, or the singles hash when the
 * bucket is full. A way holds one key until the entry is gone from both generations
 * ({@link #place} takes a way, {@link #settle} with no target releases it). Also what each way
 * holds per generation, and which buckets have been written at least once.
 */
final class TablePlacement {
    private final int bits;
    private final DispatchTables.Key[] keys;
    private final long[] halves;                 // per way: [2 * way + generation]
    private int overflowing;
    private final int[] overflowCount;
    /** Buckets written at least once: the others still hold zeros, whose halves read as rule 0. */
    private final BitSet initialized = new BitSet();

    TablePlacement(int bits) {
        this.bits = bits;
        keys = new DispatchTables.Key[DispatchLayout.WAYS << bits];
        halves = new long[2 * keys.length];
        Arrays.fill(halves, DispatchLayout.NO_TARGET);
        overflowCount = new int[1 << bits];
    }

    /** Buckets of the table. */
    int buckets() {
        return overflowCount.length;
    }

    /** Single-port entries in the singles hash because their bucket is full. */
    int overflowing() {
        return overflowing;
    }

    int bucketOf(DispatchTables.Key key) {
        return key.tableBucket(bits);
    }

    /** The way holding {@code key}, or -1 if it is not in its bucket. */
    int wayOf(DispatchTables.Key key) {
        int first = bucketOf(key) * DispatchLayout.WAYS;
        for (int w = first; w < first + DispatchLayout.WAYS; w++) {
            if (key.equals(keys[w])) {
                return w;
            }
        }
        return -1;
    }

    /** Gives a new entry a free way of its bucket, returned; -1 when the bucket is full (the entry overflows). */
    int place(DispatchTables.Key key) {
        int bucket = bucketOf(key);
        for (int w = bucket * DispatchLayout.WAYS; w < (bucket + 1) * DispatchLayout.WAYS; w++) {
            if (keys[w] == null) {
                keys[w] = key;
                return w;
            }
        }
        overflowing++;
        overflowCount[bucket]++;
        return -1;
    }

    /** Sets what {@code way} holds in generation {@code gen}. */
    void prepare(int way, int gen, long target) {
        halves[2 * way + gen] = target;
    }

    /** Sets what {@code way} holds in both generations; with no target, the way is free again. */
    void settle(int way, long target) {
        halves[2 * way] = target;
        halves[2 * way + 1] = target;
        if (target == DispatchLayout.NO_TARGET) {
            keys[way] = null;
        }
    }

    /** An overflowing entry gone from both generations; true when its bucket overflows no more. */
    boolean releaseOverflow(DispatchTables.Key key) {
        overflowing--;
        return --overflowCount[bucketOf(key)] == 0;
    }

    boolean isInitialized(int bucket) {
        return initialized.get(bucket);
    }

    void markInitialized(BitSet buckets) {
        initialized.or(buckets);
    }

    void markAllInitialized() {
        initialized.set(0, overflowCount.length);
    }

    /** A bucket with no keys and every half absent. */
    static byte[] emptyBucket() {
        ByteBuffer b = DispatchTables.buffer(DispatchLayout.TABLE_BUCKET);
        for (int w = 0; w < DispatchLayout.WAYS; w++) {
            b.position(DispatchLayout.TABLE_HEADER + w * DispatchLayout.WAY_SIZE + DispatchLayout.KEY_SIZE);
            b.putInt(DispatchLayout.NO_RULE).putInt(0).putInt(DispatchLayout.NO_RULE).putInt(0);
        }
        return b.array();
    }

    /** Buckets {@code first} to {@code first + count - 1}, as consecutive elements of the table's value region. */
    byte[] image(int first, int count) {
        ByteBuffer b = DispatchTables.buffer(count * DispatchLayout.TABLE_BUCKET);
        for (int bucket = first; bucket < first + count; bucket++) {
            b.putInt(overflowCount[bucket] > 0 ? 1 : 0).putInt(0);
            for (int w = bucket * DispatchLayout.WAYS; w < (bucket + 1) * DispatchLayout.WAYS; w++) {
                if (keys[w] == null) {
                    b.position(b.position() + DispatchLayout.KEY_SIZE);
                } else {
                    keys[w].writeTo(b);
                }
                for (int gen = 0; gen < 2; gen++) {
                    long t = halves[2 * w + gen];
                    b.putInt((int) (t >>> 32)).putInt((int) t);
                }
            }
        }
        return b.array();
    }

    byte[] bucketBytes(int bucket) {
        return image(bucket, 1);
    }
}
