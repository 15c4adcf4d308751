package io.sksteer.bpf;

/** Attach types this layer uses. */
public enum AttachType {
    /** {@code BPF_SK_LOOKUP}: an sk_lookup program on a network namespace. */
    SK_LOOKUP(36, "BPF_SK_LOOKUP");

    private final int number;
    private final String kernelName;

    AttachType(int number, String kernelName) {
        this.number = number;
        this.kernelName = kernelName;
    }

    public int number() {
        return number;
    }

    public String kernelName() {
        return kernelName;
    }
}
