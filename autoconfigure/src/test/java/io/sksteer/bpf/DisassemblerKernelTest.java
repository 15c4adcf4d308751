package io.sksteer.bpf;

import static io.sksteer.bpf.Asm.add;
import static io.sksteer.bpf.Asm.add32;
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
import static io.sksteer.bpf.Asm.jgt;
import static io.sksteer.bpf.Asm.jne;
import static io.sksteer.bpf.Asm.jsle;
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
import static io.sksteer.bpf.Asm.mod;
import static io.sksteer.bpf.Asm.mov;
import static io.sksteer.bpf.Asm.mov32;
import static io.sksteer.bpf.Asm.mul;
import static io.sksteer.bpf.Asm.neg;
import static io.sksteer.bpf.Asm.or;
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
import static io.sksteer.bpf.Reg.R5;
import static io.sksteer.bpf.Reg.R6;
import static io.sksteer.bpf.Reg.R7;
import static io.sksteer.bpf.Reg.R8;
import static org.assertj.core.api.Assertions.assertThat;

import io.sksteer.bpf.sklookup.SkLookup;
import io.sksteer.testkit.KernelTest;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The listing read against a real verifier log: every instruction line the kernel prints is the
 * listing's line of that number, up to the listing's own notes.
 */
@KernelTest
class DisassemblerKernelTest {

    /** {@code 12: (bf) r6 = r1}, then at log level 1 perhaps {@code   ; R1=ctx() R6_w=ctx()}. */
    private static final Pattern LOGGED = Pattern.compile("^(\\d+): (\\([0-9a-f]{2}\\) .*?)(\\s+;.*)?$");
    /** The listing's notes after the verifier's text: a jump's target, a slot's labels. */
    private static final Pattern NOTES = Pattern.compile("( -> \\d+.*?)?(\\s+;( [^ ]+:)+)?$");

    /** One of (nearly) every instruction form the assembler emits, on a path the verifier walks to the end. */
    private static List<Insn> everyForm() {
        return List.of(
                mov(R6, R1),
                ldxw(R7, R6, SkLookup.LOCAL_PORT), ldxh(R2, R6, SkLookup.LOCAL_PORT), ldxb(R3, R6, SkLookup.PROTOCOL),
                st(Size.W, R10, -4, 0), st(Size.DW, R10, -16, 7), st(Size.B, R10, -17, 1), st(Size.H, R10, -20, 2),
                stx(Size.W, R10, -24, R7), stx(Size.DW, R10, -32, R7), stx(Size.B, R10, -33, R2), stx(Size.H, R10, -36, R3),
                ldxdw(R4, R10, -16),
                atomicAdd(Size.DW, R10, -16, R4), atomicAdd(Size.W, R10, -24, R7),
                add(R4, 3), sub(R4, 1), mul(R4, 5), div(R4, 2), mod(R4, 7), or(R4, 0x40), and(R4, -2), lsh(R4, 3),
                rsh(R4, 1), arsh(R4, 1), xor(R4, -1), neg(R4),
                add(R4, R7), sub(R4, R2), mul(R4, R3), div(R4, R7), or(R4, R2), and(R4, R7), xor(R4, R3), mov(R5, R4),
                mov32(R5, -1), add32(R5, 5), and32(R5, R7), xor32(R5, R2), rsh32(R5, 2),
                be16(R3), le32(R3), be64(R3),
                ldImm64(R8, 0x9e3779b97f4a7c15L),
                jeq(R7, 80, "a"), label("a"),
                jne(R7, R2, "b"), label("b"),
                jump32(JumpOp.JEQ, R7, -1, "c"), label("c"),
                jump32(JumpOp.JNE, R7, R2, "d"), label("d"),
                jgt(R7, 65535, "e"), label("e"),
                jsle(R7, R3, "f"), label("f"),
                ja("g"), label("g"),
                // a map lookup: the verifier prints its own address for the map, the listing its name
                ldMap(R1, "disasm_map"), mov(R2, R10), add(R2, -4), call(Helper.MAP_LOOKUP_ELEM),
                call(Helper.GET_PRANDOM_U32),
                // and the refusal: sk_lookup programs must return 0 or 1
                mov(R0, 2), exit());
    }

    @Test
    void everyInstructionLineOfTheVerifierLogIsTheListingsLineOfThatNumber() {
        List<Insn> insns = everyForm();
        ProgramSpec spec = ProgramSpec.skLookup("disasm_check", insns);
        try (BpfMap<Integer, Integer> map = BpfMap.create(MapSpec.of("disasm_map", MapType.ARRAY, 4, 4, 1),
                Codec.u32(), Codec.u32())) {
            VerifierException e = rejection(spec, map);
            List<String> listing = Disassembler.lines(spec);
            System.out.println(e.logWithListing());

            Set<String> opcodes = new TreeSet<>();
            int compared = 0;
            for (String line : e.log().split("\n")) {
                Matcher m = LOGGED.matcher(line);
                if (!m.matches()) {
                    continue;
                }
                int slot = Integer.parseInt(m.group(1));
                String kernel = m.group(2);
                String ours = NOTES.matcher(listing.get(slot).replaceFirst("^\\s*\\d+: ", "")).replaceFirst("");
                if (kernel.startsWith("(18) ") && ours.contains(" = map[")) {
                    // The verifier shows the map's kernel address (or 0x0) where we name the map.
                    assertThat(ours).as("slot %d", slot).isEqualTo(kernel.replaceFirst(" = .*", " = map[disasm_map]"));
                } else {
                    assertThat(ours).as("slot %d, logged as: %s", slot, line).isEqualTo(kernel);
                }
                opcodes.add(kernel.substring(1, 3));
                compared++;
            }
            long forms = insns.stream().filter(i -> i.slots() > 0).count();
            assertThat(compared).as("instruction lines in the log").isGreaterThanOrEqualTo((int) forms);
            assertThat(opcodes).as("distinct opcodes the log and the listing agree on").hasSizeGreaterThan(40);
        }
    }

    @Test
    void aRejectedProgramCarriesItsListingOutsideTheMessage() {
        ProgramSpec spec = ProgramSpec.skLookup("disasm_reject", List.of(mov(R6, R1), mov(R0, 2), exit()));

        VerifierException e = rejection(spec);

        assertThat(e.listing()).isEqualTo(Disassembler.listing(spec)).isEqualTo(String.join("\n",
                "0: (bf) r6 = r1",
                "1: (b7) r0 = 2",
                "2: (95) exit"));
        assertThat(e.getMessage()).as("the summary, as without a listing")
                .isEqualTo(new VerifierException("load program 'disasm_reject'", e.errno(), e.log()).getMessage())
                .contains("R0");
        assertThat(e.logWithListing()).startsWith("verifier log:\n").contains(e.log().strip())
                .endsWith("program listing:\n" + e.listing());
    }

    private static VerifierException rejection(ProgramSpec spec, KernelMap... maps) {
        try (BpfProgram loaded = BpfProgram.load(spec, List.of(maps))) {
            throw new AssertionError("the verifier accepted " + spec + " as " + loaded);
        } catch (VerifierException e) {
            return e;
        }
    }
}
