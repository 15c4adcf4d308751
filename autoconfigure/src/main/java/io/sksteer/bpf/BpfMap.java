package io.sksteer.bpf;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A typed HASH, ARRAY or LPM_TRIE map.
 *
 * @param <K> key type
 * @param <V> value type
 */
public final class BpfMap<K, V> extends KernelMap {

    private final Codec<K> keys;
    private final Codec<V> values;
    private MappedValues mapped;

    private BpfMap(MapSpec spec, Codec<K> keys, Codec<V> values) {
        super(spec);
        this.keys = keys;
        this.values = values;
    }

    /**
     * The values of this ARRAY, mapped for direct stores (the map must have
     * {@link MapFlag#BPF_F_MMAPABLE}). Mapped once; unmapped when the map is closed.
     */
    public synchronized MappedValues mapValues() {
        if (spec().type() != MapType.ARRAY || !spec().flags().contains(MapFlag.BPF_F_MMAPABLE)) {
            throw new IllegalStateException("map '" + name() + "' is not an ARRAY created with BPF_F_MMAPABLE");
        }
        if (mapped == null) {
            mapped = new MappedValues(spec(), io.sksteer.bpf.internal.Mapping.of(fd(),
                    (long) spec().maxEntries() * MappedValues.stride(spec().valueSize()), "map the values of '" + name() + "'"));
        }
        return mapped;
    }

    @Override
    public synchronized void close() {
        if (mapped != null) {
            mapped.close();
        }
        super.close();
    }

    /** Creates the map in the kernel. */
    public static <K, V> BpfMap<K, V> create(MapSpec spec, Codec<K> keys, Codec<V> values) {
        switch (spec.type()) {
            case HASH, ARRAY, LPM_TRIE -> {
            }
            default -> throw new IllegalArgumentException("map '" + spec.name() + "': use "
                    + (spec.type() == MapType.PERCPU_ARRAY ? "PerCpuArray" : "SocketMap") + " for " + spec.type().kernelName());
        }
        if (keys.size() != spec.keySize() || values.size() != spec.valueSize()) {
            throw new IllegalArgumentException("map '" + spec.name() + "': codecs encode " + keys.size() + "/"
                    + values.size() + " bytes, spec says " + spec.keySize() + "/" + spec.valueSize());
        }
        return new BpfMap<>(spec, keys, values);
    }

    public Optional<V> lookup(K key) {
        byte[] v = lookupBytes(keys.toBytes(key), spec().valueSize());
        return v == null ? Optional.empty() : Optional.of(values.fromBytes(v));
    }

    /** Creates or replaces. */
    public void update(K key, V value) {
        update(key, value, UpdateFlag.ANY);
    }

    /**
     * @throws BpfException EEXIST with {@link UpdateFlag#NOEXIST} on a present key, ENOENT with
     *     {@link UpdateFlag#EXIST} on an absent one, E2BIG when a hash map is full
     */
    public void update(K key, V value, UpdateFlag flag) {
        updateBytes(keys.toBytes(key), values.toBytes(value), flag);
    }

    /**
     * Creates or replaces every entry of {@code entries}, in one system call where the kernel has
     * batch updates (Linux 5.6), else one call per entry. Not atomic as a whole.
     */
    public void updateAll(Map<K, V> entries) {
        List<byte[]> k = new ArrayList<>(entries.size());
        List<byte[]> v = new ArrayList<>(entries.size());
        entries.forEach((key, value) -> {
            k.add(keys.toBytes(key));
            v.add(values.toBytes(value));
        });
        updateAllBytes(k, v, spec().valueSize(), UpdateFlag.ANY);
    }

    /** Deletes every key of {@code keys} (absent ones are skipped), in batches where the kernel has them. */
    public void deleteAll(java.util.Collection<K> keys) {
        List<byte[]> k = new ArrayList<>(keys.size());
        keys.forEach(key -> k.add(this.keys.toBytes(key)));
        deleteAllBytes(k);
    }

    /** Deletes; false if the key was absent. ARRAY elements cannot be deleted (EINVAL). */
    public boolean delete(K key) {
        return deleteBytes(keys.toBytes(key));
    }

    /** Every key, in the kernel's iteration order. */
    public List<K> keys() {
        List<K> out = new ArrayList<>();
        for (byte[] k : keyBytes()) {
            out.add(keys.fromBytes(k));
        }
        return out;
    }

    /** Every entry present while iterating. */
    public Map<K, V> entries() {
        Map<K, V> out = new LinkedHashMap<>();
        for (byte[] k : keyBytes()) {
            byte[] v = lookupBytes(k, spec().valueSize());
            if (v != null) {
                out.put(keys.fromBytes(k), values.fromBytes(v));
            }
        }
        return out;
    }
}
