package io.sksteer.bpf;

import java.util.List;

/**
 * Assembled instructions: 8 bytes a slot, in host byte order, with the slots whose immediate must
 * become a map's file descriptor at load time.
 *
 * @param code the instruction bytes (a copy is returned by {@link #code()})
 * @param maps where each map reference sits
 */
public record Bytecode(byte[] code, List<MapReference> maps) {

    /** Slot {@code slot} is the first half of an {@code ld_imm64} of the map named {@code map}. */
    public record MapReference(int slot, String map) {
    }

    public Bytecode {
        code = code.clone();
        maps = List.copyOf(maps);
    }

    @Override
    public byte[] code() {
        return code.clone();
    }

    /** Number of 8-byte instruction slots. */
    public int slots() {
        return code.length / 8;
    }
}
