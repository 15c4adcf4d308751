package io.sksteer.bpf;

import java.util.EnumSet;
import java.util.Set;

/** Program types this layer loads, each with the helpers the kernel offers it. */
public enum ProgramType {
    /**
     * {@code BPF_PROG_TYPE_SK_LOOKUP} (Linux 5.9). Offered the base helpers plus sk_assign and
     * sk_release; not the socket lookup helpers ({@code net/core/filter.c}, sk_lookup_func_proto).
     */
    SK_LOOKUP(30, "BPF_PROG_TYPE_SK_LOOKUP", EnumSet.complementOf(EnumSet.of(Helper.SK_LOOKUP_TCP, Helper.SK_LOOKUP_UDP)));

    private final int number;
    private final String kernelName;
    private final Set<Helper> helpers;

    ProgramType(int number, String kernelName, Set<Helper> helpers) {
        this.number = number;
        this.kernelName = kernelName;
        this.helpers = helpers;
    }

    public int number() {
        return number;
    }

    public String kernelName() {
        return kernelName;
    }

    /** Whether programs of this type may call {@code helper}. */
    public boolean offers(Helper helper) {
        return helpers.contains(helper);
    }
}
