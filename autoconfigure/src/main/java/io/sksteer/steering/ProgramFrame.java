package io.sksteer.steering;

import static io.sksteer.bpf.Asm.add;
import static io.sksteer.bpf.Asm.call;
import static io.sksteer.bpf.Asm.jeq;
import static io.sksteer.bpf.Asm.ldMap;
import static io.sksteer.bpf.Asm.mov;
import static io.sksteer.bpf.Reg.R0;
import static io.sksteer.bpf.Reg.R1;
import static io.sksteer.bpf.Reg.R10;
import static io.sksteer.bpf.Reg.R2;

import io.sksteer.bpf.Asm;
import io.sksteer.bpf.Helper;
import io.sksteer.bpf.Insn;
import java.util.ArrayList;
import java.util.List;

/**
 * What the parts of the dispatcher program ({@link DispatcherProgram}, {@link LengthProbe}) share:
 * the stack frame, the labels they jump to, and the lookups they all make. Registers: R6 the
 * context, R7 the local port, R8 pf (or the matched rule), R9 the matched rule's slot.
 */
final class ProgramFrame {

    private ProgramFrame() {
    }

    // Stack layout (offsets from R10).
    static final int MASK = -8;          // u64 length classes to probe
    static final int GEN = -12;          // u32 generation
    static final int GATE = -16;         // u32 port gate word, shifted right by pf
    static final int INDEX = -20;        // u32 key for ARRAY lookups
    static final int KEY = -40;          // 20-byte key: pf, length, port, address[16]
    static final int WORD0 = -44;        // u32 pf | length << 8, the key's first word without port
    static final int FLAGS = -48;        // u32 the length's flags
    static final int BASE = -52;         // u32 first lengths index of (generation, pf)
    static final int PF_SLOT = -56;      // u32
    static final int ALL_RULE = -60;     // u32 the prefix's 'all' rule
    static final int ALL_SLOT = -64;     // u32 its slot, with HAS_RANGES
    static final int PRODUCT = -72;      // u64 the address hash product

    /** Where every path that steers nothing ends: SK_PASS, no socket selected. */
    static final Label PASS = Label.of("pass");
    /** Where a matched rule is counted and its socket assigned: R8 = rule, R9 = listener slot. */
    static final Label FOUND = Label.of("found");

    /** {@code R0 = &map[*(u32 *)(R10 + INDEX)]}, or jump to {@code onNull}. Clobbers R1–R5. */
    static List<Insn> arrayLookup(String map, Label onNull) {
        return List.of(ldMap(R1, map), mov(R2, R10), add(R2, INDEX), call(Helper.MAP_LOOKUP_ELEM), jeq(R0, 0, onNull.name()));
    }

    /** {@code R0 = map[key at R10 + KEY]} (may be NULL). Clobbers R1–R5. */
    static List<Insn> hashLookup(String map) {
        return List.of(ldMap(R1, map), mov(R2, R10), add(R2, KEY), call(Helper.MAP_LOOKUP_ELEM));
    }

    /** A jump target: a place, within an enclosing label and at indexes, named once. */
    record Label(String name) {

        static Label of(String place, Object... within) {
            StringBuilder b = new StringBuilder(place);
            for (Object o : within) {
                b.append('_').append(o instanceof Label l ? l.name() : o);
            }
            return new Label(b.toString());
        }
    }

    /** The instructions as they are written: one call per block. */
    static final class Listing {
        final List<Insn> insns = new ArrayList<>();

        void emit(Insn... block) {
            insns.addAll(List.of(block));
        }

        void emit(List<Insn> block) {
            insns.addAll(block);
        }

        void label(Label l) {
            insns.add(Asm.label(l.name()));
        }
    }
}
