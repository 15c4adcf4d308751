package io.sksteer.bpf;

/** Map types this layer creates, with their uapi numbers. */
public enum MapType {
    HASH(1, "BPF_MAP_TYPE_HASH"),
    ARRAY(2, "BPF_MAP_TYPE_ARRAY"),
    PERCPU_ARRAY(6, "BPF_MAP_TYPE_PERCPU_ARRAY"),
    LPM_TRIE(11, "BPF_MAP_TYPE_LPM_TRIE"),
    SOCKMAP(15, "BPF_MAP_TYPE_SOCKMAP"),
    SOCKHASH(18, "BPF_MAP_TYPE_SOCKHASH");

    private final int number;
    private final String kernelName;

    MapType(int number, String kernelName) {
        this.number = number;
        this.kernelName = kernelName;
    }

    public int number() {
        return number;
    }

    public String kernelName() {
        return kernelName;
    }

    /** The type with uapi number {@code number}, or {@code null} if this layer does not know it. */
    public static MapType of(int number) {
        for (MapType t : values()) {
            if (t.number == number) {
                return t;
            }
        }
        return null;
    }
}
