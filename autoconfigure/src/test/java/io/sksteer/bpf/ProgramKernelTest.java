package io.sksteer.bpf;

import static io.sksteer.bpf.Asm.exit;
import static io.sksteer.bpf.Asm.label;
import static io.sksteer.bpf.Asm.ldMap;
import static io.sksteer.bpf.Asm.ldxdw;
import static io.sksteer.bpf.Asm.mov;
import static io.sksteer.bpf.Asm.st;
import static io.sksteer.testkit.TestSockets.addr;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.sksteer.bpf.sklookup.Protocol;
import io.sksteer.bpf.sklookup.SkLookup;
import io.sksteer.bpf.sklookup.SkLookupContext;
import io.sksteer.bpf.sklookup.SkLookupProgram;
import io.sksteer.bpf.sklookup.SkLookupTestRun;
import io.sksteer.bpf.sklookup.Verdict;
import io.sksteer.testkit.Awaits;
import io.sksteer.testkit.ChildJvm;
import io.sksteer.testkit.KernelTest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Loading programs into the real kernel: verifier failures, map binding, info, test runs, privileges. */
@KernelTest
class ProgramKernelTest {

    private static final List<Insn> PASS = List.of(mov(Reg.R0, 1), exit());

    // ---- the verifier ---------------------------------------------------------------------------

    @Test
    void exitingWithoutSettingR0IsAVerifierErrorWithTheWholeLog() {
        ProgramSpec spec = ProgramSpec.skLookup("no_r0", List.of(exit()));

        VerifierException e = rejection(spec);

        assertThat(e.errnoName()).isEqualTo("EACCES");
        assertThat(e.log()).contains("R0 !read_ok").contains("processed");
        List<String> last = e.lastLines(2);
        assertThat(last).hasSize(2).allSatisfy(line -> assertThat(line).isNotBlank());
        assertThat(e.log()).contains(last.get(0)).contains(last.get(1));
        assertThat(e.getMessage()).startsWith("load program 'no_r0': ")
                .contains(last.get(0)).contains(last.get(1))
                .contains("R0 !read_ok");
        assertThat(e.getMessage().length()).as("the message is a summary, not the log").isLessThan(e.log().length() + 100);
    }

    @Test
    void anOutOfBoundsStackWriteIsAVerifierError() {
        // R10 is the frame pointer: the stack lives below it, so R10 + 8 is outside.
        ProgramSpec spec = ProgramSpec.skLookup("stack_oob", List.of(st(Size.DW, Reg.R10, 8, 1), mov(Reg.R0, 1), exit()));

        VerifierException e = rejection(spec);

        assertThat(e.log()).contains("invalid write to stack").contains("off=8");
        assertThat(e.getMessage()).contains("invalid write to stack");
        assertThat(e.getMessage()).contains(e.lastLines(2).get(0)).contains(e.lastLines(2).get(1));
    }

    @Test
    void readingPastTheEndOfTheContextIsAVerifierError() {
        // struct bpf_sk_lookup is 72 bytes; offset 72 is outside it.
        ProgramSpec spec = ProgramSpec.skLookup("ctx_oob", List.of(
                SkLookup.field(Reg.R1, Size.W, SkLookup.CONTEXT_SIZE, Reg.R0),
                mov(Reg.R0, 1),
                exit()));

        VerifierException e = rejection(spec);

        assertThat(e.log()).contains("invalid bpf_context access");
        assertThat(e.lastLines(1)).hasSize(1);
        assertThat(e.getMessage()).contains(e.lastLines(1).get(0)).contains("invalid bpf_context access");
    }

    @Test
    void anEightByteLoadOfAU32ContextFieldIsAVerifierError() {
        ProgramSpec spec = ProgramSpec.skLookup("ctx_wide", List.of(
                ldxdw(Reg.R0, Reg.R1, SkLookup.LOCAL_PORT),
                mov(Reg.R0, 1),
                exit()));

        VerifierException e = rejection(spec);

        assertThat(e.log()).contains("invalid bpf_context access");
    }

    @Test
    void anExitCodeOtherThanPassOrDropIsRejected() {
        ProgramSpec spec = ProgramSpec.skLookup("bad_ret", List.of(mov(Reg.R0, 2), exit()));

        VerifierException e = rejection(spec);

        assertThat(e.log()).contains("R0");
        assertThat(e.getMessage()).contains(e.lastLines(2).get(1));
    }

