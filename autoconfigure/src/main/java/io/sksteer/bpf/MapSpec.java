package io.sksteer.bpf;

import java.util.EnumSet;
import java.util.Objects;
import java.util.Set;

/**
 * The blueprint of a map. Construction validates what the kernel would reject for the type, so a
 * bad spec fails with a sentence instead of EINVAL.
 *
 * @param name shown by {@code bpftool map}; 1–15 characters of A-Z, a-z, 0-9, '_' and '.'
 * @param type the map type
 * @param keySize bytes per key
 * @param valueSize bytes per value (per CPU for per-CPU maps)
 * @param maxEntries capacity
 * @param flags creation flags
 */
public record MapSpec(String name, MapType type, int keySize, int valueSize, int maxEntries, Set<MapFlag> flags) {

    public MapSpec {
        ProgramSpec.checkName(name);
        Objects.requireNonNull(type, "type");
        flags = flags.isEmpty() ? Set.of() : Set.copyOf(EnumSet.copyOf(flags));
        if (keySize <= 0 || valueSize <= 0) {
            throw invalid(name, "key and value sizes must be positive, got " + keySize + " and " + valueSize);
        }
        if (maxEntries <= 0) {
            throw invalid(name, "max entries must be positive, got " + maxEntries);
        }
        switch (type) {
            case ARRAY, PERCPU_ARRAY -> requireKey(name, type, keySize, 4);
            case SOCKMAP -> {
                requireKey(name, type, keySize, 4);
                requireSocketValue(name, type, valueSize);
            }
            case SOCKHASH -> requireSocketValue(name, type, valueSize);
            case LPM_TRIE -> {
                if (!flags.contains(MapFlag.BPF_F_NO_PREALLOC)) {
                    throw invalid(name, "LPM_TRIE maps require BPF_F_NO_PREALLOC");
                }
                if (keySize < 5 || keySize > 4 + 256) {
                    throw invalid(name, "LPM_TRIE keys are a u32 prefix length plus 1 to 256 data bytes, got " + keySize);
                }
            }
            case HASH -> {
                // any positive sizes
            }
        }
    }

    /** A spec with no flags. */
    public static MapSpec of(String name, MapType type, int keySize, int valueSize, int maxEntries) {
        return new MapSpec(name, type, keySize, valueSize, maxEntries, Set.of());
    }

    /** A SOCKMAP with u32 slots and 8-byte values (a lookup from user space returns the socket cookie). */
    public static MapSpec sockMap(String name, int maxEntries) {
        return of(name, MapType.SOCKMAP, 4, 8, maxEntries);
    }

    /** An LPM_TRIE whose keys hold {@code dataBytes} bytes after the prefix length. */
    public static MapSpec lpmTrie(String name, int dataBytes, int valueSize, int maxEntries) {
        return new MapSpec(name, MapType.LPM_TRIE, 4 + dataBytes, valueSize, maxEntries, Set.of(MapFlag.BPF_F_NO_PREALLOC));
    }

    private static void requireKey(String name, MapType type, int keySize, int expected) {
        if (keySize != expected) {
            throw invalid(name, type.kernelName() + " keys are " + expected + " bytes, got " + keySize);
        }
    }

    private static void requireSocketValue(String name, MapType type, int valueSize) {
        if (valueSize != 8 && valueSize != 4) {
            throw invalid(name, type.kernelName() + " values are 8 bytes (fd in, cookie out) or 4, got " + valueSize);
        }
    }

    private static IllegalArgumentException invalid(String name, String problem) {
        return new IllegalArgumentException("map '" + name + "': " + problem);
    }
}
