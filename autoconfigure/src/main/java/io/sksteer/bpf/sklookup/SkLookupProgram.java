package io.sksteer.bpf.sklookup;

import io.sksteer.bpf.Insn;
import io.sksteer.bpf.ProgramSpec;
import io.sksteer.bpf.Reg;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Builds an sk_lookup {@link ProgramSpec} from a body: the prologue saving the context, the body,
 * then the default action for a body that falls off its end.
 *
 * <pre>{@code
 * ProgramSpec spec = SkLookupProgram.builder("https_only")
 *         .body(List.of(localPort(R6, R7), jne(R7, 443, "out"), mov(R0, 1), exit(), label("out")))
 *         .defaultAction(Verdict.DROP)
 *         .build();
 * }</pre>
 */
public final class SkLookupProgram {

    private final String name;
    private Reg ctx = Reg.R6;
    private final List<Insn> body = new ArrayList<>();
    private Verdict defaultAction = Verdict.PASS;

    private SkLookupProgram(String name) {
        this.name = name;
    }

    public static SkLookupProgram builder(String name) {
        return new SkLookupProgram(name);
    }

    /** The register holding the context in the body (default R6). */
    public SkLookupProgram ctx(Reg ctx) {
        SkLookup.requireCalleeSaved(ctx, "context");
        this.ctx = ctx;
        return this;
    }

    /** Appends instructions to the body. */
    public SkLookupProgram body(List<Insn> instructions) {
        body.addAll(instructions);
        return this;
    }

    /** What the program returns when the body falls through (default {@link Verdict#PASS}). */
    public SkLookupProgram defaultAction(Verdict verdict) {
        this.defaultAction = Objects.requireNonNull(verdict);
        return this;
    }

    /**
     * @throws IllegalArgumentException if the body calls a helper sk_lookup programs are not
     *     offered, or does not assemble
     */
    public ProgramSpec build() {
        List<Insn> all = new ArrayList<>(SkLookup.prologue(ctx));
        all.addAll(body);
        all.addAll(SkLookup.verdict(defaultAction));
        return ProgramSpec.skLookup(name, all);
    }
}
