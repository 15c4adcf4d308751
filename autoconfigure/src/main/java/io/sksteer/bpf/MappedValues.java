package io.sksteer.bpf;

import io.sksteer.bpf.internal.Mapping;

/**
 * The values of an mmap-able ARRAY as user memory: element {@code i} starts at {@code i} times
 * the value size rounded up to 8 bytes. Stores of 4 and 8 bytes are single aligned stores, so a
 * program reading the word sees the old value or the new one; longer writes are copies, and a
 * program may read them half done. Ordering between stores is the CPU's: call
 * {@link #publish()} where later readers must see every earlier store first.
 */
public final class MappedValues {

    private final MapSpec spec;
    private final Mapping mapping;
    private final int stride;

    MappedValues(MapSpec spec, Mapping mapping) {
        this.spec = spec;
        this.mapping = mapping;
        this.stride = stride(spec.valueSize());
    }

    static int stride(int valueSize) {
        return (valueSize + 7) & ~7;
    }

    private long at(int index, int size) {
        if (index < 0 || index >= spec.maxEntries() || size > spec.valueSize()) {
            throw new IndexOutOfBoundsException("map '" + spec.name() + "': element " + index + " (" + size + " bytes)");
        }
        return (long) index * stride;
    }

    public void putInt(int index, int value) {
        mapping.putInt(at(index, 4), value);
    }

    public void putLong(int index, long value) {
        mapping.putLong(at(index, 8), value);
    }

    /** Copies {@code value} (the whole value) into element {@code index}. */
    public void put(int index, byte[] value) {
        if (value.length != spec.valueSize()) {
            throw new IllegalArgumentException("map '" + spec.name() + "': value of " + value.length + " bytes, not "
                    + spec.valueSize());
        }
        mapping.put(at(index, value.length), value);
    }

    /**
     * Copies {@code image}, every element at its place (the value region as the kernel lays it
     * out: {@code maxEntries} × the stride), in one copy. For maps no program reads yet.
     */
    public void putAll(byte[] image) {
        if (image.length != (long) spec.maxEntries() * stride) {
            throw new IllegalArgumentException("map '" + spec.name() + "': image of " + image.length + " bytes, not "
                    + (long) spec.maxEntries() * stride);
        }
        mapping.put(0, image);
    }

    /**
     * Copies {@code elements}, consecutive elements laid out as the kernel does (each value at a
     * multiple of the stride), starting at element {@code first}, in one copy.
     */
    public void putRange(int first, byte[] elements) {
        if (elements.length % stride != 0 || first < 0
                || (long) first + elements.length / stride > spec.maxEntries()) {
            throw new IllegalArgumentException("map '" + spec.name() + "': " + elements.length + " bytes at element "
                    + first + " are not whole elements within " + spec.maxEntries());
        }
        mapping.put((long) first * stride, elements);
    }

    public int getInt(int index) {
        return mapping.getInt(at(index, 4));
    }

    public long getLong(int index) {
        return mapping.getLong(at(index, 8));
    }

    /** A full fence: every store made before it is visible to programs before any store made after it. */
    public static void publish() {
        java.lang.invoke.VarHandle.fullFence();
    }

    void close() {
        mapping.close();
    }
}
