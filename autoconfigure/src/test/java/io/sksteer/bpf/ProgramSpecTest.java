package io.sksteer.bpf;

import static io.sksteer.bpf.Asm.call;
import static io.sksteer.bpf.Asm.exit;
import static io.sksteer.bpf.Asm.jeq;
import static io.sksteer.bpf.Asm.label;
import static io.sksteer.bpf.Asm.ldMap;
import static io.sksteer.bpf.Asm.mov;
import static io.sksteer.bpf.Reg.R0;
import static io.sksteer.bpf.Reg.R1;
import static io.sksteer.bpf.Reg.R2;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.NullSource;
import org.junit.jupiter.params.provider.ValueSource;

class ProgramSpecTest {

    private static final List<Insn> RETURN_ZERO = List.of(mov(R0, 0), exit());

    @Test
    void rejectsSkLookupTcpHelperNamingHelperAndProgramType() {
        assertThatThrownBy(() -> ProgramSpec.skLookup("lookup", List.of(call(Helper.SK_LOOKUP_TCP), mov(R0, 0), exit())))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("bpf_sk_lookup_tcp")
                .hasMessageContaining("BPF_PROG_TYPE_SK_LOOKUP");
    }

    @Test
    void rejectsSkLookupUdpHelperNamingHelperAndProgramType() {
        assertThatThrownBy(() -> ProgramSpec.skLookup("lookup", List.of(call(Helper.SK_LOOKUP_UDP), mov(R0, 0), exit())))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("bpf_sk_lookup_udp")
                .hasMessageContaining("BPF_PROG_TYPE_SK_LOOKUP");
    }

    @ParameterizedTest
    @EnumSource(value = Helper.class, names = {"SK_LOOKUP_TCP", "SK_LOOKUP_UDP"}, mode = EnumSource.Mode.EXCLUDE)
    void acceptsEveryOtherHelperInAnSkLookupProgram(Helper helper) {
        ProgramSpec spec = ProgramSpec.skLookup("ok", List.of(call(helper), mov(R0, 0), exit()));

        assertThat(spec.instructions()).contains(call(helper));
    }

    @Test
    void rejectsEmptyName() {
        assertThatThrownBy(() -> ProgramSpec.skLookup("", RETURN_ZERO))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("1 to 15 characters");
    }

    @Test
    void rejectsNameOfSixteenCharacters() {
        assertThatThrownBy(() -> ProgramSpec.skLookup("abcdefghijklmnop", RETURN_ZERO))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'abcdefghijklmnop'");
    }

    @Test
    void acceptsNameOfFifteenCharacters() {
        assertThat(ProgramSpec.skLookup("abcdefghijklmno", RETURN_ZERO).name()).isEqualTo("abcdefghijklmno");
    }

    @ParameterizedTest
    @ValueSource(strings = {"has space", " lead", "trail ", "dash-ed", "slash/", "ümlaut"})
    void rejectsNameWithCharactersTheKernelRefuses(String name) {
        assertThatThrownBy(() -> ProgramSpec.skLookup(name, RETURN_ZERO)).isInstanceOf(IllegalArgumentException.class);
    }

    @ParameterizedTest
    @NullSource
    void rejectsNullName(String name) {
        assertThatThrownBy(() -> ProgramSpec.skLookup(name, RETURN_ZERO)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void acceptsNameOfLettersDigitsUnderscoreAndDot() {
        assertThat(ProgramSpec.skLookup("Disp_4.v2", RETURN_ZERO).name()).isEqualTo("Disp_4.v2");
    }

    @Test
    void rejectsProgramWithoutInstructions() {
        assertThatThrownBy(() -> ProgramSpec.skLookup("empty", List.of()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("no instructions");
    }

    @Test
    void rejectsProgramOfOnlyLabels() {
        assertThatThrownBy(() -> ProgramSpec.skLookup("labels", List.of(label("a"), label("b"))))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("no instructions");
    }

    @Test
    void rejectsProgramThatDoesNotAssemble() {
        assertThatThrownBy(() -> ProgramSpec.skLookup("broken", List.of(jeq(R1, 0, "missing"), mov(R0, 0), exit())))
                .isInstanceOf(AssemblyException.class)
                .hasMessageContaining("'missing'");
    }

    @Test
    void listsEachReferencedMapOnceInNameOrder() {
        ProgramSpec spec = ProgramSpec.skLookup("maps", List.of(
                ldMap(R1, "sockets"),
                ldMap(R2, "counters"),
                ldMap(R1, "sockets"),
                mov(R0, 0),
                exit()));

        assertThat(spec.mapNames()).containsExactly("counters", "sockets");
    }

    @Test
    void listsNoMapsForAProgramWithoutMapReferences() {
        assertThat(ProgramSpec.skLookup("nomaps", RETURN_ZERO).mapNames()).isEmpty();
    }

    @Test
    void describesSkLookupProgramsWithTypeAttachTypeAndGplLicense() {
        ProgramSpec spec = ProgramSpec.skLookup("steer", RETURN_ZERO);

        assertThat(spec.type()).isEqualTo(ProgramType.SK_LOOKUP);
        assertThat(spec.expectedAttachType()).isEqualTo(AttachType.SK_LOOKUP);
        assertThat(spec.license()).isEqualTo("GPL");
    }

    @Test
    void holdsTheAssembledBytecodeOfItsInstructions() {
        ProgramSpec spec = ProgramSpec.skLookup("steer", RETURN_ZERO);

        assertThat(spec.bytecode().code()).isEqualTo(Assembler.assemble(RETURN_ZERO).code());
        assertThat(spec.bytecode().slots()).isEqualTo(2);
    }

    @Test
    void keepsItsOwnCopyOfTheInstructions() {
        List<Insn> instructions = new ArrayList<>(RETURN_ZERO);
        ProgramSpec spec = ProgramSpec.skLookup("steer", instructions);

        instructions.add(0, mov(R0, 1));

        assertThat(spec.instructions()).containsExactlyElementsOf(RETURN_ZERO);
    }
}
