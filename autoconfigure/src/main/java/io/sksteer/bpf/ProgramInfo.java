package io.sksteer.bpf;

import java.util.List;

/**
 * What the kernel reports about a loaded program ({@code struct bpf_prog_info}).
 *
 * @param id kernel-wide program id, as {@code bpftool prog} shows it
 * @param typeNumber the uapi program type ({@code 30} for sk_lookup)
 * @param name the name given at load
 * @param tag the 8-byte program tag in hex, as bpftool shows it
 * @param runCount runs counted while {@code kernel.bpf_stats_enabled} was on
 * @param runTimeNs total run time counted while stats were on
 * @param verifiedInstructions instructions the verifier processed
 * @param mapIds ids of the maps the program uses
 */
public record ProgramInfo(int id, int typeNumber, String name, String tag, long runCount, long runTimeNs,
        int verifiedInstructions, List<Integer> mapIds) {

    public ProgramInfo {
        mapIds = List.copyOf(mapIds);
    }

    /** True for {@code BPF_PROG_TYPE_SK_LOOKUP}. */
    public boolean isSkLookup() {
        return typeNumber == ProgramType.SK_LOOKUP.number();
    }
}
