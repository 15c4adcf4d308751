package io.sksteer.bpf;

/**
 * What the kernel reports about a map ({@code struct bpf_map_info}).
 *
 * @param id the kernel-wide map id shown by {@code bpftool map}
 * @param type the map type, or {@code null} if this layer does not know it
 * @param typeNumber the uapi type number
 * @param name the name given at creation
 * @param keySize bytes per key
 * @param valueSize bytes per value
 * @param maxEntries capacity
 * @param flags creation flags
 */
public record MapInfo(int id, MapType type, int typeNumber, String name, int keySize, int valueSize, int maxEntries,
        int flags) {
}
