package io.sksteer.bpf;

import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * The blueprint of a program: name, type, expected attach type, license and instructions. Building
 * one checks everything that can be checked without a kernel — the name, that every helper is
 * offered to the program type, that the code assembles — so a bad program fails here, not at load.
 */
public final class ProgramSpec {

    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_.]{1,15}");

    private final String name;
    private final ProgramType type;
    private final AttachType expectedAttachType;
    private final String license;
    private final List<Insn> instructions;
    private final Bytecode bytecode;

    public ProgramSpec(String name, ProgramType type, AttachType expectedAttachType, String license,
            List<Insn> instructions) {
        this.name = checkName(name);
        this.type = Objects.requireNonNull(type, "type");
        this.expectedAttachType = expectedAttachType;
        this.license = Objects.requireNonNull(license, "license");
        this.instructions = List.copyOf(instructions);
        for (Insn insn : this.instructions) {
            if (insn instanceof Insn.Call call && !type.offers(call.helper())) {
                throw new IllegalArgumentException("program '" + name + "': helper " + call.helper().kernelName()
                        + " (" + call.helper().id() + ") is not offered to " + type.kernelName() + " programs");
            }
        }
        if (this.instructions.stream().noneMatch(i -> i.slots() > 0)) {
            throw new IllegalArgumentException("program '" + name + "' has no instructions");
        }
        this.bytecode = Assembler.assemble(this.instructions);
    }

    /** An sk_lookup program ({@code BPF_PROG_TYPE_SK_LOOKUP}, expected attach {@code BPF_SK_LOOKUP}, GPL). */
    public static ProgramSpec skLookup(String name, List<Insn> instructions) {
        return new ProgramSpec(name, ProgramType.SK_LOOKUP, AttachType.SK_LOOKUP, "GPL", instructions);
    }

    static String checkName(String name) {
        if (name == null || !NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("BPF object name '" + name
                    + "' must be 1 to 15 characters of A-Z, a-z, 0-9, '_' and '.'");
        }
        return name;
    }

    public String name() {
        return name;
    }

    public ProgramType type() {
        return type;
    }

    public AttachType expectedAttachType() {
        return expectedAttachType;
    }

    public String license() {
        return license;
    }

    public List<Insn> instructions() {
        return instructions;
    }

    public Bytecode bytecode() {
        return bytecode;
    }

    /** Names of the maps the program refers to, to be bound at load. */
    public Set<String> mapNames() {
        Set<String> names = new TreeSet<>();
        bytecode.maps().forEach(r -> names.add(r.map()));
        return names;
    }

    @Override
    public String toString() {
        return "ProgramSpec[" + name + ", " + type.kernelName() + ", " + bytecode.slots() + " slots]";
    }
}
