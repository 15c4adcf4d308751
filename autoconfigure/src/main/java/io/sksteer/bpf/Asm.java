package io.sksteer.bpf;

/**
 * The instruction vocabulary, to be statically imported: {@code mov(R0, 1)}, {@code exit()},
 * {@code jeq(R7, 8080, "pass")}, {@code label("pass")}, {@code ldMap(R1, "sockets")}.
 *
 * <p>Plain names are 64-bit ({@code BPF_ALU64}, {@code BPF_JMP}); names ending in 32 operate on
 * the low 32 bits and zero the upper half ({@code BPF_ALU}, {@code BPF_JMP32}).
 */
public final class Asm {

    static final int LD = 0x00;
    static final int LDX = 0x01;
    static final int ST = 0x02;
    static final int STX = 0x03;
    static final int ALU = 0x04;
    static final int JMP = 0x05;
    static final int JMP32 = 0x06;
    static final int ALU64 = 0x07;
    static final int K = 0x00;
    static final int X = 0x08;
    static final int MEM = 0x60;
    static final int ATOMIC = 0xc0;
    static final int END = 0xd0;
    static final int TO_LE = 0x00;
    static final int TO_BE = 0x08;
    static final int CALL = 0x80;
    static final int EXIT = 0x90;

    private Asm() {
    }

    // ---- arithmetic ------------------------------------------------------------------------

    /** {@code dst op= imm}, 64-bit. */
    public static Insn alu(AluOp op, Reg dst, int imm) {
        return new Insn.Op(ALU64 | K | op.bits(), dst, Reg.R0, (short) 0, imm);
    }

    /** {@code dst op= src}, 64-bit. */
    public static Insn alu(AluOp op, Reg dst, Reg src) {
        return new Insn.Op(ALU64 | X | op.bits(), dst, src, (short) 0, 0);
    }

    /** {@code dst op= imm}, 32-bit (the upper half of dst becomes zero). */
    public static Insn alu32(AluOp op, Reg dst, int imm) {
        return new Insn.Op(ALU | K | op.bits(), dst, Reg.R0, (short) 0, imm);
    }

    /** {@code dst op= src}, 32-bit (the upper half of dst becomes zero). */
    public static Insn alu32(AluOp op, Reg dst, Reg src) {
        return new Insn.Op(ALU | X | op.bits(), dst, src, (short) 0, 0);
    }

    public static Insn mov(Reg dst, int imm) { return alu(AluOp.MOV, dst, imm); }
    public static Insn mov(Reg dst, Reg src) { return alu(AluOp.MOV, dst, src); }
    public static Insn add(Reg dst, int imm) { return alu(AluOp.ADD, dst, imm); }
    public static Insn add(Reg dst, Reg src) { return alu(AluOp.ADD, dst, src); }
    public static Insn sub(Reg dst, int imm) { return alu(AluOp.SUB, dst, imm); }
    public static Insn sub(Reg dst, Reg src) { return alu(AluOp.SUB, dst, src); }
    public static Insn mul(Reg dst, int imm) { return alu(AluOp.MUL, dst, imm); }
    public static Insn mul(Reg dst, Reg src) { return alu(AluOp.MUL, dst, src); }
    public static Insn div(Reg dst, int imm) { return alu(AluOp.DIV, dst, imm); }
    public static Insn div(Reg dst, Reg src) { return alu(AluOp.DIV, dst, src); }
    public static Insn mod(Reg dst, int imm) { return alu(AluOp.MOD, dst, imm); }
    public static Insn mod(Reg dst, Reg src) { return alu(AluOp.MOD, dst, src); }
    public static Insn and(Reg dst, int imm) { return alu(AluOp.AND, dst, imm); }
    public static Insn and(Reg dst, Reg src) { return alu(AluOp.AND, dst, src); }
    public static Insn or(Reg dst, int imm) { return alu(AluOp.OR, dst, imm); }
    public static Insn or(Reg dst, Reg src) { return alu(AluOp.OR, dst, src); }
    public static Insn xor(Reg dst, int imm) { return alu(AluOp.XOR, dst, imm); }
    public static Insn xor(Reg dst, Reg src) { return alu(AluOp.XOR, dst, src); }
    public static Insn lsh(Reg dst, int imm) { return alu(AluOp.LSH, dst, imm); }
    public static Insn lsh(Reg dst, Reg src) { return alu(AluOp.LSH, dst, src); }
    public static Insn rsh(Reg dst, int imm) { return alu(AluOp.RSH, dst, imm); }
    public static Insn rsh(Reg dst, Reg src) { return alu(AluOp.RSH, dst, src); }
    public static Insn arsh(Reg dst, int imm) { return alu(AluOp.ARSH, dst, imm); }
    public static Insn arsh(Reg dst, Reg src) { return alu(AluOp.ARSH, dst, src); }
    public static Insn neg(Reg dst) { return alu(AluOp.NEG, dst, 0); }

