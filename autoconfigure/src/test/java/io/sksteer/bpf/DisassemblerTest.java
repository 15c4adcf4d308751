package io.sksteer.bpf;

import static io.sksteer.bpf.Asm.add;
import static io.sksteer.bpf.Asm.add32;
import static io.sksteer.bpf.Asm.alu32;
import static io.sksteer.bpf.Asm.and;
import static io.sksteer.bpf.Asm.and32;
import static io.sksteer.bpf.Asm.arsh;
import static io.sksteer.bpf.Asm.atomicAdd;
import static io.sksteer.bpf.Asm.be16;
import static io.sksteer.bpf.Asm.be64;
import static io.sksteer.bpf.Asm.call;
import static io.sksteer.bpf.Asm.div;
import static io.sksteer.bpf.Asm.exit;
import static io.sksteer.bpf.Asm.ja;
import static io.sksteer.bpf.Asm.jeq;
import static io.sksteer.bpf.Asm.jge;
import static io.sksteer.bpf.Asm.jgt;
import static io.sksteer.bpf.Asm.jle;
import static io.sksteer.bpf.Asm.jlt;
import static io.sksteer.bpf.Asm.jne;
import static io.sksteer.bpf.Asm.jset;
import static io.sksteer.bpf.Asm.jsge;
import static io.sksteer.bpf.Asm.jsgt;
import static io.sksteer.bpf.Asm.jsle;
import static io.sksteer.bpf.Asm.jslt;
import static io.sksteer.bpf.Asm.jump32;
import static io.sksteer.bpf.Asm.label;
import static io.sksteer.bpf.Asm.ldImm64;
import static io.sksteer.bpf.Asm.ldMap;
import static io.sksteer.bpf.Asm.ldxb;
import static io.sksteer.bpf.Asm.ldxdw;
import static io.sksteer.bpf.Asm.ldxh;
import static io.sksteer.bpf.Asm.ldxw;
import static io.sksteer.bpf.Asm.le32;
import static io.sksteer.bpf.Asm.lsh;
import static io.sksteer.bpf.Asm.lsh32;
import static io.sksteer.bpf.Asm.mod;
import static io.sksteer.bpf.Asm.mov;
import static io.sksteer.bpf.Asm.mov32;
import static io.sksteer.bpf.Asm.mul;
import static io.sksteer.bpf.Asm.neg;
import static io.sksteer.bpf.Asm.or;
import static io.sksteer.bpf.Asm.or32;
import static io.sksteer.bpf.Asm.rsh;
import static io.sksteer.bpf.Asm.rsh32;
import static io.sksteer.bpf.Asm.st;
import static io.sksteer.bpf.Asm.stx;
import static io.sksteer.bpf.Asm.sub;
import static io.sksteer.bpf.Asm.xor;
import static io.sksteer.bpf.Asm.xor32;
import static io.sksteer.bpf.Reg.R0;
import static io.sksteer.bpf.Reg.R1;
import static io.sksteer.bpf.Reg.R10;
import static io.sksteer.bpf.Reg.R2;
import static io.sksteer.bpf.Reg.R3;
import static io.sksteer.bpf.Reg.R4;
import static io.sksteer.bpf.Reg.R6;
import static io.sksteer.bpf.Reg.R7;
import static io.sksteer.bpf.Reg.R8;
import static io.sksteer.bpf.Reg.R9;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.params.provider.Arguments.arguments;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The listing, instruction class by instruction class. Each expected line is written out by hand
 * in the verifier's notation ({@code kernel/bpf/disasm.c}), never produced by the code under test.
 */
class DisassemblerTest {

