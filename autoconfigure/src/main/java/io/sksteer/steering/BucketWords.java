package io.sksteer.steering;

import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.BitSet;

/**
 * The bucket words of the tables (the length classes present per address bucket, {@link
 * DispatchTables}), kept up to date group by group, and which words the last update changed with
 * their values before it, so that only those are written.
 *
 * <p>A prefix at least a bucket long is entered in two words, counted per word and class, so a
 * withdrawal clears a class no other group has there. A prefix up to {@link
 * DispatchLayout#EXPAND_BITS} shorter ("expanded") is entered in every bucket it covers, not
 * counted: when one goes, the expanded classes are rebuilt from the groups left ({@link
 * #clearExpanded}, then {@link #enter} for each). Shorter prefixes are global lengths, in no word.
 */
final class BucketWords {

    private final int bucketBits;
    private final long[] words;
    /** Per bucket word and class (index << 6 | class), the groups at least a bucket long entered there. */
    private final LongCounts classes;
    /**
     * The words the last update changed, with their values before it: index and old value per
     * word, or every word (a copy of the array before) when it rebuilt the expanded classes.
     */
    private int[] touchedWords = new int[64];
    private long[] touchedValues = new long[64];
    private int touchedCount;
    private final BitSet touchedSet = new BitSet();
    private long[] before;
    private boolean allTouched;
    /** The last update started from no groups: every word was zero before it. */
    private boolean filledFromEmpty;

    BucketWords(int bucketBits, int maxRules) {
        this.bucketBits = bucketBits;
        this.words = new long[4 << bucketBits];
        // Two words per group of a bucket's length or longer, at most a group per rule (capped:
        // the counts grow if a huge capacity fills).
        this.classes = new LongCounts(Math.min(2 * Math.max(1, maxRules), 1 << 18));
    }

    /** The words (read only). */
    long[] words() {
        return words;
    }

    /** Starts recording an update; {@code fromEmpty}: there are no groups yet, every word is zero. */
    void begin(boolean fromEmpty) {
        for (int i = 0; i < touchedCount; i++) {
            touchedSet.clear(touchedWords[i]);
        }
        touchedCount = 0;
        // Filling empty tables: every word was zero before, nothing to record word by word.
        allTouched = fromEmpty;
        filledFromEmpty = fromEmpty;
    }

    private static int bucketLength(boolean v4) {
        return v4 ? DispatchLayout.V4_BUCKET_LENGTH : DispatchLayout.V6_BUCKET_LENGTH;
    }

    /** Whether a prefix of pf is shorter than a bucket, and so entered in several. */
    static boolean isExpanded(int pf, Prefix prefix) {
        return prefix.length() < bucketLength(pf % 2 == 0);
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
     * Enters ({@code sign} 1) or withdraws (-1) the class of a group (pf and prefix) in the words
     * of its buckets. Expanded prefixes are entered only; the return value false says one was
     * withdrawn without clearing its words.
     */
    boolean enter(int pf, Prefix prefix, int sign) {
        boolean v4 = pf % 2 == 0;
        int length = prefix.length();
        int bucketLength = bucketLength(v4);
        if (length < bucketLength - DispatchLayout.EXPAND_BITS) {
            return true;                             // a global length
        }
        int cls = DispatchTables.lengthClass(length, v4);
        if (length >= bucketLength) {
            long product = bucketProduct(prefix.half(0), v4);
            for (int word : new int[] {DispatchTables.firstBucket(product, bucketBits),
                    DispatchTables.secondBucket(product, bucketBits)}) {
                int index = pf << bucketBits | word;
                if (classes.add((long) index << 6 | cls, sign) == 0) {
                    setWord(index, words[index] & ~(1L << cls));
                } else {
                    setWord(index, words[index] | 1L << cls);
                }
            }
            return true;
        }
        if (sign < 0) {
            return false;
        }
        byte[] a = Arrays.copyOf(prefix.address(), 16);
        int free = bucketLength - length;
        int lastByte = bucketLength / 8 - 1;
        for (int v = 0; v < 1 << free; v++) {
            a[lastByte] = (byte) ((a[lastByte] & ~((1 << free) - 1)) | v);
            long product = DispatchTables.bucketProduct(a, v4);
            int first = pf << bucketBits | DispatchTables.firstBucket(product, bucketBits);
            int second = pf << bucketBits | DispatchTables.secondBucket(product, bucketBits);
            setWord(first, words[first] | 1L << cls);
            setWord(second, words[second] | 1L << cls);
        }
        return true;
    }

    /**
     * Clears every expanded class, recording every word as changed; the caller then enters the
     * expanded groups left.
     */
    void clearExpanded() {
        if (!filledFromEmpty) {
            if (before == null) {
                before = new long[words.length];
            }
            System.arraycopy(words, 0, before, 0, words.length);
            for (int i = 0; i < touchedCount; i++) {
                before[touchedWords[i]] = touchedValues[i];
            }
            allTouched = true;
        }
        for (int pf = 0; pf < 4; pf++) {
            long keep = ~expandedClasses(pf % 2 == 0);
            for (int i = pf << bucketBits; i < (pf + 1) << bucketBits; i++) {
                words[i] &= keep;
            }
        }
    }

    private void setWord(int index, long value) {
        if (value != words[index] && !allTouched && !touchedSet.get(index)) {
            touchedSet.set(index);
            if (touchedCount == touchedWords.length) {
                touchedWords = Arrays.copyOf(touchedWords, 2 * touchedCount);
                touchedValues = Arrays.copyOf(touchedValues, 2 * touchedCount);
            }
            touchedWords[touchedCount] = index;
            touchedValues[touchedCount++] = words[index];
        }
        words[index] = value;
    }

    /**
     * Calls {@code visit} with the index, value before and value now of every word the last
     * update may have changed.
     */
    void forEachChangedWord(WordVisitor visit) {
        if (allTouched) {
            for (int i = 0; i < words.length; i++) {
                visit.word(i, filledFromEmpty ? 0 : before[i], words[i]);
            }
        } else {
            for (int i = 0; i < touchedCount; i++) {
                visit.word(touchedWords[i], touchedValues[i], words[touchedWords[i]]);
            }
        }
    }

    interface WordVisitor {
        void word(int index, long before, long now);
    }

    private static final boolean LITTLE_ENDIAN = ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN;

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
}