    @Test
    void aVerifierLogLargerThanTheFirstBufferIsKeptWhole() {
        // 8000 instructions make a log of some 360 KiB at log level 1, far past the first 64 KiB
        // buffer: the kernel answers ENOSPC and the loader must retry with a bigger one.
        List<Insn> insns = new ArrayList<>();
        for (int i = 0; i < 8000; i++) {
            insns.add(mov(Reg.R0, 1));
        }
        insns.add(SkLookup.field(Reg.R1, Size.W, SkLookup.CONTEXT_SIZE, Reg.R0));
        insns.add(exit());

        VerifierException e = rejection(ProgramSpec.skLookup("big_log", insns));

        assertThat(e.errnoName()).as("the verifier's errno, not the log's ENOSPC").isEqualTo("EACCES");
        assertThat(e.log().length()).isGreaterThan(64 * 1024);
        assertThat(e.log()).as("the log from its first instruction").contains("\n0: (b7) r0 = 1")
                .contains("\n7999: (b7) r0 = 1")
                .contains("8000: (61) r0 = *(u32 *)(r1 +72)")
                .contains("invalid bpf_context access off=72");
        assertThat(e.getMessage()).contains("invalid bpf_context access").hasSizeLessThan(2000);
    }

    /** Loads {@code spec} expecting the verifier to refuse it; a program that loads anyway is closed and fails the test. */
    private static VerifierException rejection(ProgramSpec spec) {
        try (BpfProgram loaded = BpfProgram.load(spec, List.of())) {
            throw new AssertionError("the verifier accepted " + spec + " as " + loaded);
        } catch (VerifierException e) {
            return e;
        }
    }

    // ---- maps -----------------------------------------------------------------------------------

    @Test
    void aProgramUsingAMapThatWasNotGivenFailsNamingTheMap() {
        ProgramSpec spec = ProgramSpec.skLookup("needs_map", List.of(ldMap(Reg.R1, "nowhere"), mov(Reg.R0, 1), exit()));
        assertThat(spec.mapNames()).containsExactly("nowhere");

        try (BpfMap<Integer, Integer> other = BpfMap.create(MapSpec.of("elsewhere", MapType.ARRAY, 4, 4, 1),
                Codec.u32(), Codec.u32())) {
            BpfException e = catchThrowableOfType(() -> BpfProgram.load(spec, List.of(other)), BpfException.class);

            assertThat(e).isNotNull().isNotInstanceOf(VerifierException.class);
            assertThat(e.getMessage()).contains("'nowhere'").contains("elsewhere").contains("needs_map");
            assertThat(e.errno()).as("detected before any kernel call").isZero();
        }
    }

    @Test
    void aProgramGivenItsMapLoadsAndReportsTheMapId() {
        ProgramSpec spec = ProgramSpec.skLookup("uses_map", List.of(ldMap(Reg.R1, "the_map"), mov(Reg.R0, 1), exit()));
        try (BpfMap<Integer, Integer> map = BpfMap.create(MapSpec.of("the_map", MapType.ARRAY, 4, 4, 1), Codec.u32(),
                Codec.u32());
                BpfProgram program = BpfProgram.load(spec, List.of(map))) {
            assertThat(program.info().mapIds()).containsExactly(map.id());
        }
    }

    // ---- info, test runs, ids -------------------------------------------------------------------

    @Test
    void infoHasTheNameATagAndTheSkLookupType() {
        try (BpfProgram program = BpfProgram.load(ProgramSpec.skLookup("info_prog", PASS), List.of())) {
            ProgramInfo info = program.info();
            assertThat(info.name()).isEqualTo("info_prog");
            assertThat(info.typeNumber()).isEqualTo(30);
            assertThat(info.isSkLookup()).isTrue();
            assertThat(info.tag()).matches("[0-9a-f]{16}").isNotEqualTo("0000000000000000").isEqualTo(program.tag());
            assertThat(info.id()).isEqualTo(program.id()).isPositive();
            assertThat(info.verifiedInstructions()).isEqualTo(2);
            assertThat(info.mapIds()).isEmpty();
        }
    }