    static Stream<Arguments> oneSlot() {
        return Stream.of(
                // ALU64, immediate source
                arguments(mov(R0, 1), "0: (b7) r0 = 1"),
                arguments(add(R8, 1), "0: (07) r8 += 1"),
                arguments(sub(R1, 1), "0: (17) r1 -= 1"),
                arguments(mul(R1, 48), "0: (27) r1 *= 48"),
                arguments(div(R7, 10), "0: (37) r7 /= 10"),
                arguments(or(R1, 0x80), "0: (47) r1 |= 128"),
                arguments(and(R9, -2), "0: (57) r9 &= -2"),
                arguments(lsh(R1, 32), "0: (67) r1 <<= 32"),
                arguments(rsh(R1, 40), "0: (77) r1 >>= 40"),
                arguments(neg(R6), "0: (87) r6 = -r6"),
                arguments(mod(R7, 4), "0: (97) r7 %= 4"),
                arguments(xor(R8, -1), "0: (a7) r8 ^= -1"),
                arguments(arsh(R1, 63), "0: (c7) r1 s>>= 63"),
                // ALU64, register source
                arguments(mov(R6, R1), "0: (bf) r6 = r1"),
                arguments(add(R2, R10), "0: (0f) r2 += r10"),
                arguments(sub(R3, R2), "0: (1f) r3 -= r2"),
                arguments(mul(R1, R2), "0: (2f) r1 *= r2"),
                arguments(or(R1, R2), "0: (4f) r1 |= r2"),
                arguments(and(R1, R2), "0: (5f) r1 &= r2"),
                arguments(rsh(R3, R2), "0: (7f) r3 >>= r2"),
                arguments(xor(R1, R2), "0: (af) r1 ^= r2"),
                arguments(arsh(R1, R2), "0: (cf) r1 s>>= r2"),
                // ALU32: the verifier writes the 32-bit halves as w registers
                arguments(mov32(R1, -1), "0: (b4) w1 = -1"),
                arguments(add32(R1, 5), "0: (04) w1 += 5"),
                arguments(and32(R2, 0xff), "0: (54) w2 &= 255"),
                arguments(or32(R2, 1), "0: (44) w2 |= 1"),
                arguments(lsh32(R3, 8), "0: (64) w3 <<= 8"),
                arguments(rsh32(R3, 8), "0: (74) w3 >>= 8"),
                arguments(mov32(R1, R2), "0: (bc) w1 = w2"),
                arguments(add32(R1, R2), "0: (0c) w1 += w2"),
                arguments(and32(R1, R2), "0: (5c) w1 &= w2"),
                arguments(xor32(R1, R2), "0: (ac) w1 ^= w2"),
                arguments(alu32(AluOp.NEG, R3, 0), "0: (84) w3 = -w3"),
                // byte order (BPF_ALU | BPF_END): the verifier writes r, not w
                arguments(be16(R1), "0: (dc) r1 = be16 r1"),
                arguments(be64(R2), "0: (dc) r2 = be64 r2"),
                arguments(le32(R3), "0: (d4) r3 = le32 r3"),
                // loads, each size; the offset always has its sign
                arguments(ldxb(R1, R6, 12), "0: (71) r1 = *(u8 *)(r6 +12)"),
                arguments(ldxh(R1, R0, 18), "0: (69) r1 = *(u16 *)(r0 +18)"),
                arguments(ldxw(R7, R6, 60), "0: (61) r7 = *(u32 *)(r6 +60)"),
                arguments(ldxdw(R1, R10, -72), "0: (79) r1 = *(u64 *)(r10 -72)"),
                arguments(ldxw(R1, R0, 0), "0: (61) r1 = *(u32 *)(r0 +0)"),
                // stores from a register, each size
                arguments(stx(Size.B, R10, -1, R1), "0: (73) *(u8 *)(r10 -1) = r1"),
                arguments(stx(Size.H, R10, -2, R1), "0: (6b) *(u16 *)(r10 -2) = r1"),
                arguments(stx(Size.W, R10, -56, R8), "0: (63) *(u32 *)(r10 -56) = r8"),
                arguments(stx(Size.DW, R7, 8, R1), "0: (7b) *(u64 *)(r7 +8) = r1"),
                // stores of an immediate, each size
                arguments(st(Size.B, R10, -1, 7), "0: (72) *(u8 *)(r10 -1) = 7"),
                arguments(st(Size.H, R10, -2, 80), "0: (6a) *(u16 *)(r10 -2) = 80"),
                arguments(st(Size.W, R10, -20, 0), "0: (62) *(u32 *)(r10 -20) = 0"),
                arguments(st(Size.DW, R10, -8, -1), "0: (7a) *(u64 *)(r10 -8) = -1"),
                // atomics
                arguments(atomicAdd(Size.W, R7, 4, R1), "0: (c3) lock *(u32 *)(r7 +4) += r1"),
                arguments(atomicAdd(Size.DW, R7, 8, R1), "0: (db) lock *(u64 *)(r7 +8) += r1"),
                // calls and exit
                arguments(call(Helper.SK_ASSIGN), "0: (85) call bpf_sk_assign#124"),
                arguments(call(Helper.MAP_LOOKUP_ELEM), "0: (85) call bpf_map_lookup_elem#1"),
                arguments(call(Helper.SK_RELEASE), "0: (85) call bpf_sk_release#86"),
                arguments(exit(), "0: (95) exit"));
    }

