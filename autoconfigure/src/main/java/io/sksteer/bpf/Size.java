package io.sksteer.bpf;

/** Width of a memory access, with its {@code BPF_SIZE} opcode bits. */
public enum Size {
    /** {@code BPF_B}: one byte. */
    B(1, 0x10),
    /** {@code BPF_H}: two bytes. */
    H(2, 0x08),
    /** {@code BPF_W}: four bytes. */
    W(4, 0x00),
    /** {@code BPF_DW}: eight bytes. */
    DW(8, 0x18);

    private final int bytes;
    private final int code;

    Size(int bytes, int code) {
        this.bytes = bytes;
        this.code = code;
    }

    public int bytes() {
        return bytes;
    }

    int code() {
        return code;
    }
}