    @Test
    void theTagDependsOnlyOnTheInstructions() {
        try (BpfProgram a = BpfProgram.load(ProgramSpec.skLookup("tag_a", PASS), List.of());
                BpfProgram b = BpfProgram.load(ProgramSpec.skLookup("tag_b", PASS), List.of());
                BpfProgram c = BpfProgram.load(ProgramSpec.skLookup("tag_c", SkLookup.drop()), List.of())) {
            assertThat(a.tag()).isEqualTo(b.tag());
            assertThat(a.id()).isNotEqualTo(b.id());
            assertThat(c.tag()).isNotEqualTo(a.tag());
        }
    }

    @Test
    void aTrivialProgramTestRunsToItsVerdict() {
        SkLookupContext context = new SkLookupContext(Protocol.UDP, addr("127.0.0.1", 53), addr("127.0.0.2", 5353));
        try (BpfProgram pass = BpfProgram.load(ProgramSpec.skLookup("run_pass", PASS), List.of());
                BpfProgram drop = BpfProgram.load(SkLookupProgram.builder("run_drop").defaultAction(Verdict.DROP).build(),
                        List.of())) {
            SkLookupTestRun passed = SkLookupTestRun.run(pass, context, 1);
            assertThat(passed.verdict()).isEqualTo(Verdict.PASS);
            assertThat(passed.selected()).isEmpty();
            assertThat(pass.testRun(context.encode(), 1).retval()).isEqualTo(1);

            assertThat(SkLookupTestRun.run(drop, context, 1).verdict()).isEqualTo(Verdict.DROP);
            assertThat(drop.testRun(context.encode(), 1).retval()).isZero();
        }
    }

    @Test
    void theTestRunSeesTheContextFields() {
        // Pass only TCP to local port 8080: proves the encoded context reaches the program.
        ProgramSpec spec = SkLookupProgram.builder("ctx_check")
                .body(SkLookup.checkPort(Reg.R6, Reg.R7, 8080, "port_ok"))
                .body(SkLookup.drop())
                .body(List.of(label("port_ok")))
                .body(SkLookup.checkProtocol(Reg.R6, Reg.R7, Protocol.TCP, "pass"))
                .body(SkLookup.drop())
                .body(List.of(label("pass")))
                .defaultAction(Verdict.PASS)
                .build();
        try (BpfProgram program = BpfProgram.load(spec, List.of())) {
            assertThat(run(program, Protocol.TCP, 8080)).isEqualTo(Verdict.PASS);
            assertThat(run(program, Protocol.TCP, 8081)).isEqualTo(Verdict.DROP);
            assertThat(run(program, Protocol.UDP, 8080)).isEqualTo(Verdict.DROP);
        }
    }

    private static Verdict run(BpfProgram program, Protocol protocol, int port) {
        return SkLookupTestRun.run(program, new SkLookupContext(protocol, addr("127.0.0.1", port),
                addr("127.0.0.1", 40000)), 1).verdict();
    }

    @Test
    void describeFindsALoadedProgramByIdAndNotAClosedOne() {
        int id;
        String tag;
        try (BpfProgram program = BpfProgram.load(ProgramSpec.skLookup("describe_me", PASS), List.of())) {
            id = program.id();
            tag = program.tag();
            Optional<ProgramInfo> found = BpfProgram.describe(id);
            assertThat(found).isPresent();
            assertThat(found.get().name()).isEqualTo("describe_me");
            assertThat(found.get().id()).isEqualTo(id);
            assertThat(found.get().tag()).isEqualTo(tag);
            assertThat(found.get().isSkLookup()).isTrue();
            assertThat(BpfProgram.allIds()).contains(id);
        }
        Optional<ProgramInfo> after = Awaits.until(() -> BpfProgram.describe(id), Optional::isEmpty, Duration.ofSeconds(5));
        assertThat(after).as("program %d after its only descriptor was closed", id).isEmpty();
        assertThat(BpfProgram.allIds()).doesNotContain(id);
    }

    // ---- privileges -----------------------------------------------------------------------------

    @Test
    void withoutCapabilitiesLoadingFailsWithEpermNamingTheCapabilities() throws Exception {
        ChildJvm.Result r = ChildJvm.run("-all", Duration.ofSeconds(60), NoPrivilegeProbe.class.getName());
        assertThat(r.exitCode()).as("probe exit status; output:%n%s", r.output()).isZero();
        assertThat(ChildJvm.line(r, NoPrivilegeProbe.RESULT)).contains("BpfException").contains("errno=EPERM")
                .contains("load program 'no_priv_probe'")
                .contains("EPERM").contains("CAP_BPF").contains("CAP_NET_ADMIN");
    }
}