    @ParameterizedTest(name = "{1}")
    @MethodSource("oneSlot")
    void writesEachOneSlotInstructionAsTheVerifierDoes(Insn insn, String expected) {
        assertThat(Disassembler.lines(List.of(insn))).containsExactly(expected);
    }

    // ---- ld_imm64 --------------------------------------------------------------------------------

    @Test
    void givesAnLdImm64TwoLinesWithTheWhole64BitValueOnTheFirst() {
        assertThat(Disassembler.lines(List.of(ldImm64(R2, 0x9e3779b97f4a7c15L), exit()))).containsExactly(
                "0: (18) r2 = 0x9e3779b97f4a7c15",
                "1: (00) ; second half of the ld_imm64 at 0",
                "2: (95) exit");
    }

    @Test
    void writesSmallAndNegativeLdImm64ValuesInHex() {
        assertThat(Disassembler.lines(List.of(ldImm64(R1, 5))).get(0)).isEqualTo("0: (18) r1 = 0x5");
        assertThat(Disassembler.lines(List.of(ldImm64(R1, -1))).get(0)).isEqualTo("0: (18) r1 = 0xffffffffffffffff");
    }

    @Test
    void namesTheMapOfAPseudoMapFdLoad() {
        assertThat(Disassembler.lines(List.of(ldMap(R1, "sks_ports")))).containsExactly(
                "0: (18) r1 = map[sks_ports]",
                "1: (00) ; second half of the ld_imm64 at 0");
    }

    @Test
    void showsTheFdOfAMapLoadWhoseNameIsNotKnown() {
        // ld_imm64 r1, src BPF_PSEUDO_MAP_FD, imm fd 7: as the loader patches it, with no map reference
        Bytecode code = new Bytecode(bytes(0x18, 0x11, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), List.of());

        assertThat(Disassembler.lines(code)).containsExactly(
                "0: (18) r1 = map[fd:7]",
                "1: (00) ; second half of the ld_imm64 at 0");
    }

    @Test
    void countsTheLdImm64AsTwoSlotsInTheNumbering() {
        List<String> lines = Disassembler.lines(List.of(mov(R0, 0), ldMap(R1, "m"), ldImm64(R2, 1), mov(R0, 1), exit()));

        assertThat(lines).containsExactly(
                "0: (b7) r0 = 0",
                "1: (18) r1 = map[m]",
                "2: (00) ; second half of the ld_imm64 at 1",
                "3: (18) r2 = 0x1",
                "4: (00) ; second half of the ld_imm64 at 3",
                "5: (b7) r0 = 1",
                "6: (95) exit");
    }

    // ---- jumps -----------------------------------------------------------------------------------

    @Test
    void showsAConditionalJumpsTargetSlotAndLabelAndMarksTheLabelledSlot() {
        List<String> lines = Disassembler.lines(List.of(jeq(R0, 0, "out"), mov(R0, 1), label("out"), exit()));

        assertThat(lines).containsExactly(
                "0: (15) if r0 == 0x0 goto pc+1 -> 2 <out>",
                "1: (b7) r0 = 1",
                "2: (95) exit" + " ".repeat(49 - 12) + "; out:");
    }

    @Test
    void showsEveryLabelOfASlotAndBackwardJumps() {
        List<String> lines = Disassembler.lines(List.of(label("top"), label("again"), mov(R0, 1), ja("top"), exit()));

        assertThat(lines).containsExactly(
                "0: (b7) r0 = 1" + " ".repeat(49 - 14) + "; top: again:",
                "1: (05) goto pc-2 -> 0 <top>",
                "2: (95) exit");
    }

