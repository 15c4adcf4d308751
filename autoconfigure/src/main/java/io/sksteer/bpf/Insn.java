package io.sksteer.bpf;

import java.util.Objects;

/**
 * One instruction of a program, as a value. Build them with {@link Asm}; turn a list of them into
 * bytecode with {@link Assembler}. Jumps name their target by label; the assembler resolves it.
 */
public sealed interface Insn {

    /** How many 8-byte slots this instruction takes in the bytecode (labels take none). */
    int slots();

    /** A plain one-slot instruction: {@code code dst src off imm}. */
    record Op(int code, Reg dst, Reg src, short offset, int imm) implements Insn {
        public Op {
            Objects.requireNonNull(dst);
            Objects.requireNonNull(src);
        }

        @Override
        public int slots() {
            return 1;
        }

        @Override
        public String toString() {
            return String.format("op 0x%02x %s, %s, off %d, imm %d", code, dst, src, offset, imm);
        }
    }

    /** A jump (unconditional or conditional, 64- or 32-bit compare) to a label. */
    record Jump(int code, Reg dst, Reg src, int imm, String target) implements Insn {
        public Jump {
            Objects.requireNonNull(dst);
            Objects.requireNonNull(src);
            Objects.requireNonNull(target, "jump target");
        }

        @Override
        public int slots() {
            return 1;
        }

        @Override
        public String toString() {
            return String.format("jump 0x%02x %s, %s, imm %d -> %s", code, dst, src, imm, target);
        }
    }

    /** A helper call; the program type decides whether the helper is offered. */
    record Call(Helper helper) implements Insn {
        public Call {
            Objects.requireNonNull(helper);
        }

        @Override
        public int slots() {
            return 1;
        }

        @Override
        public String toString() {
            return "call " + helper.kernelName();
        }
    }

    /** A jump target; takes no space. */
    record Label(String name) implements Insn {
        public Label {
            Objects.requireNonNull(name);
            if (name.isBlank()) {
                throw new IllegalArgumentException("label name must not be blank");
            }
        }

        @Override
        public int slots() {
            return 0;
        }

        @Override
        public String toString() {
            return name + ":";
        }
    }

    /** {@code ld_imm64}: a 64-bit constant into a register (two slots). */
    record LoadImm64(Reg dst, long value) implements Insn {
        public LoadImm64 {
            Objects.requireNonNull(dst);
        }

        @Override
        public int slots() {
            return 2;
        }

        @Override
        public String toString() {
            return "ld_imm64 " + dst + ", " + value;
        }
    }

    /** {@code ld_imm64} of a map, named here and bound to a live map's fd at load (two slots). */
    record LoadMap(Reg dst, String map) implements Insn {
        public LoadMap {
            Objects.requireNonNull(dst);
            Objects.requireNonNull(map);
        }

        @Override
        public int slots() {
            return 2;
        }

        @Override
        public String toString() {
            return "ld_map " + dst + ", " + map;
        }
    }
}
