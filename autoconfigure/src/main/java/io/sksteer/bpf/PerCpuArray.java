package io.sksteer.bpf;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BinaryOperator;

/**
 * A PERCPU_ARRAY: every index holds one value per possible CPU, so programs update it without
 * atomics; user space reads all copies and sums them.
 *
 * @param <V> value type
 */
public final class PerCpuArray<V> extends KernelMap {

    private final Codec<V> values;
    private final int stride;

    private PerCpuArray(MapSpec spec, Codec<V> values) {
        super(spec);
        this.values = values;
        // The kernel lays per-CPU values out 8-byte aligned (round_up(value_size, 8) each).
        this.stride = (spec.valueSize() + 7) & ~7;
    }

    public static <V> PerCpuArray<V> create(MapSpec spec, Codec<V> values) {
        if (spec.type() != MapType.PERCPU_ARRAY) {
            throw new IllegalArgumentException("map '" + spec.name() + "' is " + spec.type().kernelName() + ", not PERCPU_ARRAY");
        }
        if (values.size() != spec.valueSize()) {
            throw new IllegalArgumentException("map '" + spec.name() + "': codec encodes " + values.size()
                    + " bytes, spec says " + spec.valueSize());
        }
        return new PerCpuArray<>(spec, values);
    }

    /** The value of every possible CPU at {@code index}. */
    public List<V> lookupPerCpu(int index) {
        int cpus = Cpus.possible();
        byte[] all = lookupBytes(key(index), stride * cpus);
        if (all == null) {
            throw new IndexOutOfBoundsException("map '" + name() + "' has " + spec().maxEntries() + " entries, no index " + index);
        }
        ByteBuffer b = ByteBuffer.wrap(all).order(ByteOrder.nativeOrder());
        List<V> out = new ArrayList<>(cpus);
        for (int cpu = 0; cpu < cpus; cpu++) {
            b.position(cpu * stride);
            out.add(values.decode(b.slice().order(ByteOrder.nativeOrder())));
        }
        return out;
    }

    /** The values of every CPU at {@code index} combined with {@code add}. */
    public V sum(int index, BinaryOperator<V> add) {
        return lookupPerCpu(index).stream().reduce(add).orElseThrow();
    }

    /** Sets every CPU's copy at {@code index} to {@code value}. */
    public void update(int index, V value) {
        int cpus = Cpus.possible();
        ByteBuffer b = ByteBuffer.allocate(stride * cpus).order(ByteOrder.nativeOrder());
        byte[] one = values.toBytes(value);
        for (int cpu = 0; cpu < cpus; cpu++) {
            b.position(cpu * stride);
            b.put(one);
        }
        updateBytes(key(index), b.array(), UpdateFlag.ANY);
    }

    /** Sets every CPU's copy at each of {@code indexes} to {@code value}, in one call where possible. */
    public void updateAll(java.util.Collection<Integer> indexes, V value) {
        if (indexes.isEmpty()) {
            return;
        }
        int cpus = Cpus.possible();
        ByteBuffer one = ByteBuffer.allocate(stride * cpus).order(ByteOrder.nativeOrder());
        byte[] v = values.toBytes(value);
        for (int cpu = 0; cpu < cpus; cpu++) {
            one.position(cpu * stride);
            one.put(v);
        }
        List<byte[]> keys = new ArrayList<>(indexes.size());
        List<byte[]> vals = new ArrayList<>(indexes.size());
        for (int index : indexes) {
            keys.add(key(index));
            vals.add(one.array());
        }
        updateAllBytes(keys, vals, stride * cpus, UpdateFlag.ANY);
    }

    private static byte[] key(int index) {
        return ByteBuffer.allocate(4).order(ByteOrder.nativeOrder()).putInt(index).array();
    }
}
