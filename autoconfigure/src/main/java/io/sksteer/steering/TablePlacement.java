package io.sksteer.steering;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.BitSet;

/**
 * Where each single-port entry lives: a way of its table bucket, or the singles hash when the
 * bucket is full. A way holds one key until the entry is gone from both generations.
 */
final class TablePlacement {
    final int bits;
    final DispatchTables.Key[] keys;
    final long[] halves;                         // per way: [2 * way + generation]
    int overflowing;
    final int[] overflowCount;
    /** Buckets written at least once: the others still hold zeros, whose halves read as rule 0. */
    final BitSet initialized = new BitSet();

    TablePlacement(int bits) {
        this.bits = bits;
        keys = new DispatchTables.Key[DispatchLayout.WAYS << bits];
        halves = new long[2 * keys.length];
        Arrays.fill(halves, DispatchLayout.NO_TARGET);
        overflowCount = new int[1 << bits];
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

    /** A bucket with no keys and every half absent. */
    static byte[] emptyBucket() {
        ByteBuffer b = DispatchTables.buffer(DispatchLayout.TABLE_BUCKET);
        for (int w = 0; w < DispatchLayout.WAYS; w++) {
            b.position(DispatchLayout.TABLE_HEADER + w * DispatchLayout.WAY_SIZE + DispatchLayout.KEY_SIZE);
            b.putInt(DispatchLayout.NO_RULE).putInt(0).putInt(DispatchLayout.NO_RULE).putInt(0);
        }
        return b.array();
    }

    /** Free ways: zero keys, absent halves. */
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
        ByteBuffer b = DispatchTables.buffer(DispatchLayout.TABLE_BUCKET);
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
        return b.array();
    }
}