    static Stream<Arguments> conditions() {
        return Stream.of(
                arguments(jeq(R1, R2, "t"), "(1d) if r1 == r2 goto pc+0"),
                arguments(jne(R7, 17, "t"), "(55) if r7 != 0x11 goto pc+0"),
                arguments(jne(R1, R2, "t"), "(5d) if r1 != r2 goto pc+0"),
                arguments(jgt(R1, R7, "t"), "(2d) if r1 > r7 goto pc+0"),
                arguments(jgt(R1, 65535, "t"), "(25) if r1 > 0xffff goto pc+0"),
                arguments(jge(R1, 3, "t"), "(35) if r1 >= 0x3 goto pc+0"),
                arguments(jset(R1, 4, "t"), "(45) if r1 & 0x4 goto pc+0"),
                arguments(jsgt(R1, -1, "t"), "(65) if r1 s> 0xffffffff goto pc+0"),
                arguments(jsge(R1, R2, "t"), "(7d) if r1 s>= r2 goto pc+0"),
                arguments(jlt(R1, R7, "t"), "(ad) if r1 < r7 goto pc+0"),
                arguments(jle(R4, 0, "t"), "(b5) if r4 <= 0x0 goto pc+0"),
                arguments(jslt(R1, 0, "t"), "(c5) if r1 s< 0x0 goto pc+0"),
                arguments(jsle(R1, R2, "t"), "(dd) if r1 s<= r2 goto pc+0"),
                // JMP32: 32-bit compares of w registers
                arguments(jump32(JumpOp.JEQ, R8, -1, "t"), "(16) if w8 == 0xffffffff goto pc+0"),
                arguments(jump32(JumpOp.JNE, R1, R2, "t"), "(5e) if w1 != w2 goto pc+0"),
                arguments(ja("t"), "(05) goto pc+0"));
    }

    @ParameterizedTest(name = "{1}")
    @MethodSource("conditions")
    void writesEachJumpAsTheVerifierDoesThenItsTarget(Insn jump, String expected) {
        assertThat(Disassembler.lines(List.of(jump, label("t"), exit())).get(0))
                .isEqualTo("0: " + expected + " -> 1 <t>");
    }

    @Test
    void showsTheTargetSlotOfBareBytecodeJumpsAndOnesThatLeaveTheProgram() {
        // if r0 == 0 goto pc+1; if r0 == 0 goto pc+100; exit
        Bytecode code = new Bytecode(bytes(
                0x15, 0, 1, 0, 0, 0, 0, 0,
                0x15, 0, 100, 0, 0, 0, 0, 0,
                0x95, 0, 0, 0, 0, 0, 0, 0), List.of());

        assertThat(Disassembler.lines(code)).containsExactly(
                "0: (15) if r0 == 0x0 goto pc+1 -> 2",
                "1: (15) if r0 == 0x0 goto pc+100 -> 102 (outside the program)",
                "2: (95) exit");
    }

    // ---- numbering -------------------------------------------------------------------------------

    @Test
    void alignsTheSlotNumbersOfLongerPrograms() {
        List<Insn> program = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            program.add(mov(R0, i));
        }
        program.add(exit());

        List<String> lines = Disassembler.lines(program);

