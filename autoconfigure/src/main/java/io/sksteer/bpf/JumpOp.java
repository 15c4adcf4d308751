package io.sksteer.bpf;

/** Jump conditions, with their {@code BPF_OP} bits. Unsigned unless named signed. */
public enum JumpOp {
    /** {@code BPF_JA}: always. */
    JA(0x00),
    JEQ(0x10),
    /** Unsigned {@code >}. */
    JGT(0x20),
    /** Unsigned {@code >=}. */
    JGE(0x30),
    /** {@code dst & src != 0}. */
    JSET(0x40),
    JNE(0x50),
    JSGT(0x60),
    JSGE(0x70),
    /** Unsigned {@code <}. */
    JLT(0xa0),
    /** Unsigned {@code <=}. */
    JLE(0xb0),
    JSLT(0xc0),
    JSLE(0xd0);

    private final int bits;

    JumpOp(int bits) {
        this.bits = bits;
    }

    int bits() {
        return bits;
    }
}
