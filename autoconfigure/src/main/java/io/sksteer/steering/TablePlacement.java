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
    /** Buckets per chunk: the state of a chunk is made when one of its buckets is first used. */
    private static final int CHUNK_BITS = 10;
    private final int bits;
    private final int chunkBits;
    private final Chunk[] chunks;
    private int overflowing;
    /** Buckets written at least once: the others still hold zeros, whose halves read as rule 0. */
    private final BitSet initialized = new BitSet();

    /**
     * The keys, halves and overflow counts of {@code 1 << chunkBits} buckets. Memory follows the
     * buckets the rules use: a table for millions of rules that holds four costs four chunks.
     */
    private static final class Chunk {
        final DispatchTables.Key[] keys;
        final long[] halves;                     // per way: [2 * way + generation]
        final int[] overflowCount;

        Chunk(int buckets) {
            keys = new DispatchTables.Key[DispatchLayout.WAYS * buckets];
            halves = new long[2 * keys.length];
            Arrays.fill(halves, DispatchLayout.NO_TARGET);
            overflowCount = new int[buckets];
        }
    }

    TablePlacement(int bits) {
        this.bits = bits;
        this.chunkBits = Math.min(bits, CHUNK_BITS);
        this.chunks = new Chunk[1 << (bits - chunkBits)];
    }

    /** The chunk of {@code bucket}, made if {@code make}; else null when it was never used. */
    private Chunk chunk(int bucket, boolean make) {
        int i = bucket >>> chunkBits;
        Chunk c = chunks[i];
        if (c == null && make) {
            c = chunks[i] = new Chunk(1 << chunkBits);
        }
        return c;
    }

    /** Index of a way within its chunk. */
    private int local(int way) {
        return way - ((way / DispatchLayout.WAYS) >>> chunkBits << chunkBits) * DispatchLayout.WAYS;
    }

    private DispatchTables.Key key(int way) {
        Chunk c = chunk(way / DispatchLayout.WAYS, false);
        return c == null ? null : c.keys[local(way)];
    }

    private long half(int way, int gen) {
        Chunk c = chunk(way / DispatchLayout.WAYS, false);
        return c == null ? DispatchLayout.NO_TARGET : c.halves[2 * local(way) + gen];
    }

    private int overflowCount(int bucket) {
        Chunk c = chunk(bucket, false);
        return c == null ? 0 : c.overflowCount[bucket & ((1 << chunkBits) - 1)];
    }

    /** Buckets of the table. */
    int buckets() {
        return 1 << bits;
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
            if (key.equals(key(w))) {
                return w;
            }
        }
        return -1;
    }

    /** Gives a new entry a free way of its bucket, returned; -1 when the bucket is full (the entry overflows). */
    int place(DispatchTables.Key key) {
        int bucket = bucketOf(key);
        Chunk c = chunk(bucket, true);
        for (int w = bucket * DispatchLayout.WAYS; w < (bucket + 1) * DispatchLayout.WAYS; w++) {
            if (c.keys[local(w)] == null) {
                c.keys[local(w)] = key;
                return w;
            }
        }
        overflowing++;
        c.overflowCount[bucket & ((1 << chunkBits) - 1)]++;
        return -1;
    }

    /** Sets what {@code way} holds in generation {@code gen}. */
    void prepare(int way, int gen, long target) {
        chunk(way / DispatchLayout.WAYS, true).halves[2 * local(way) + gen] = target;
    }

    /** Sets what {@code way} holds in both generations; with no target, the way is free again. */
    void settle(int way, long target) {
        Chunk c = chunk(way / DispatchLayout.WAYS, true);
        int l = local(way);
        c.halves[2 * l] = target;
        c.halves[2 * l + 1] = target;
        if (target == DispatchLayout.NO_TARGET) {
            c.keys[l] = null;
        }
    }

    /** An overflowing entry gone from both generations; true when its bucket overflows no more. */
    boolean releaseOverflow(DispatchTables.Key key) {
        overflowing--;
        int bucket = bucketOf(key);
        return --chunk(bucket, true).overflowCount[bucket & ((1 << chunkBits) - 1)] == 0;
    }

    boolean isInitialized(int bucket) {
        return initialized.get(bucket);
    }

    void markInitialized(BitSet buckets) {
        initialized.or(buckets);
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
            b.putInt(overflowCount(bucket) > 0 ? 1 : 0).putInt(0);
            for (int w = bucket * DispatchLayout.WAYS; w < (bucket + 1) * DispatchLayout.WAYS; w++) {
                DispatchTables.Key k = key(w);
                if (k == null) {
                    b.position(b.position() + DispatchLayout.KEY_SIZE);
                } else {
                    k.writeTo(b);
                }
                for (int gen = 0; gen < 2; gen++) {
                    long t = half(w, gen);
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
