package io.sksteer.bpf;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Bytecode back to text: one line per 8-byte slot, numbered as the verifier numbers instructions,
 * in the verifier's own notation, so a log line {@code 12: (bf) r6 = r1} can be found in the
 * listing. An {@code ld_imm64} takes two lines (the verifier prints only the first, and its next
 * number is two higher).
 *
 * <pre>
 *     3: (15) if r7 == 0x6 goto pc+2 -&gt; 6 &lt;protocol_known&gt;
 *     4: (b7) r8 = 2
 *     5: (55) if r7 != 0x11 goto pc+15657 -&gt; 15663 &lt;pass&gt;
 *     6: (61) r7 = *(u32 *)(r6 +8)                     ; protocol_known:
 *    ...
 *    14: (18) r1 = map[sks_ports]
 *    15: (00) ; second half of the ld_imm64 at 14
 *    16: (bf) r2 = r10
 *    17: (07) r2 += -20
 *    18: (85) call bpf_map_lookup_elem#1
 * </pre>
 *
 * <p>Jumps also show their absolute target slot and, when the instructions are known, the label
 * they were written against; a slot that labels point at ends with those labels. Up to those notes
 * a line reads as the verifier prints it ({@code kernel/bpf/disasm.c}; DisassemblerKernelTest holds
 * every form the assembler emits to a real log), except that a map load names the map where the
 * verifier prints its kernel address. Beyond what {@link Asm} emits it decodes the fetching
 * atomics, {@code gotol} and subprogram calls; the other cpu v4 forms (signed division,
 * sign-extending moves and loads, {@code bswap}) and the legacy packet loads are printed as
 * unknown with their raw fields, like any opcode it does not know: nothing here throws on odd
 * bytecode.
 */
public final class Disassembler {

    /** Column where a line's labels start, when the instruction is shorter. */
    private static final int NOTE_COLUMN = 48;

    private static final int CLASS = 0x07;
    private static final int OP = 0xf0;
    private static final int MODE = 0xe0;
    private static final int SIZE = 0x18;
    private static final int NEG = 0x80;
    private static final int FETCH = 0x01;
    private static final int XCHG = 0xe0 | FETCH;
    private static final int CMPXCHG = 0xf0 | FETCH;
    private static final int PSEUDO_MAP_VALUE = 2;
    private static final int PSEUDO_CALL = 1;
    /** No jump target. */
    private static final int NONE = Integer.MIN_VALUE;

    private Disassembler() {
    }

    /** The listing of {@code spec}, with its label and map names: lines joined by {@code \n}. */
    public static String listing(ProgramSpec spec) {
        return String.join("\n", lines(spec));
    }

    /** The lines of {@code spec}, one per slot, with its label and map names. */
    public static List<String> lines(ProgramSpec spec) {
        return lines(spec.bytecode(), spec.instructions());
    }

    /** The lines of {@code program}, assembled first (so it must assemble), with its label and map names. */
    public static List<String> lines(List<Insn> program) {
        return lines(Assembler.assemble(program), program);
    }

    /** The lines of bare bytecode: map names from its map references, no labels. */
    public static List<String> lines(Bytecode bytecode) {
        return lines(bytecode, List.of());
    }

    private static List<String> lines(Bytecode bytecode, List<Insn> source) {
        Slot[] slots = decode(bytecode.code());
        Map<Integer, String> maps = new HashMap<>();
        bytecode.maps().forEach(ref -> maps.put(ref.slot(), ref.map()));
        Map<Integer, List<String>> labels = new LinkedHashMap<>();
        Map<Integer, String> targets = new HashMap<>();
        int at = 0;
        for (Insn insn : source) {
            if (insn instanceof Insn.Label l) {
                labels.computeIfAbsent(at, k -> new ArrayList<>()).add(l.name());
            } else if (insn instanceof Insn.Jump j) {
                targets.put(at, j.target());
            }
            at += insn.slots();
        }

        int width = String.valueOf(Math.max(0, slots.length - 1)).length();
        List<String> lines = new ArrayList<>(slots.length);
        for (int i = 0; i < slots.length; i++) {
            Slot s = slots[i];
            StringBuilder line = new StringBuilder();
            line.append(String.format("%" + width + "d: (%02x) ", i, s.code()));
            String text = text(s, i + 1 < slots.length ? slots[i + 1] : null, maps.get(i));
            line.append(text != null ? text : unknown(s));
            if (text != null) {
                int target = target(s, i);
                if (target != NONE) {
                    line.append(" -> ").append(target);
                    if (target < 0 || target >= slots.length) {
                        line.append(" (outside the program)");
                    } else if (targets.containsKey(i)) {
                        line.append(" <").append(targets.get(i)).append('>');
                    }
                }
            }
            appendLabels(line, width, labels.get(i));
            lines.add(line.toString());
            if (isLoadImm64(s) && i + 1 < slots.length) {
                i++;
                StringBuilder second = new StringBuilder(String.format("%" + width + "d: (%02x) ; second half of the ld_imm64 at %d",
                        i, slots[i].code(), i - 1));
                if (slots[i].code() != 0 || slots[i].dst() != 0 || slots[i].src() != 0 || slots[i].off() != 0) {
                    second.append(" (invalid: code, registers and offset must be 0)");
                }
                appendLabels(second, width, labels.get(i));
                lines.add(second.toString());
            }
        }
        return lines;
    }

