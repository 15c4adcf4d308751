package io.sksteer.bpf;

import static io.sksteer.bpf.Asm.add;
import static io.sksteer.bpf.Asm.add32;
import static io.sksteer.bpf.Asm.and;
import static io.sksteer.bpf.Asm.and32;
import static io.sksteer.bpf.Asm.arsh;
import static io.sksteer.bpf.Asm.atomicAdd;
import static io.sksteer.bpf.Asm.be16;
import static io.sksteer.bpf.Asm.be32;
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
import static io.sksteer.bpf.Asm.jump;
import static io.sksteer.bpf.Asm.jump32;
import static io.sksteer.bpf.Asm.label;
import static io.sksteer.bpf.Asm.ldImm64;
import static io.sksteer.bpf.Asm.ldMap;
import static io.sksteer.bpf.Asm.ldx;
import static io.sksteer.bpf.Asm.ldxb;
import static io.sksteer.bpf.Asm.ldxdw;
import static io.sksteer.bpf.Asm.ldxh;
import static io.sksteer.bpf.Asm.ldxw;
import static io.sksteer.bpf.Asm.le16;
import static io.sksteer.bpf.Asm.le32;
import static io.sksteer.bpf.Asm.le64;
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
import static io.sksteer.bpf.Asm.toBigEndian;
import static io.sksteer.bpf.Asm.toLittleEndian;
import static io.sksteer.bpf.Asm.xor;
import static io.sksteer.bpf.Asm.xor32;
import static io.sksteer.bpf.Reg.R0;
import static io.sksteer.bpf.Reg.R1;
import static io.sksteer.bpf.Reg.R2;
import static io.sksteer.bpf.Reg.R3;
import static io.sksteer.bpf.Reg.R4;
import static io.sksteer.bpf.Reg.R5;
import static io.sksteer.bpf.Reg.R6;
import static io.sksteer.bpf.Reg.R7;
import static io.sksteer.bpf.Reg.R8;
import static io.sksteer.bpf.Reg.R9;
import static io.sksteer.bpf.Reg.R10;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.params.provider.Arguments.arguments;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Golden-opcode tests: each expected slot is written out by hand from the BPF instruction set
 * ({@code code, src:4|dst:4, s16 off, s32 imm}, little-endian), never computed by the assembler.
 */
class AssemblerTest {

    // ---- one-slot instructions ---------------------------------------------------------------

    @Test
    void encodesMov64ImmediateAsLittleEndianSlot() {
        assertThat(code(mov(R1, 0x12345678)))
                .containsExactly(0xb7, 0x01, 0x00, 0x00, 0x78, 0x56, 0x34, 0x12);
    }

    @Test
    void encodesMov64RegisterWithSourceInHighNibble() {
        assertThat(code(mov(R2, R3)))
                .containsExactly(0xbf, 0x32, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00);
    }

    @Test
    void encodesMov32ImmediateWithNegativeImmediateAsTwosComplement() {
        assertThat(code(mov32(R4, -1)))
                .containsExactly(0xb4, 0x04, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff);
    }

    @Test
    void encodesNegativeMemoryOffsetAsLittleEndianShort() {
        assertThat(code(ldxdw(R9, R10, -8)))
                .containsExactly(0x79, 0xa9, 0xf8, 0xff, 0x00, 0x00, 0x00, 0x00);
    }

