package io.sksteer.bpf;

/**
 * The eleven BPF registers. R0 holds return values, R1–R5 carry helper arguments and are
 * clobbered by calls, R6–R9 survive calls, R10 is the read-only frame pointer.
 */
public enum Reg {
    R0, R1, R2, R3, R4, R5, R6, R7, R8, R9, R10;

    /** The register number, 0–10. */
    public int number() {
        return ordinal();
    }

    /** True for R6–R9, which keep their value across helper calls. */
    public boolean calleeSaved() {
        return this.ordinal() >= 6 && this.ordinal() <= 9;
    }
}
