package io.sksteer.bpf;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Turns {@link Insn} values into {@link Bytecode}: resolves labels to slot offsets (an
 * {@code ld_imm64} counts two slots) and encodes each slot as
 * {@code u8 code, u8 dst:4|src:4, s16 off, s32 imm} in little-endian order.
 */
public final class Assembler {

    /** {@code BPF_PSEUDO_MAP_FD}: the src register of an {@code ld_imm64} whose immediate is a map fd. */
    static final int PSEUDO_MAP_FD = 1;

    private Assembler() {
    }

    public static Bytecode assemble(List<Insn> program) {
        Map<String, Integer> labels = new HashMap<>();
        int slot = 0;
        for (Insn insn : program) {
            if (insn instanceof Insn.Label l && labels.putIfAbsent(l.name(), slot) != null) {
                throw new AssemblyException("label '" + l.name() + "' is defined twice");
            }
            slot += insn.slots();
        }
        int total = slot;
        for (Map.Entry<String, Integer> e : labels.entrySet()) {
            if (e.getValue() == total) {
                throw new AssemblyException("label '" + e.getKey() + "' is at the end of the program: no instruction follows it");
            }
        }

        ByteBuffer out = ByteBuffer.allocate(total * 8).order(ByteOrder.LITTLE_ENDIAN);
        List<Bytecode.MapReference> maps = new ArrayList<>();
        slot = 0;
        for (Insn insn : program) {
            if (insn instanceof Insn.Op op) {
                put(out, op.code(), op.dst().number(), op.src().number(), op.offset(), op.imm());
            } else if (insn instanceof Insn.Jump j) {
                Integer target = labels.get(j.target());
                if (target == null) {
                    throw new AssemblyException("jump at slot " + slot + " to unknown label '" + j.target() + "'");
                }
                int offset = target - (slot + 1);
                if (offset < Short.MIN_VALUE || offset > Short.MAX_VALUE) {
                    throw new AssemblyException("jump at slot " + slot + " to '" + j.target() + "' spans "
                            + offset + " slots, beyond the 16-bit offset range");
                }
                put(out, j.code(), j.dst().number(), j.src().number(), (short) offset, j.imm());
            } else if (insn instanceof Insn.Call c) {
                put(out, Asm.JMP | Asm.CALL, 0, 0, (short) 0, c.helper().id());
            } else if (insn instanceof Insn.LoadImm64 ld) {
                put(out, Asm.LD | Size.DW.code(), ld.dst().number(), 0, (short) 0, (int) ld.value());
                put(out, 0, 0, 0, (short) 0, (int) (ld.value() >>> 32));
            } else if (insn instanceof Insn.LoadMap lm) {
                maps.add(new Bytecode.MapReference(slot, lm.map()));
                // The map fd goes into the first immediate at load; src = BPF_PSEUDO_MAP_FD.
                put(out, Asm.LD | Size.DW.code(), lm.dst().number(), PSEUDO_MAP_FD, (short) 0, 0);
                put(out, 0, 0, 0, (short) 0, 0);
            }
            // Labels take no bytes.
            slot += insn.slots();
        }
        return new Bytecode(out.array(), maps);
    }

    private static void put(ByteBuffer out, int code, int dst, int src, short offset, int imm) {
        out.put((byte) code);
        out.put((byte) ((src << 4) | dst));
        out.putShort(offset);
        out.putInt(imm);
    }
}