    public static Insn mov32(Reg dst, int imm) { return alu32(AluOp.MOV, dst, imm); }
    public static Insn mov32(Reg dst, Reg src) { return alu32(AluOp.MOV, dst, src); }
    public static Insn add32(Reg dst, int imm) { return alu32(AluOp.ADD, dst, imm); }
    public static Insn add32(Reg dst, Reg src) { return alu32(AluOp.ADD, dst, src); }
    public static Insn and32(Reg dst, int imm) { return alu32(AluOp.AND, dst, imm); }
    public static Insn and32(Reg dst, Reg src) { return alu32(AluOp.AND, dst, src); }
    public static Insn or32(Reg dst, int imm) { return alu32(AluOp.OR, dst, imm); }
    public static Insn xor32(Reg dst, Reg src) { return alu32(AluOp.XOR, dst, src); }
    public static Insn lsh32(Reg dst, int imm) { return alu32(AluOp.LSH, dst, imm); }
    public static Insn rsh32(Reg dst, int imm) { return alu32(AluOp.RSH, dst, imm); }

    // ---- byte order ------------------------------------------------------------------------

    /** Converts the low {@code bits} (16, 32, 64) of dst between host and big-endian order. */
    public static Insn toBigEndian(Reg dst, int bits) {
        return new Insn.Op(ALU | END | TO_BE, dst, Reg.R0, (short) 0, checkSwapWidth(bits));
    }

    /** Converts the low {@code bits} (16, 32, 64) of dst between host and little-endian order. */
    public static Insn toLittleEndian(Reg dst, int bits) {
        return new Insn.Op(ALU | END | TO_LE, dst, Reg.R0, (short) 0, checkSwapWidth(bits));
    }

    public static Insn be16(Reg dst) { return toBigEndian(dst, 16); }
    public static Insn be32(Reg dst) { return toBigEndian(dst, 32); }
    public static Insn be64(Reg dst) { return toBigEndian(dst, 64); }
    public static Insn le16(Reg dst) { return toLittleEndian(dst, 16); }
    public static Insn le32(Reg dst) { return toLittleEndian(dst, 32); }
    public static Insn le64(Reg dst) { return toLittleEndian(dst, 64); }

    private static int checkSwapWidth(int bits) {
        if (bits != 16 && bits != 32 && bits != 64) {
            throw new IllegalArgumentException("byte swap width must be 16, 32 or 64, not " + bits);
        }
        return bits;
    }

    // ---- memory ----------------------------------------------------------------------------

    /** {@code dst = *(size *)(src + off)}. */
    public static Insn ldx(Size size, Reg dst, Reg src, int off) {
        return new Insn.Op(LDX | MEM | size.code(), dst, src, offset(off), 0);
    }

    /** {@code *(size *)(dst + off) = src}. */
    public static Insn stx(Size size, Reg dst, int off, Reg src) {
        return new Insn.Op(STX | MEM | size.code(), dst, src, offset(off), 0);
    }

    /** {@code *(size *)(dst + off) = imm}. */
    public static Insn st(Size size, Reg dst, int off, int imm) {
        return new Insn.Op(ST | MEM | size.code(), dst, Reg.R0, offset(off), imm);
    }

    /** {@code lock *(size *)(dst + off) += src}; size W or DW. */
    public static Insn atomicAdd(Size size, Reg dst, int off, Reg src) {
        if (size != Size.W && size != Size.DW) {
            throw new IllegalArgumentException("atomic add is 4 or 8 bytes wide, not " + size);
        }
        return new Insn.Op(STX | ATOMIC | size.code(), dst, src, offset(off), AluOp.ADD.bits());
    }

    public static Insn ldxb(Reg dst, Reg src, int off) { return ldx(Size.B, dst, src, off); }
    public static Insn ldxh(Reg dst, Reg src, int off) { return ldx(Size.H, dst, src, off); }
    public static Insn ldxw(Reg dst, Reg src, int off) { return ldx(Size.W, dst, src, off); }
    public static Insn ldxdw(Reg dst, Reg src, int off) { return ldx(Size.DW, dst, src, off); }

    /** {@code dst = imm64} ({@code ld_imm64}, two slots). */
    public static Insn ldImm64(Reg dst, long value) {
        return new Insn.LoadImm64(dst, value);
    }

    /** {@code dst = &map} ({@code ld_imm64} with {@code BPF_PSEUDO_MAP_FD}, two slots), bound at load by name. */
    public static Insn ldMap(Reg dst, String map) {
        return new Insn.LoadMap(dst, map);
    }

    private static short offset(int off) {
        if (off < Short.MIN_VALUE || off > Short.MAX_VALUE) {
            throw new IllegalArgumentException("memory offset " + off + " does not fit in 16 bits");
        }
        return (short) off;
    }