    private static void appendLabels(StringBuilder line, int width, List<String> names) {
        if (names == null) {
            return;
        }
        int column = NOTE_COLUMN + width;
        line.append(" ".repeat(Math.max(1, column - line.length()))).append(';');
        names.forEach(n -> line.append(' ').append(n).append(':'));
    }

    // ---- decoding ---------------------------------------------------------------------------

    /** One 8-byte slot: {@code u8 code, u8 src:4|dst:4, s16 off, s32 imm}, little-endian. */
    private record Slot(int code, int dst, int src, int off, int imm) {
    }

    private static Slot[] decode(byte[] code) {
        ByteBuffer in = ByteBuffer.wrap(code).order(ByteOrder.LITTLE_ENDIAN);
        Slot[] slots = new Slot[code.length / 8];
        for (int i = 0; i < slots.length; i++) {
            int op = in.get() & 0xff;
            int regs = in.get() & 0xff;
            slots[i] = new Slot(op, regs & 0x0f, regs >>> 4, in.getShort(), in.getInt());
        }
        return slots;
    }

    private static boolean isLoadImm64(Slot s) {
        return s.code() == (Asm.LD | Size.DW.code());
    }

    private static String unknown(Slot s) {
        return String.format("unknown opcode: dst r%d, src r%d, off %d, imm %d", s.dst(), s.src(), s.off(), s.imm());
    }

    /** The instruction in the verifier's notation (without number and opcode), or null if unknown. */
    private static String text(Slot s, Slot next, String map) {
        return switch (s.code() & CLASS) {
            case Asm.ALU -> alu(s, 'w');
            case Asm.ALU64 -> alu(s, 'r');
            case Asm.LDX -> (s.code() & MODE) == Asm.MEM ? reg(s.dst()) + " = " + memory(s, s.src()) : null;
            case Asm.ST -> (s.code() & MODE) == Asm.MEM ? memory(s, s.dst()) + " = " + s.imm() : null;
            case Asm.STX -> store(s);
            case Asm.LD -> isLoadImm64(s) ? loadImm64(s, next, map) : null;
            case Asm.JMP -> jump(s, 'r');
            case Asm.JMP32 -> jump(s, 'w');
            default -> null;
        };
    }

    private static String alu(Slot s, char r) {
        int op = s.code() & OP;
        boolean x = (s.code() & Asm.X) != 0;
        if (s.off() != 0) {
            return null;    // signed division and sign-extending moves (cpu v4): not emitted by Asm
        }
        if (op == Asm.END) {
            boolean widthOk = s.imm() == 16 || s.imm() == 32 || s.imm() == 64;
            // ALU64 | END is the unconditional bswap of cpu v4, which Asm does not emit.
            return r == 'w' && widthOk ? "r" + s.dst() + " = " + (x ? "be" : "le") + s.imm() + " r" + s.dst() : null;
        }
        if (op == NEG) {
            return r + "" + s.dst() + " = -" + r + s.dst();
        }
        String symbol = aluSymbol(op);
        if (symbol == null) {
            return null;
        }
        return r + "" + s.dst() + " " + symbol + " " + (x ? r + "" + s.src() : Integer.toString(s.imm()));
    }

    private static String aluSymbol(int bits) {
        for (AluOp op : AluOp.values()) {
            if (op.bits() == bits) {
                return switch (op) {
                    case ADD -> "+=";
                    case SUB -> "-=";
                    case MUL -> "*=";
                    case DIV -> "/=";
                    case OR -> "|=";
                    case AND -> "&=";
                    case LSH -> "<<=";
                    case RSH -> ">>=";
                    case MOD -> "%=";
                    case XOR -> "^=";
                    case MOV -> "=";
                    case ARSH -> "s>>=";
                    case NEG -> null;
                };
            }
        }
        return null;
    }

    /** {@code *(u32 *)(r6 +4)}: the verifier prints the offset with its sign always. */
    private static String memory(Slot s, int base) {
        return "*(" + sizeName(s) + " *)(r" + base + " " + String.format("%+d", s.off()) + ")";
    }

    private static String sizeName(Slot s) {
        int bits = s.code() & SIZE;
        for (Size size : Size.values()) {
            if (size.code() == bits) {
                return "u" + size.bytes() * 8;
            }
        }
        throw new AssertionError("the two size bits name one of four sizes");
    }

