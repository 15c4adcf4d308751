package io.sksteer.bpf.internal;

/** The {@code bpf()} commands this layer uses, with their uapi numbers and {@code bpf_attr} sizes. */
enum Command {
    BPF_MAP_CREATE(0, 48),
    BPF_MAP_LOOKUP_ELEM(1, 32),
    BPF_MAP_UPDATE_ELEM(2, 32),
    BPF_MAP_DELETE_ELEM(3, 32),
    BPF_MAP_GET_NEXT_KEY(4, 32),
    // Up to log_true_size (6.4+); older kernels accept the zeroed tail.
    BPF_PROG_LOAD(5, 144),
    BPF_PROG_TEST_RUN(10, 80),
    BPF_PROG_GET_NEXT_ID(11, 12),
    BPF_MAP_GET_NEXT_ID(12, 12),
    BPF_PROG_GET_FD_BY_ID(13, 12),
    BPF_MAP_GET_FD_BY_ID(14, 12),
    BPF_OBJ_GET_INFO_BY_FD(15, 16),
    BPF_PROG_QUERY(16, 32),
    BPF_MAP_UPDATE_BATCH(26, 56),
    BPF_MAP_DELETE_BATCH(27, 56),
    BPF_LINK_CREATE(28, 16),
    BPF_LINK_UPDATE(29, 16),
    BPF_LINK_DETACH(34, 4);

    final int number;
    /** Bytes of {@code bpf_attr} sent: up to the last field this layer writes or reads. */
    final int attrSize;

    Command(int number, int attrSize) {
        this.number = number;
        this.attrSize = attrSize;
    }
}