    // ---- control flow ----------------------------------------------------------------------

    /** {@code goto target}. */
    public static Insn ja(String target) {
        return new Insn.Jump(JMP | JumpOp.JA.bits(), Reg.R0, Reg.R0, 0, target);
    }

    /** {@code if (dst op imm) goto target}, 64-bit compare (imm sign-extended). */
    public static Insn jump(JumpOp op, Reg dst, int imm, String target) {
        return new Insn.Jump(JMP | K | conditional(op).bits(), dst, Reg.R0, imm, target);
    }

    /** {@code if (dst op src) goto target}, 64-bit compare. */
    public static Insn jump(JumpOp op, Reg dst, Reg src, String target) {
        return new Insn.Jump(JMP | X | conditional(op).bits(), dst, src, 0, target);
    }

    /** {@code if ((u32) dst op imm) goto target}, 32-bit compare. */
    public static Insn jump32(JumpOp op, Reg dst, int imm, String target) {
        return new Insn.Jump(JMP32 | K | conditional(op).bits(), dst, Reg.R0, imm, target);
    }

    /** {@code if ((u32) dst op (u32) src) goto target}, 32-bit compare. */
    public static Insn jump32(JumpOp op, Reg dst, Reg src, String target) {
        return new Insn.Jump(JMP32 | X | conditional(op).bits(), dst, src, 0, target);
    }

    private static JumpOp conditional(JumpOp op) {
        if (op == JumpOp.JA) {
            throw new IllegalArgumentException("JA is unconditional: use ja(target)");
        }
        return op;
    }

    public static Insn jeq(Reg dst, int imm, String target) { return jump(JumpOp.JEQ, dst, imm, target); }
    public static Insn jeq(Reg dst, Reg src, String target) { return jump(JumpOp.JEQ, dst, src, target); }
    public static Insn jne(Reg dst, int imm, String target) { return jump(JumpOp.JNE, dst, imm, target); }
    public static Insn jne(Reg dst, Reg src, String target) { return jump(JumpOp.JNE, dst, src, target); }
    public static Insn jgt(Reg dst, int imm, String target) { return jump(JumpOp.JGT, dst, imm, target); }
    public static Insn jgt(Reg dst, Reg src, String target) { return jump(JumpOp.JGT, dst, src, target); }
    public static Insn jge(Reg dst, int imm, String target) { return jump(JumpOp.JGE, dst, imm, target); }
    public static Insn jge(Reg dst, Reg src, String target) { return jump(JumpOp.JGE, dst, src, target); }
    public static Insn jlt(Reg dst, int imm, String target) { return jump(JumpOp.JLT, dst, imm, target); }
    public static Insn jlt(Reg dst, Reg src, String target) { return jump(JumpOp.JLT, dst, src, target); }
    public static Insn jle(Reg dst, int imm, String target) { return jump(JumpOp.JLE, dst, imm, target); }
    public static Insn jle(Reg dst, Reg src, String target) { return jump(JumpOp.JLE, dst, src, target); }
    public static Insn jsgt(Reg dst, int imm, String target) { return jump(JumpOp.JSGT, dst, imm, target); }
    public static Insn jsgt(Reg dst, Reg src, String target) { return jump(JumpOp.JSGT, dst, src, target); }
    public static Insn jsge(Reg dst, int imm, String target) { return jump(JumpOp.JSGE, dst, imm, target); }
    public static Insn jsge(Reg dst, Reg src, String target) { return jump(JumpOp.JSGE, dst, src, target); }
    public static Insn jslt(Reg dst, int imm, String target) { return jump(JumpOp.JSLT, dst, imm, target); }
    public static Insn jslt(Reg dst, Reg src, String target) { return jump(JumpOp.JSLT, dst, src, target); }
    public static Insn jsle(Reg dst, int imm, String target) { return jump(JumpOp.JSLE, dst, imm, target); }
    public static Insn jsle(Reg dst, Reg src, String target) { return jump(JumpOp.JSLE, dst, src, target); }
    public static Insn jset(Reg dst, int imm, String target) { return jump(JumpOp.JSET, dst, imm, target); }
    public static Insn jset(Reg dst, Reg src, String target) { return jump(JumpOp.JSET, dst, src, target); }

    /** Calls a helper; arguments in R1–R5, result in R0, R1–R5 clobbered. */
    public static Insn call(Helper helper) {
        return new Insn.Call(helper);
    }

    /** Returns R0 to the kernel. */
    public static Insn exit() {
        return new Insn.Op(JMP | EXIT, Reg.R0, Reg.R0, (short) 0, 0);
    }

    /** Marks a jump target. */
    public static Insn label(String name) {
        return new Insn.Label(name);
    }
}