    private static String store(Slot s) {
        int mode = s.code() & MODE;
        if (mode == Asm.MEM) {
            return memory(s, s.dst()) + " = " + reg(s.src());
        }
        int size = s.code() & SIZE;
        if (mode != Asm.ATOMIC || size != Size.W.code() && size != Size.DW.code()) {
            return null;
        }
        String suffix = size == Size.DW.code() ? "64" : "";
        String cell = "(" + sizeName(s) + " *)(r" + s.dst() + " " + String.format("%+d", s.off()) + ")";
        if (s.imm() == XCHG) {
            return reg(s.src()) + " = atomic" + suffix + "_xchg(" + cell + ", " + reg(s.src()) + ")";
        }
        if (s.imm() == CMPXCHG) {
            return "r0 = atomic" + suffix + "_cmpxchg(" + cell + ", r0, " + reg(s.src()) + ")";
        }
        boolean fetch = (s.imm() & FETCH) != 0;
        AluOp op = null;
        for (AluOp candidate : List.of(AluOp.ADD, AluOp.AND, AluOp.OR, AluOp.XOR)) {
            if (candidate.bits() == (s.imm() & ~FETCH)) {
                op = candidate;
            }
        }
        if (op == null) {
            return null;
        }
        if (fetch) {
            return reg(s.src()) + " = atomic" + suffix + "_fetch_" + op.name().toLowerCase() + "(" + cell + ", "
                    + reg(s.src()) + ")";
        }
        return "lock *" + cell + " " + aluSymbol(op.bits()) + " " + reg(s.src());
    }

    private static String loadImm64(Slot s, Slot next, String map) {
        if (next == null) {
            return "ld_imm64 r" + s.dst() + " cut short: its second slot is missing";
        }
        long value = ((long) next.imm() << 32) | (s.imm() & 0xffffffffL);
        String to = "r" + s.dst() + " = ";
        if (s.src() == Assembler.PSEUDO_MAP_FD) {
            return to + (map != null ? "map[" + map + "]" : "map[fd:" + s.imm() + "]");
        }
        if (s.src() == PSEUDO_MAP_VALUE) {
            return to + "map[fd:" + s.imm() + "][0]+" + Integer.toUnsignedString(next.imm());
        }
        return to + String.format("0x%x", value) + (s.src() == 0 ? "" : " (pseudo source " + s.src() + ")");
    }

    private static String jump(Slot s, char r) {
        int op = s.code() & OP;
        boolean x = (s.code() & Asm.X) != 0;
        if (op == Asm.CALL) {
            if (r == 'w' || x) {
                return null;
            }
            if (s.src() == PSEUDO_CALL) {
                return "call pc" + String.format("%+d", s.imm());
            }
            return s.src() == 0 ? "call " + helperName(s.imm()) + "#" + s.imm() : null;
        }
        if (op == Asm.EXIT) {
            return r == 'r' && !x ? "exit" : null;
        }
        if (op == JumpOp.JA.bits()) {
            if (x) {
                return null;
            }
            // JMP32 | JA is the long jump of cpu v4: its offset is in the immediate.
            return r == 'r' ? "goto pc" + String.format("%+d", s.off()) : "gotol pc" + String.format("%+d", s.imm());
        }
        String symbol = jumpSymbol(op);
        if (symbol == null) {
            return null;
        }
        String right = x ? r + "" + s.src() : String.format("0x%x", s.imm());
        return "if " + r + s.dst() + " " + symbol + " " + right + " goto pc" + String.format("%+d", s.off());
    }

    private static String jumpSymbol(int bits) {
        for (JumpOp op : JumpOp.values()) {
            if (op.bits() == bits) {
                return switch (op) {
                    case JA -> null;
                    case JEQ -> "==";
                    case JGT -> ">";
                    case JGE -> ">=";
                    case JSET -> "&";
                    case JNE -> "!=";
                    case JSGT -> "s>";
                    case JSGE -> "s>=";
                    case JLT -> "<";
                    case JLE -> "<=";
                    case JSLT -> "s<";
                    case JSLE -> "s<=";
                };
            }
        }
        return null;
    }

    private static String helperName(int id) {
        for (Helper h : Helper.values()) {
            if (h.id() == id) {
                return h.kernelName();
            }
        }
        return "unknown";
    }

    /** The absolute slot a jump (or a call of a subprogram) goes to, or {@link #NONE}. */
    private static int target(Slot s, int at) {
        int cls = s.code() & CLASS;
        int op = s.code() & OP;
        if (cls != Asm.JMP && cls != Asm.JMP32 || op == Asm.EXIT) {
            return NONE;
        }
        if (op == Asm.CALL) {
            return s.src() == PSEUDO_CALL ? at + 1 + s.imm() : NONE;
        }
        return at + 1 + (cls == Asm.JMP32 && op == JumpOp.JA.bits() ? s.imm() : s.off());
    }

    private static String reg(int number) {
        return "r" + number;
    }
}