        assertThat(lines).hasSize(11);
        assertThat(lines.get(0)).isEqualTo(" 0: (b7) r0 = 0");
        assertThat(lines.get(9)).isEqualTo(" 9: (b7) r0 = 9");
        assertThat(lines.get(10)).isEqualTo("10: (95) exit");
    }

    @Test
    void listsASpecWithItsLabelsJoinedByNewlines() {
        ProgramSpec spec = ProgramSpec.skLookup("listed", List.of(jne(R1, 0, "out"), mov(R0, 0), exit(),
                label("out"), mov(R0, 1), exit()));

        assertThat(Disassembler.listing(spec)).isEqualTo(String.join("\n",
                "0: (55) if r1 != 0x0 goto pc+2 -> 3 <out>",
                "1: (b7) r0 = 0",
                "2: (95) exit",
                "3: (b7) r0 = 1" + " ".repeat(49 - 14) + "; out:",
                "4: (95) exit"));
    }

    // ---- what the decoder does not know ----------------------------------------------------------

    @Test
    void printsAnUnknownOpcodeAsUnknownWithItsFields() {
        List<String> lines = Disassembler.lines(List.of(new Insn.Op(0xff, R1, R2, (short) 3, 7), exit()));

        assertThat(lines).containsExactly(
                "0: (ff) unknown opcode: dst r1, src r2, off 3, imm 7",
                "1: (95) exit");
    }

    static Stream<Arguments> unknown() {
        return Stream.of(
                arguments("ALU64 | END (the cpu v4 bswap)", slot(0xd7, 0x01, 0, 16), "(d7) unknown opcode: dst r1, src r0, off 0, imm 16"),
                arguments("ALU op 0xe0", slot(0xe4, 0x01, 0, 0), "(e4) unknown opcode: dst r1, src r0, off 0, imm 0"),
                arguments("byte swap of 8 bits", slot(0xdc, 0x01, 0, 8), "(dc) unknown opcode: dst r1, src r0, off 0, imm 8"),
                arguments("signed division (off 1)", slot(0x3f, 0x21, 1, 0), "(3f) unknown opcode: dst r1, src r2, off 1, imm 0"),
                arguments("legacy packet load", slot(0x20, 0x00, 0, 12), "(20) unknown opcode: dst r0, src r0, off 0, imm 12"),
                arguments("JMP op 0xf0", slot(0xf5, 0x01, 0, 0), "(f5) unknown opcode: dst r1, src r0, off 0, imm 0"),
                arguments("exit in JMP32", slot(0x96, 0x00, 0, 0), "(96) unknown opcode: dst r0, src r0, off 0, imm 0"),
                arguments("call with a register", slot(0x8d, 0x00, 0, 0), "(8d) unknown opcode: dst r0, src r0, off 0, imm 0"),
                arguments("atomic on a byte", slot(0xd3, 0x21, 0, 0), "(d3) unknown opcode: dst r1, src r2, off 0, imm 0"),
                arguments("atomic op 0x80", slot(0xdb, 0x21, 0, 0x80), "(db) unknown opcode: dst r1, src r2, off 0, imm 128"),
                arguments("class LD, not ld_imm64", slot(0x00, 0x00, 0, 0), "(00) unknown opcode: dst r0, src r0, off 0, imm 0"),
                arguments("helper not in the enum", slot(0x85, 0x00, 0, 999), "(85) call unknown#999"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("unknown")
    void printsWhatItCannotDecodeInsteadOfThrowing(String what, byte[] slot, String expected) {
        assertThat(Disassembler.lines(new Bytecode(slot, List.of()))).containsExactly("0: " + expected);
    }

    @Test
    void decodesAtomicsTheAssemblerDoesNotEmitToo() {
        assertThat(Disassembler.lines(new Bytecode(slot(0xdb, 0x21, -8, 0x01), List.of())))
                .containsExactly("0: (db) r2 = atomic64_fetch_add((u64 *)(r1 -8), r2)");
        assertThat(Disassembler.lines(new Bytecode(slot(0xc3, 0x21, 0, 0xe1), List.of())))
                .containsExactly("0: (c3) r2 = atomic_xchg((u32 *)(r1 +0), r2)");
        assertThat(Disassembler.lines(new Bytecode(slot(0xdb, 0x21, 0, 0xf1), List.of())))
                .containsExactly("0: (db) r0 = atomic64_cmpxchg((u64 *)(r1 +0), r0, r2)");
    }

    @Test
    void flagsAnLdImm64CutShortOrWithANonZeroSecondSlot() {
        assertThat(Disassembler.lines(new Bytecode(slot(0x18, 0x01, 0, 5), List.of())))
                .containsExactly("0: (18) ld_imm64 r1 cut short: its second slot is missing");
        byte[] bad = new byte[16];
        System.arraycopy(slot(0x18, 0x01, 0, 5), 0, bad, 0, 8);
        System.arraycopy(slot(0x07, 0x01, 0, 0), 0, bad, 8, 8);
        assertThat(Disassembler.lines(new Bytecode(bad, List.of()))).containsExactly(
                "0: (18) r1 = 0x5",
                "1: (07) ; second half of the ld_imm64 at 0 (invalid: code, registers and offset must be 0)");
    }

    /** One slot: {@code code, src:4|dst:4, s16 off, s32 imm}, little-endian. */
    private static byte[] slot(int code, int regs, int off, int imm) {
        return bytes(code, regs, off & 0xff, (off >> 8) & 0xff,
                imm & 0xff, (imm >> 8) & 0xff, (imm >> 16) & 0xff, (imm >>> 24) & 0xff);
    }

    private static byte[] bytes(int... values) {
        byte[] out = new byte[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = (byte) values[i];
        }
        return out;
    }
}
