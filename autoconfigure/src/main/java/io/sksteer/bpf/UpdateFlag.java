package io.sksteer.bpf;

/** How a map update treats an existing key. */
public enum UpdateFlag {
    /** {@code BPF_ANY}: create or replace. */
    ANY(0),
    /** {@code BPF_NOEXIST}: create only; EEXIST if present. */
    NOEXIST(1),
    /** {@code BPF_EXIST}: replace only; ENOENT if absent. For a SOCKMAP the swap is atomic. */
    EXIST(2);

    private final int value;

    UpdateFlag(int value) {
        this.value = value;
    }

    public int value() {
        return value;
    }
}