    static Stream<Arguments> arithmetic() {
        return Stream.of(
                arguments("add r1, 7", add(R1, 7), slot(0x07, 0x01, 0, 7)),
                arguments("add r1, r2", add(R1, R2), slot(0x0f, 0x21, 0, 0)),
                arguments("sub r3, 1", sub(R3, 1), slot(0x17, 0x03, 0, 1)),
                arguments("sub r3, r4", sub(R3, R4), slot(0x1f, 0x43, 0, 0)),
                arguments("mul r5, 3", mul(R5, 3), slot(0x27, 0x05, 0, 3)),
                arguments("mul r5, r6", mul(R5, R6), slot(0x2f, 0x65, 0, 0)),
                arguments("div r7, 10", div(R7, 10), slot(0x37, 0x07, 0, 10)),
                arguments("div r7, r8", div(R7, R8), slot(0x3f, 0x87, 0, 0)),
                arguments("or r9, 0x100", or(R9, 0x100), slot(0x47, 0x09, 0, 0x100)),
                arguments("or r9, r0", or(R9, R0), slot(0x4f, 0x09, 0, 0)),
                arguments("and r0, 0xffff", and(R0, 0xffff), slot(0x57, 0x00, 0, 0xffff)),
                arguments("and r0, r1", and(R0, R1), slot(0x5f, 0x10, 0, 0)),
                arguments("lsh r2, 32", lsh(R2, 32), slot(0x67, 0x02, 0, 32)),
                arguments("lsh r2, r3", lsh(R2, R3), slot(0x6f, 0x32, 0, 0)),
                arguments("rsh r4, 16", rsh(R4, 16), slot(0x77, 0x04, 0, 16)),
                arguments("rsh r4, r5", rsh(R4, R5), slot(0x7f, 0x54, 0, 0)),
                arguments("neg r6", neg(R6), slot(0x87, 0x06, 0, 0)),
                arguments("mod r7, 4", mod(R7, 4), slot(0x97, 0x07, 0, 4)),
                arguments("mod r7, r8", mod(R7, R8), slot(0x9f, 0x87, 0, 0)),
                arguments("xor r8, -1", xor(R8, -1), slot(0xa7, 0x08, 0, -1)),
                arguments("xor r8, r9", xor(R8, R9), slot(0xaf, 0x98, 0, 0)),
                arguments("arsh r1, 63", arsh(R1, 63), slot(0xc7, 0x01, 0, 63)),
                arguments("arsh r1, r2", arsh(R1, R2), slot(0xcf, 0x21, 0, 0)),
                arguments("mov32 r1, r2", mov32(R1, R2), slot(0xbc, 0x21, 0, 0)),
                arguments("add32 r1, 5", add32(R1, 5), slot(0x04, 0x01, 0, 5)),
                arguments("add32 r1, r2", add32(R1, R2), slot(0x0c, 0x21, 0, 0)),
                arguments("and32 r3, 0xff", and32(R3, 0xff), slot(0x54, 0x03, 0, 0xff)),
                arguments("and32 r3, r4", and32(R3, R4), slot(0x5c, 0x43, 0, 0)),
                arguments("or32 r5, 1", or32(R5, 1), slot(0x44, 0x05, 0, 1)),
                arguments("xor32 r5, r6", xor32(R5, R6), slot(0xac, 0x65, 0, 0)),
                arguments("lsh32 r7, 8", lsh32(R7, 8), slot(0x64, 0x07, 0, 8)),
                arguments("rsh32 r7, 8", rsh32(R7, 8), slot(0x74, 0x07, 0, 8)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("arithmetic")
    void encodesArithmeticWithClassSourceAndOperationBits(String listing, Insn insn, byte[] expected) {
        assertThat(code(insn)).isEqualTo(expected);
    }

    static Stream<Arguments> byteSwaps() {
        return Stream.of(
                arguments("be16 r1", be16(R1), slot(0xdc, 0x01, 0, 16)),
                arguments("be32 r2", be32(R2), slot(0xdc, 0x02, 0, 32)),
                arguments("be64 r3", be64(R3), slot(0xdc, 0x03, 0, 64)),
                arguments("le16 r4", le16(R4), slot(0xd4, 0x04, 0, 16)),
                arguments("le32 r5", le32(R5), slot(0xd4, 0x05, 0, 32)),
                arguments("le64 r6", le64(R6), slot(0xd4, 0x06, 0, 64)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("byteSwaps")
    void encodesByteSwapsWithWidthInImmediate(String listing, Insn insn, byte[] expected) {
        assertThat(code(insn)).isEqualTo(expected);
    }

    static Stream<Arguments> memory() {
        return Stream.of(
                arguments("ldxb r1, [r2+3]", ldxb(R1, R2, 3), slot(0x71, 0x21, 3, 0)),
                arguments("ldxh r1, [r2+36]", ldxh(R1, R2, 36), slot(0x69, 0x21, 36, 0)),
                arguments("ldxw r7, [r6+60]", ldxw(R7, R6, 60), slot(0x61, 0x67, 60, 0)),
                arguments("ldxdw r0, [r1+0]", ldxdw(R0, R1, 0), slot(0x79, 0x10, 0, 0)),
                arguments("stxb [r10-1], r1", stx(Size.B, R10, -1, R1), slot(0x73, 0x1a, -1, 0)),
                arguments("stxh [r10-2], r2", stx(Size.H, R10, -2, R2), slot(0x6b, 0x2a, -2, 0)),
                arguments("stxw [r10-4], r3", stx(Size.W, R10, -4, R3), slot(0x63, 0x3a, -4, 0)),
                arguments("stxdw [r10-8], r4", stx(Size.DW, R10, -8, R4), slot(0x7b, 0x4a, -8, 0)),
                arguments("stb [r10-1], 7", st(Size.B, R10, -1, 7), slot(0x72, 0x0a, -1, 7)),
                arguments("sth [r10-2], 8080", st(Size.H, R10, -2, 8080), slot(0x6a, 0x0a, -2, 8080)),
                arguments("stw [r10-4], 3", st(Size.W, R10, -4, 3), slot(0x62, 0x0a, -4, 3)),
                arguments("stdw [r10-8], -2", st(Size.DW, R10, -8, -2), slot(0x7a, 0x0a, -8, -2)),
                arguments("lock add32 [r1+4], r2", atomicAdd(Size.W, R1, 4, R2), slot(0xc3, 0x21, 4, 0)),
                arguments("lock add64 [r1+8], r2", atomicAdd(Size.DW, R1, 8, R2), slot(0xdb, 0x21, 8, 0)),
                arguments("ldx w r1, [r2+32767]", ldx(Size.W, R1, R2, Short.MAX_VALUE), slot(0x61, 0x21, 0x7fff, 0)),
                arguments("ldx w r1, [r2-32768]", ldx(Size.W, R1, R2, Short.MIN_VALUE), slot(0x61, 0x21, -0x8000, 0)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("memory")
    void encodesMemoryAccessWithSizeBitsAndOffset(String listing, Insn insn, byte[] expected) {
        assertThat(code(insn)).isEqualTo(expected);
    }

    static Stream<Arguments> conditionalJumps() {
        return Stream.of(
                arguments("jeq r1, 5", jeq(R1, 5, "t"), slot(0x15, 0x01, 1, 5)),
                arguments("jeq r1, r2", jeq(R1, R2, "t"), slot(0x1d, 0x21, 1, 0)),
                arguments("jgt r1, 5", jgt(R1, 5, "t"), slot(0x25, 0x01, 1, 5)),
                arguments("jgt r1, r2", jgt(R1, R2, "t"), slot(0x2d, 0x21, 1, 0)),
                arguments("jge r1, 5", jge(R1, 5, "t"), slot(0x35, 0x01, 1, 5)),
                arguments("jge r1, r2", jge(R1, R2, "t"), slot(0x3d, 0x21, 1, 0)),
                arguments("jset r1, 5", jset(R1, 5, "t"), slot(0x45, 0x01, 1, 5)),
                arguments("jset r1, r2", jset(R1, R2, "t"), slot(0x4d, 0x21, 1, 0)),
                arguments("jne r1, 5", jne(R1, 5, "t"), slot(0x55, 0x01, 1, 5)),
                arguments("jne r1, r2", jne(R1, R2, "t"), slot(0x5d, 0x21, 1, 0)),
                arguments("jsgt r1, -5", jsgt(R1, -5, "t"), slot(0x65, 0x01, 1, -5)),
                arguments("jsgt r1, r2", jsgt(R1, R2, "t"), slot(0x6d, 0x21, 1, 0)),
                arguments("jsge r1, -5", jsge(R1, -5, "t"), slot(0x75, 0x01, 1, -5)),
                arguments("jsge r1, r2", jsge(R1, R2, "t"), slot(0x7d, 0x21, 1, 0)),
                arguments("jlt r1, 5", jlt(R1, 5, "t"), slot(0xa5, 0x01, 1, 5)),
                arguments("jlt r1, r2", jlt(R1, R2, "t"), slot(0xad, 0x21, 1, 0)),
                arguments("jle r1, 5", jle(R1, 5, "t"), slot(0xb5, 0x01, 1, 5)),
                arguments("jle r1, r2", jle(R1, R2, "t"), slot(0xbd, 0x21, 1, 0)),
                arguments("jslt r1, -5", jslt(R1, -5, "t"), slot(0xc5, 0x01, 1, -5)),
                arguments("jslt r1, r2", jslt(R1, R2, "t"), slot(0xcd, 0x21, 1, 0)),
                arguments("jsle r1, -5", jsle(R1, -5, "t"), slot(0xd5, 0x01, 1, -5)),
                arguments("jsle r1, r2", jsle(R1, R2, "t"), slot(0xdd, 0x21, 1, 0)),
                arguments("jeq32 r1, 5", jump32(JumpOp.JEQ, R1, 5, "t"), slot(0x16, 0x01, 1, 5)),
                arguments("jeq32 r1, r2", jump32(JumpOp.JEQ, R1, R2, "t"), slot(0x1e, 0x21, 1, 0)),
                arguments("jgt32 r1, 5", jump32(JumpOp.JGT, R1, 5, "t"), slot(0x26, 0x01, 1, 5)),
                arguments("jge32 r1, r2", jump32(JumpOp.JGE, R1, R2, "t"), slot(0x3e, 0x21, 1, 0)),
                arguments("jset32 r1, 5", jump32(JumpOp.JSET, R1, 5, "t"), slot(0x46, 0x01, 1, 5)),
                arguments("jne32 r1, 5", jump32(JumpOp.JNE, R1, 5, "t"), slot(0x56, 0x01, 1, 5)),
                arguments("jsgt32 r1, r2", jump32(JumpOp.JSGT, R1, R2, "t"), slot(0x6e, 0x21, 1, 0)),
                arguments("jsge32 r1, 5", jump32(JumpOp.JSGE, R1, 5, "t"), slot(0x76, 0x01, 1, 5)),
                arguments("jlt32 r1, 5", jump32(JumpOp.JLT, R1, 5, "t"), slot(0xa6, 0x01, 1, 5)),
                arguments("jle32 r1, r2", jump32(JumpOp.JLE, R1, R2, "t"), slot(0xbe, 0x21, 1, 0)),
                arguments("jslt32 r1, 5", jump32(JumpOp.JSLT, R1, 5, "t"), slot(0xc6, 0x01, 1, 5)),
                arguments("jsle32 r1, r2", jump32(JumpOp.JSLE, R1, R2, "t"), slot(0xde, 0x21, 1, 0)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("conditionalJumps")
    void encodesConditionalJumpsWithOperationSourceAndResolvedOffset(String listing, Insn jump, byte[] expected) {
        // jump; exit; t: exit  -> the jump skips one slot
        byte[] code = Assembler.assemble(List.of(jump, exit(), label("t"), exit())).code();

        assertThat(Arrays.copyOfRange(code, 0, 8)).isEqualTo(expected);
    }

    @Test
    void encodesUnconditionalJumpAsJa() {
        byte[] code = Assembler.assemble(List.of(ja("t"), exit(), label("t"), exit())).code();

        assertThat(Arrays.copyOfRange(code, 0, 8)).isEqualTo(slot(0x05, 0x00, 1, 0));
    }

    @ParameterizedTest
    @EnumSource(Helper.class)
    void encodesCallWithHelperIdInImmediate(Helper helper) {
        assertThat(code(call(helper))).isEqualTo(slot(0x85, 0x00, 0, helper.id()));
    }

    @Test
    void encodesCallToSkAssignWithItsUapiNumber() {
        assertThat(code(call(Helper.SK_ASSIGN)))
                .containsExactly(0x85, 0x00, 0x00, 0x00, 124, 0x00, 0x00, 0x00);
    }

    @Test
    void encodesExit() {
        assertThat(code(exit())).containsExactly(0x95, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00);
    }

    // ---- two-slot instructions ---------------------------------------------------------------

    @Test
    void encodesLdImm64AsTwoSlotsWithLowHalfFirst() {
        assertThat(code(ldImm64(R3, 0x1122334455667788L))).containsExactly(
                0x18, 0x03, 0x00, 0x00, 0x88, 0x77, 0x66, 0x55,
                0x00, 0x00, 0x00, 0x00, 0x44, 0x33, 0x22, 0x11);
    }

    @Test
    void encodesLdImm64OfNegativeValueWithBothHalvesSignFilled() {
        assertThat(code(ldImm64(R0, -2L))).containsExactly(
                0x18, 0x00, 0x00, 0x00, 0xfe, 0xff, 0xff, 0xff,
                0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff);
    }

    @Test
    void encodesLdMapAsPseudoMapFdLoadWithZeroImmediates() {
        assertThat(code(ldMap(R1, "sockets"))).containsExactly(
                0x18, 0x11, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00);
    }

    @Test
    void recordsEachMapReferenceAtTheSlotOfItsFirstHalf() {
        Bytecode bytecode = Assembler.assemble(List.of(
                mov(R6, R1),                // slot 0
                ldImm64(R2, 1L),            // slots 1-2
                label("lookup"),
                ldMap(R1, "sockets"),       // slots 3-4
                ldMap(R1, "counters"),      // slots 5-6
                exit()));                   // slot 7

        assertThat(bytecode.maps()).containsExactly(
                new Bytecode.MapReference(3, "sockets"),
                new Bytecode.MapReference(5, "counters"));
    }

    @Test
    void reportsNoMapReferencesForAProgramWithoutMaps() {
        assertThat(Assembler.assemble(List.of(ldImm64(R1, 5L), exit())).maps()).isEmpty();
    }

    // ---- labels ------------------------------------------------------------------------------

    @Test
    void resolvesForwardJumpToTheNumberOfSlotsSkipped() {
        byte[] code = Assembler.assemble(List.of(
                jeq(R1, 0, "out"),   // slot 0
                mov(R0, 1),          // slot 1
                exit(),              // slot 2
                label("out"),
                mov(R0, 0),          // slot 3
                exit())).code();

        assertThat(offsetAt(code, 0)).isEqualTo(2);
    }

    @Test
    void resolvesBackwardJumpToANegativeOffset() {
        byte[] code = Assembler.assemble(List.of(
                label("top"),
                add(R1, 1),          // slot 0
                jlt(R1, 10, "top"),  // slot 1: back to slot 0
                exit())).code();

        assertThat(Arrays.copyOfRange(code, 8, 16)).containsExactly(0xa5, 0x01, 0xfe, 0xff, 0x0a, 0x00, 0x00, 0x00);
    }

    @Test
    void resolvesJumpToItsOwnLabelAsMinusOne() {
        byte[] code = Assembler.assemble(List.of(label("self"), ja("self"), exit())).code();

        assertThat(offsetAt(code, 0)).isEqualTo(-1);
    }

    @Test
    void countsLdImm64AsTwoSlotsWhenJumpingOverIt() {
        byte[] code = Assembler.assemble(List.of(
                ja("after"),             // slot 0
                ldImm64(R1, 42L),        // slots 1-2
                label("after"),
                exit())).code();         // slot 3

        assertThat(offsetAt(code, 0)).isEqualTo(2);
    }

    @Test
    void countsLdMapAsTwoSlotsWhenJumpingOverIt() {
        byte[] code = Assembler.assemble(List.of(
                ja("after"),
                ldMap(R1, "m"),
                label("after"),
                exit())).code();

        assertThat(offsetAt(code, 0)).isEqualTo(2);
    }

    @Test
    void givesLabelsNoSpaceInTheBytecode() {
        Bytecode bytecode = Assembler.assemble(List.of(
                label("a"), mov(R0, 0), label("b"), label("c"), exit()));

        assertThat(bytecode.slots()).isEqualTo(2);
        assertThat(bytecode.code()).isEqualTo(concat(slot(0xb7, 0x00, 0, 0), slot(0x95, 0x00, 0, 0)));
    }

    @Test
    void resolvesConsecutiveLabelsToTheSameSlot() {
        byte[] code = Assembler.assemble(List.of(
                jeq(R1, 1, "first"),   // slot 0
                jeq(R1, 2, "second"),  // slot 1
                mov(R0, 0),            // slot 2
                label("first"),
                label("second"),
                exit())).code();       // slot 3

        assertThat(offsetAt(code, 0)).isEqualTo(2);
        assertThat(offsetAt(code, 1)).isEqualTo(1);
    }

    @Test
    void acceptsTheLargestForwardOffset() {
        List<Insn> program = new ArrayList<>();
        program.add(ja("far"));
        program.addAll(movs(Short.MAX_VALUE));
        program.add(label("far"));
        program.add(exit());

        assertThat(offsetAt(Assembler.assemble(program).code(), 0)).isEqualTo(Short.MAX_VALUE);
    }

    @Test
    void acceptsTheLargestBackwardOffset() {
        List<Insn> program = new ArrayList<>();
        program.add(label("far"));
        program.addAll(movs(-Short.MIN_VALUE - 1));
        program.add(ja("far"));
        program.add(exit());

        byte[] code = Assembler.assemble(program).code();

        assertThat(offsetAt(code, -Short.MIN_VALUE - 1)).isEqualTo(Short.MIN_VALUE);
    }

    // ---- errors ------------------------------------------------------------------------------

    @Test
    void rejectsJumpToUnknownLabelNamingTheLabel() {
        assertThatThrownBy(() -> Assembler.assemble(List.of(jeq(R1, 0, "nowhere"), exit())))
                .isInstanceOf(AssemblyException.class)
                .hasMessageContaining("'nowhere'");
    }

    @Test
    void rejectsDuplicateLabel() {
        assertThatThrownBy(() -> Assembler.assemble(List.of(
                label("twice"), mov(R0, 0), label("twice"), exit())))
                .isInstanceOf(AssemblyException.class)
                .hasMessageContaining("'twice'")
                .hasMessageContaining("defined twice");
    }

    @Test
    void rejectsLabelAtTheEndOfTheProgram() {
        assertThatThrownBy(() -> Assembler.assemble(List.of(jeq(R1, 0, "end"), exit(), label("end"))))
                .isInstanceOf(AssemblyException.class)
                .hasMessageContaining("'end'")
                .hasMessageContaining("end of the program");
    }

    @Test
    void rejectsForwardJumpBeyondSixteenBitOffset() {
        List<Insn> program = new ArrayList<>();
        program.add(ja("far"));
        program.addAll(movs(Short.MAX_VALUE + 1));
        program.add(label("far"));
        program.add(exit());

        assertThatThrownBy(() -> Assembler.assemble(program))
                .isInstanceOf(AssemblyException.class)
                .hasMessageContaining("'far'")
                .hasMessageContaining("16-bit");
    }

    @Test
    void rejectsBackwardJumpBeyondSixteenBitOffset() {
        List<Insn> program = new ArrayList<>();
        program.add(label("far"));
        program.addAll(movs(-Short.MIN_VALUE));
        program.add(ja("far"));
        program.add(exit());

        assertThatThrownBy(() -> Assembler.assemble(program))
                .isInstanceOf(AssemblyException.class)
                .hasMessageContaining("16-bit");
    }

    @Test
    void rejectsJumpBeyondSixteenBitOffsetWhenLdImm64SlotsPushItThere() {
        // 16384 ld_imm64 are 32768 slots: out of range only if each counts two.
        List<Insn> program = new ArrayList<>();
        program.add(ja("far"));
        for (int i = 0; i < 16384; i++) {
            program.add(ldImm64(R1, i));
        }
        program.add(label("far"));
        program.add(exit());

        assertThatThrownBy(() -> Assembler.assemble(program)).isInstanceOf(AssemblyException.class);
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 8, 24, 128, -16})
    void rejectsBigEndianSwapOfUnsupportedWidth(int bits) {
        assertThatThrownBy(() -> toBigEndian(R1, bits))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(String.valueOf(bits));
    }

    @Test
    void rejectsLittleEndianSwapOfUnsupportedWidth() {
        assertThatThrownBy(() -> toLittleEndian(R1, 8)).isInstanceOf(IllegalArgumentException.class);
    }

    @ParameterizedTest
    @EnumSource(value = Size.class, names = {"B", "H"})
    void rejectsAtomicAddNarrowerThanFourBytes(Size size) {
        assertThatThrownBy(() -> atomicAdd(size, R1, 0, R2))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(size.name());
    }

    @Test
    void rejectsConditionalJumpWithJaOperation() {
        assertThatThrownBy(() -> jump(JumpOp.JA, R1, 0, "t"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("ja(target)");
    }

    @Test
    void rejectsRegisterJumpWithJaOperation() {
        assertThatThrownBy(() -> jump(JumpOp.JA, R1, R2, "t")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void rejectsThirtyTwoBitJumpWithJaOperation() {
        assertThatThrownBy(() -> jump32(JumpOp.JA, R1, 0, "t")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void rejectsLoadOffsetAboveSixteenBits() {
        assertThatThrownBy(() -> ldx(Size.W, R1, R2, Short.MAX_VALUE + 1))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("32768");
    }

    @Test
    void rejectsStoreOffsetBelowSixteenBits() {
        assertThatThrownBy(() -> stx(Size.DW, R10, Short.MIN_VALUE - 1, R1))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("-32769");
    }

    @Test
    void rejectsImmediateStoreOffsetOutOfSixteenBits() {
        assertThatThrownBy(() -> st(Size.W, R10, 1 << 16, 0)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void rejectsAtomicAddOffsetOutOfSixteenBits() {
        assertThatThrownBy(() -> atomicAdd(Size.DW, R1, 40000, R2)).isInstanceOf(IllegalArgumentException.class);
    }

    // ---- Bytecode ----------------------------------------------------------------------------

    @Test
    void handsOutACopyOfTheCodeSoCallersCannotAlterIt() {
        Bytecode bytecode = Assembler.assemble(List.of(exit()));

        bytecode.code()[0] = 0;

        assertThat(bytecode.code()[0]).isEqualTo((byte) 0x95);
    }

    // ---- helpers -----------------------------------------------------------------------------

    private static byte[] code(Insn insn) {
        return Assembler.assemble(List.of(insn)).code();
    }

    /** One slot written out field by field: code, register byte, s16 offset LE, s32 immediate LE. */
    private static byte[] slot(int code, int regs, int off, int imm) {
        return new byte[] {
            (byte) code, (byte) regs,
            (byte) off, (byte) (off >> 8),
            (byte) imm, (byte) (imm >> 8), (byte) (imm >> 16), (byte) (imm >> 24)
        };
    }

    /** The signed 16-bit offset of slot {@code slot}. */
    private static int offsetAt(byte[] code, int slot) {
        int base = slot * 8;
        return (short) ((code[base + 2] & 0xff) | (code[base + 3] << 8));
    }

    private static byte[] concat(byte[]... parts) {
        int length = 0;
        for (byte[] p : parts) {
            length += p.length;
        }
        byte[] out = new byte[length];
        int at = 0;
        for (byte[] p : parts) {
            System.arraycopy(p, 0, out, at, p.length);
            at += p.length;
        }
        return out;
    }

    private static List<Insn> movs(int count) {
        List<Insn> out = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            out.add(mov(R0, 0));
        }
        return out;
    }
}
