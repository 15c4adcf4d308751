package io.sksteer.bpf;

/** The Linux capabilities that matter to BPF and socket steering, with their kernel numbers. */
public enum Capability {
    /** Network configuration; needed for SOCKMAP and sk_lookup links. */
    CAP_NET_ADMIN(12),
    /** The old catch-all; stands in for CAP_BPF and CAP_PERFMON on every kernel. */
    CAP_SYS_ADMIN(21),
    /** Performance monitoring; with CAP_BPF allows pointer arithmetic the verifier otherwise forbids. */
    CAP_PERFMON(38),
    /** Loading programs and creating maps (Linux 5.8 and later). */
    CAP_BPF(39);

    private final int number;

    Capability(int number) {
        this.number = number;
    }

    /** The capability's bit number in the kernel's capability sets. */
    public int number() {
        return number;
    }
}
