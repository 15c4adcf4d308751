package io.sksteer.steering;

/** Counts by long key, in two arrays (open addressing): no object per entry. */
final class LongCounts {
    private long[] keys;
    private int[] counts;
    private boolean[] used;
    private int size;

    /** Room for about {@code expected} keys before the first growth. */
    LongCounts(int expected) {
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
