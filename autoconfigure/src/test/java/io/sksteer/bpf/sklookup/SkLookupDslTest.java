package io.sksteer.bpf.sklookup;

import static io.sksteer.bpf.Asm.call;
import static io.sksteer.bpf.Asm.exit;
import static io.sksteer.bpf.Asm.jne;
import static io.sksteer.bpf.Asm.label;
import static io.sksteer.bpf.Asm.mov;
import static io.sksteer.bpf.Reg.R0;
import static io.sksteer.bpf.Reg.R1;
import static io.sksteer.bpf.Reg.R2;
import static io.sksteer.bpf.Reg.R3;
import static io.sksteer.bpf.Reg.R5;
import static io.sksteer.bpf.Reg.R6;
import static io.sksteer.bpf.Reg.R7;
import static io.sksteer.bpf.Reg.R8;
import static io.sksteer.bpf.Reg.R9;
import static io.sksteer.bpf.Reg.R10;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

import io.sksteer.bpf.Helper;
import io.sksteer.bpf.Insn;
import io.sksteer.bpf.ProgramSpec;
import io.sksteer.bpf.ProgramType;
import io.sksteer.bpf.Reg;
import io.sksteer.bpf.Size;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The sk_lookup vocabulary, checked against {@code struct bpf_sk_lookup} from
 * {@code include/uapi/linux/bpf.h}. Expected instructions are written as raw opcodes
 * ({@code 0x61} = ldxw, {@code 0x69} = ldxh, {@code 0x79} = ldxdw), not through {@code Asm}.
 */
class SkLookupDslTest {

    private static final int LDXW = 0x61;
    private static final int LDXH = 0x69;
    private static final int LDXDW = 0x79;
    private static final int MOV64_IMM = 0xb7;
    private static final int MOV64_REG = 0xbf;
    private static final int EXIT = 0x95;
    private static final int JEQ_IMM = 0x15;
    private static final int JNE_IMM = 0x55;

    // ---- context loads -----------------------------------------------------------------------

    @Test
    void readsLocalPortAsFourBytesAtOffset60() {
        assertThat(SkLookup.localPort(R6, R7)).isEqualTo(op(LDXW, R7, R6, 60, 0));
    }

    @Test
    void readsFamilyAsFourBytesAtOffset8() {
        assertThat(SkLookup.family(R6, R7)).isEqualTo(op(LDXW, R7, R6, 8, 0));
    }

    @Test
    void readsProtocolAsFourBytesAtOffset12() {
        assertThat(SkLookup.protocol(R6, R7)).isEqualTo(op(LDXW, R7, R6, 12, 0));
    }

    @Test
    void readsLocalIp4AsFourBytesAtOffset40() {
        assertThat(SkLookup.localIp4(R8, R9)).isEqualTo(op(LDXW, R9, R8, 40, 0));
    }

    @Test
    void readsRemoteIp4AsFourBytesAtOffset16() {
        assertThat(SkLookup.remoteIp4(R8, R9)).isEqualTo(op(LDXW, R9, R8, 16, 0));
    }

    @Test
    void readsEachLocalIp6WordFourBytesApartFromOffset44() {
        assertThat(IntStream.range(0, 4).mapToObj(w -> SkLookup.localIp6(R6, w, R2)))
                .containsExactly(
                        op(LDXW, R2, R6, 44, 0), op(LDXW, R2, R6, 48, 0),
                        op(LDXW, R2, R6, 52, 0), op(LDXW, R2, R6, 56, 0));
    }

    @Test
    void readsEachRemoteIp6WordFourBytesApartFromOffset20() {
        assertThat(IntStream.range(0, 4).mapToObj(w -> SkLookup.remoteIp6(R6, w, R2)))
                .containsExactly(
                        op(LDXW, R2, R6, 20, 0), op(LDXW, R2, R6, 24, 0),
                        op(LDXW, R2, R6, 28, 0), op(LDXW, R2, R6, 32, 0));
    }

