package io.sksteer.bpf;

import java.util.Set;

/** Flags of {@code BPF_MAP_CREATE}. */
public enum MapFlag {
    /** {@code BPF_F_NO_PREALLOC}: allocate elements on insert. LPM_TRIE requires it. */
    BPF_F_NO_PREALLOC(1),
    /** {@code BPF_F_MMAPABLE}: an ARRAY whose values user space may map and write directly (Linux 5.5). */
    BPF_F_MMAPABLE(1 << 10);

    private final int bit;

    MapFlag(int bit) {
        this.bit = bit;
    }

    public int bit() {
        return bit;
    }

    static int mask(Set<MapFlag> flags) {
        int m = 0;
        for (MapFlag f : flags) {
            m |= f.bit;
        }
        return m;
    }
}
