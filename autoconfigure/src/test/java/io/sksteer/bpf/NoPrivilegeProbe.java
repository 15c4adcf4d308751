package io.sksteer.bpf;

import static io.sksteer.bpf.Asm.exit;
import static io.sksteer.bpf.Asm.mov;

import java.util.List;

/**
 * Run in a child JVM without capabilities by {@link ProgramKernelTest}: tries to load a trivial
 * sk_lookup program and prints the outcome on one line starting with {@link #RESULT}.
 */
public final class NoPrivilegeProbe {

    /** The prefix of the line the parent reads. */
    public static final String RESULT = "PROBE-RESULT: ";

    private NoPrivilegeProbe() {
    }

    public static void main(String[] args) {
        ProgramSpec spec = ProgramSpec.skLookup("no_priv_probe", List.of(mov(Reg.R0, 1), exit()));
        try (BpfProgram program = BpfProgram.load(spec, List.of())) {
            System.out.println(RESULT + "loaded " + program);
        } catch (BpfException e) {
            System.out.println(RESULT + e.getClass().getSimpleName() + " errno=" + e.errnoName() + " " + e.getMessage());
        }
        System.out.flush();
    }
}
