package io.sksteer.bpf;

/** BPF helper functions our programs call, with their uapi ids and kernel names. */
public enum Helper {
    MAP_LOOKUP_ELEM(1, "bpf_map_lookup_elem"),
    MAP_UPDATE_ELEM(2, "bpf_map_update_elem"),
    MAP_DELETE_ELEM(3, "bpf_map_delete_elem"),
    KTIME_GET_NS(5, "bpf_ktime_get_ns"),
    TRACE_PRINTK(6, "bpf_trace_printk"),
    GET_PRANDOM_U32(7, "bpf_get_prandom_u32"),
    GET_SMP_PROCESSOR_ID(8, "bpf_get_smp_processor_id"),
    TAIL_CALL(12, "bpf_tail_call"),
    SK_LOOKUP_TCP(84, "bpf_sk_lookup_tcp"),
    SK_LOOKUP_UDP(85, "bpf_sk_lookup_udp"),
    SK_RELEASE(86, "bpf_sk_release"),
    SK_ASSIGN(124, "bpf_sk_assign"),
    MAP_LOOKUP_PERCPU_ELEM(195, "bpf_map_lookup_percpu_elem");

    private final int id;
    private final String kernelName;

    Helper(int id, String kernelName) {
        this.id = id;
        this.kernelName = kernelName;
    }

    /** The {@code BPF_FUNC_*} number placed in the call instruction's immediate. */
    public int id() {
        return id;
    }

    /** The helper's name in the kernel, e.g. {@code bpf_sk_assign}. */
    public String kernelName() {
        return kernelName;
    }
}