    @ParameterizedTest
    @ValueSource(ints = {-1, 4})
    void rejectsIp6WordOutsideZeroToThree(int word) {
        assertThatThrownBy(() -> SkLookup.localIp6(R6, word, R2)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> SkLookup.remoteIp6(R6, word, R2)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void readsIngressIfindexAsFourBytesAtOffset64() {
        assertThat(SkLookup.ingressIfindex(R6, R3)).isEqualTo(op(LDXW, R3, R6, 64, 0));
    }

    @Test
    void readsSkAsEightBytesAtOffset0() {
        assertThat(SkLookup.sk(R6, R7)).isEqualTo(op(LDXDW, R7, R6, 0, 0));
    }

    @Test
    void readsRemotePortAsTwoBytesAtOffset36ThenSwapsToHostOrder() {
        assertThat(SkLookup.remotePort(R6, R7)).containsExactly(
                op(LDXH, R7, R6, 36, 0),
                op(0xdc, R7, R0, 0, 16));
    }

    @Test
    void readsRemotePortInNetworkOrderWithoutSwap() {
        assertThat(SkLookup.remotePortNetworkOrder(R6, R7)).isEqualTo(op(LDXH, R7, R6, 36, 0));
    }

    @Test
    void readsArbitraryFieldWithTheGivenWidth() {
        assertThat(SkLookup.field(R6, Size.H, 38, R1)).isEqualTo(op(LDXH, R1, R6, 38, 0));
    }

    @Test
    void describesAContextOf72Bytes() {
        assertThat(SkLookup.CONTEXT_SIZE).isEqualTo(72);
    }

    // ---- prologue ----------------------------------------------------------------------------

    @Test
    void savesTheContextFromR1InTheChosenRegister() {
        assertThat(SkLookup.prologue(R6)).containsExactly(op(MOV64_REG, R6, R1, 0, 0));
    }

    @ParameterizedTest
    @EnumSource(value = Reg.class, names = {"R6", "R7", "R8", "R9"}, mode = EnumSource.Mode.EXCLUDE)
    void rejectsAContextRegisterThatHelperCallsClobber(Reg reg) {
        assertThatThrownBy(() -> SkLookup.prologue(reg))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("R6-R9")
                .hasMessageContaining(reg.name());
    }

    // ---- helpers -----------------------------------------------------------------------------

    @Test
    void passesContextSocketAndFlagsToSkAssign() {
        assertThat(SkLookup.skAssign(R6, R7, SkLookup.F_REPLACE | SkLookup.F_NO_REUSEPORT)).containsExactly(
                op(MOV64_REG, R1, R6, 0, 0),
                op(MOV64_REG, R2, R7, 0, 0),
                op(MOV64_IMM, R3, R0, 0, 3),
                new Insn.Call(Helper.SK_ASSIGN));
    }

    @ParameterizedTest
    @ValueSource(ints = {4, 8, -1, 0x80000000})
    void rejectsSkAssignFlagsTheKernelDoesNotDefine(int flags) {
        assertThatThrownBy(() -> SkLookup.skAssign(R6, R7, flags))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(String.valueOf(flags));
    }

    @Test
    void passesTheSocketToSkRelease() {
        assertThat(SkLookup.skRelease(R7)).containsExactly(op(MOV64_REG, R1, R7, 0, 0), new Insn.Call(Helper.SK_RELEASE));
    }

    @Test
    void returnsPassAsOneAndDropAsZero() {
        assertThat(SkLookup.pass()).containsExactly(op(MOV64_IMM, R0, R0, 0, 1), op(EXIT, R0, R0, 0, 0));
        assertThat(SkLookup.drop()).containsExactly(op(MOV64_IMM, R0, R0, 0, 0), op(EXIT, R0, R0, 0, 0));
    }

    // ---- assignAndPass -----------------------------------------------------------------------

    @Test
    void callsSkAssignOnceAndSkReleaseOnceAfterIt() {
        List<Insn> block = SkLookup.assignAndPass("web", R6, "sockets", 3, 0, R7, R8);

        List<Integer> assigns = callsTo(block, Helper.SK_ASSIGN);
        List<Integer> releases = callsTo(block, Helper.SK_RELEASE);

        assertThat(assigns).hasSize(1);
        assertThat(releases).hasSize(1);
        assertThat(releases.get(0)).isGreaterThan(assigns.get(0));
    }

    @Test
    void releasesTheSocketBeforeAnyExit() {
        List<Insn> block = SkLookup.assignAndPass("web", R6, "sockets", 3, 0, R7, R8);

        int release = callsTo(block, Helper.SK_RELEASE).get(0);

        assertThat(IntStream.range(0, block.size()).filter(i -> isExit(block.get(i))).boxed())
                .isNotEmpty()
                .allSatisfy(exit -> assertThat(exit).isGreaterThan(release));
    }

    @Test
    void jumpsToTheEndBeforeTheAssignOnlyOnTheNullCheckAfterTheLookup() {
        List<Insn> block = SkLookup.assignAndPass("web", R6, "sockets", 3, 0, R7, R8);

        int lookup = callsTo(block, Helper.MAP_LOOKUP_ELEM).get(0);
        int assign = callsTo(block, Helper.SK_ASSIGN).get(0);
        List<Integer> jumpsBeforeAssign = IntStream.range(0, assign)
                .filter(i -> block.get(i) instanceof Insn.Jump)
                .boxed()
                .toList();

        assertThat(jumpsBeforeAssign).hasSize(1);
        int nullCheck = jumpsBeforeAssign.get(0);
        assertThat(nullCheck).isGreaterThan(lookup);
        assertThat(block.get(nullCheck)).isEqualTo(new Insn.Jump(JEQ_IMM, R0, R0, 0, "web.end"));
    }

    @Test
    void releasesTheSocketOnEveryPathOnceTheLookupFoundOne() {
        List<Insn> block = SkLookup.assignAndPass("web", R6, "sockets", 3, SkLookup.F_REPLACE, R7, R8);
        int nullCheck = IntStream.range(0, block.size())
                .filter(i -> block.get(i).equals(new Insn.Jump(JEQ_IMM, R0, R0, 0, "web.end")))
                .findFirst()
                .orElseThrow();

        // Walk every path from the fall-through of the NULL check (a referenced socket is held) to
        // an exit or out of the block; each must pass a call to sk_release.
        assertReleasedOnEveryPath(block, nullCheck + 1);
    }

    @Test
    void keepsTheAssignResultInTheResultRegisterBecauseSkReleaseClobbersR0() {
        List<Insn> block = SkLookup.assignAndPass("web", R6, "sockets", 3, 0, R7, R8);
        int assign = callsTo(block, Helper.SK_ASSIGN).get(0);
        int release = callsTo(block, Helper.SK_RELEASE).get(0);

        assertThat(block.get(assign + 1)).isEqualTo(op(MOV64_REG, R8, R0, 0, 0));
        assertThat(block.get(release + 1)).isEqualTo(new Insn.Jump(JNE_IMM, R8, R0, 0, "web.end"));
    }

    @Test
    void releasesTheSocketTheLookupReturned() {
        List<Insn> block = SkLookup.assignAndPass("web", R6, "sockets", 3, 0, R7, R8);
        int release = callsTo(block, Helper.SK_RELEASE).get(0);

        assertThat(block).contains(op(MOV64_REG, R7, R0, 0, 0));
        assertThat(block.get(release - 1)).isEqualTo(op(MOV64_REG, R1, R7, 0, 0));
    }

    @Test
    void looksUpTheSlotThroughAKeyOnTheStack() {
        List<Insn> block = SkLookup.assignAndPass("web", R6, "sockets", 3, 0, R7, R8);

        assertThat(block).startsWith(
                op(0x62, R10, R0, -4, 3),
                op(MOV64_REG, R2, R10, 0, 0),
                op(0x07, R2, R0, 0, -4),
                new Insn.LoadMap(R1, "sockets"),
                new Insn.Call(Helper.MAP_LOOKUP_ELEM));
    }

    @Test
    void endsTheBlockWithItsOnlyLabel() {
        List<Insn> block = SkLookup.assignAndPass("web", R6, "sockets", 3, 0, R7, R8);

        assertThat(block.stream().filter(Insn.Label.class::isInstance)).containsExactly(new Insn.Label("web.end"));
        assertThat(block.get(block.size() - 1)).isEqualTo(new Insn.Label("web.end"));
    }

    @Test
    void passesTheFlagsToSkAssign() {
        List<Insn> block = SkLookup.assignAndPass("web", R6, "sockets", 3, SkLookup.F_NO_REUSEPORT, R7, R8);
        int assign = callsTo(block, Helper.SK_ASSIGN).get(0);

        assertThat(block.get(assign - 1)).isEqualTo(op(MOV64_IMM, R3, R0, 0, SkLookup.F_NO_REUSEPORT));
    }

    @ParameterizedTest
    @EnumSource(value = Reg.class, names = {"R0", "R1", "R5", "R10"})
    void rejectsAssignAndPassWithASocketRegisterThatCallsClobber(Reg sk) {
        assertThatThrownBy(() -> SkLookup.assignAndPass("b", R6, "m", 0, 0, sk, R8))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("socket register");
    }

    @Test
    void rejectsAssignAndPassWithAResultRegisterThatCallsClobber() {
        assertThatThrownBy(() -> SkLookup.assignAndPass("b", R6, "m", 0, 0, R7, R0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("result register");
    }

    @Test
    void rejectsAssignAndPassWithAContextRegisterThatCallsClobber() {
        assertThatThrownBy(() -> SkLookup.assignAndPass("b", R1, "m", 0, 0, R7, R8))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("context register");
    }

    @Test
    void rejectsAssignAndPassWithTheSameSocketAndResultRegister() {
        assertThatThrownBy(() -> SkLookup.assignAndPass("b", R6, "m", 0, 0, R7, R7))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("distinct");
    }

    @Test
    void rejectsAssignAndPassWithTheContextAsSocketRegister() {
        assertThatThrownBy(() -> SkLookup.assignAndPass("b", R6, "m", 0, 0, R6, R8))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("distinct");
    }

    @Test
    void rejectsAssignAndPassWithTheContextAsResultRegister() {
        assertThatThrownBy(() -> SkLookup.assignAndPass("b", R6, "m", 0, 0, R7, R6))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("distinct");
    }

    @Test
    void rejectsAssignAndPassWithUnknownFlags() {
        assertThatThrownBy(() -> SkLookup.assignAndPass("b", R6, "m", 0, 4, R7, R8))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void assemblesTwoAssignBlocksWithDistinctNamesInOneProgram() {
        ProgramSpec spec = SkLookupProgram.builder("two")
                .body(SkLookup.assignAndPass("a", R6, "sockets", 0, 0, R7, R8))
                .body(SkLookup.assignAndPass("b", R6, "sockets", 1, 0, R7, R8))
                .build();

        assertThat(spec.mapNames()).containsExactly("sockets");
        assertThat(spec.bytecode().maps()).hasSize(2);
    }

    // ---- SkLookupProgram ---------------------------------------------------------------------

    @Test
    void endsWithReturnZeroWhenTheDefaultActionIsDrop() {
        ProgramSpec spec = SkLookupProgram.builder("dropper").defaultAction(Verdict.DROP).build();
        List<Insn> insns = spec.instructions();
        byte[] code = spec.bytecode().code();

        assertThat(insns.subList(insns.size() - 2, insns.size()))
                .containsExactly(op(MOV64_IMM, R0, R0, 0, 0), op(EXIT, R0, R0, 0, 0));
        assertThat(Arrays.copyOfRange(code, code.length - 16, code.length)).containsExactly(
                0xb7, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                0x95, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00);
    }

    @Test
    void endsWithReturnOneByDefault() {
        List<Insn> insns = SkLookupProgram.builder("passer").build().instructions();

        assertThat(insns.subList(insns.size() - 2, insns.size()))
                .containsExactly(op(MOV64_IMM, R0, R0, 0, 1), op(EXIT, R0, R0, 0, 0));
    }

    @Test
    void placesTheBodyBetweenPrologueAndDefaultAction() {
        List<Insn> body = List.of(SkLookup.localPort(R6, R7), jne(R7, 443, "out"), mov(R0, 1), exit(), label("out"));

        List<Insn> insns = SkLookupProgram.builder("https").body(body).defaultAction(Verdict.DROP).build().instructions();

        List<Insn> expected = new ArrayList<>();
        expected.add(op(MOV64_REG, R6, R1, 0, 0));
        expected.addAll(body);
        expected.add(op(MOV64_IMM, R0, R0, 0, 0));
        expected.add(op(EXIT, R0, R0, 0, 0));
        assertThat(insns).containsExactlyElementsOf(expected);
    }

    @Test
    void savesTheContextInTheChosenRegister() {
        List<Insn> insns = SkLookupProgram.builder("ctx8").ctx(R8).build().instructions();

        assertThat(insns.get(0)).isEqualTo(op(MOV64_REG, R8, R1, 0, 0));
    }

    @Test
    void rejectsAContextRegisterOutsideR6ToR9() {
        assertThatThrownBy(() -> SkLookupProgram.builder("bad").ctx(R1))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("R6-R9");
    }

    @Test
    void buildsAnSkLookupProgramSpecWithTheGivenName() {
        ProgramSpec spec = SkLookupProgram.builder("dispatch").build();

        assertThat(spec.name()).isEqualTo("dispatch");
        assertThat(spec.type()).isEqualTo(ProgramType.SK_LOOKUP);
    }

    @Test
    void failsAtBuildWhenTheBodyCallsSkLookupTcp() {
        SkLookupProgram builder = SkLookupProgram.builder("bad").body(List.of(call(Helper.SK_LOOKUP_TCP)));

        assertThatThrownBy(builder::build)
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("bpf_sk_lookup_tcp");
    }

    // ---- helpers -----------------------------------------------------------------------------

    private static Insn op(int code, Reg dst, Reg src, int off, int imm) {
        return new Insn.Op(code, dst, src, (short) off, imm);
    }

    private static boolean isExit(Insn insn) {
        return insn instanceof Insn.Op op && op.code() == EXIT;
    }

    private static List<Integer> callsTo(List<Insn> block, Helper helper) {
        return IntStream.range(0, block.size())
                .filter(i -> block.get(i) instanceof Insn.Call c && c.helper() == helper)
                .boxed()
                .toList();
    }

    /**
     * Explores every path through {@code block} from {@code start} (jumps branch both ways; the
     * unconditional ja has code 0x05) and fails if one reaches an exit, a label outside the walk
     * or the end of the block without calling sk_release.
     */
    private static void assertReleasedOnEveryPath(List<Insn> block, int start) {
        Set<String> seen = new HashSet<>();
        List<int[]> todo = new ArrayList<>();
        todo.add(new int[] {start, 0});
        int exitsReached = 0;
        while (!todo.isEmpty()) {
            int[] state = todo.remove(todo.size() - 1);
            int at = state[0];
            boolean released = state[1] == 1;
            if (!seen.add(at + ":" + released)) {
                continue;
            }
            if (at >= block.size() || isExit(block.get(at))) {
                if (!released) {
                    fail("path reaching " + (at >= block.size() ? "the end of the block" : "exit at " + at)
                            + " holds the socket without calling sk_release");
                }
                exitsReached++;
                continue;
            }
            Insn insn = block.get(at);
            if (insn instanceof Insn.Call c && c.helper() == Helper.SK_RELEASE) {
                released = true;
            }
            if (insn instanceof Insn.Jump j) {
                int target = labelIndex(block, j.target());
                todo.add(new int[] {target, released ? 1 : 0});
                if (j.code() == 0x05) {
                    continue;
                }
            }
            todo.add(new int[] {at + 1, released ? 1 : 0});
        }
        assertThat(exitsReached).as("paths explored").isGreaterThanOrEqualTo(2);
    }

    private static int labelIndex(List<Insn> block, String name) {
        int index = block.indexOf(new Insn.Label(name));
        if (index < 0) {
            fail("jump to label '" + name + "' outside the block");
        }
        return index;
    }
}
