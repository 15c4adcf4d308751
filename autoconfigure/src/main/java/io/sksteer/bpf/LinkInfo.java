package io.sksteer.bpf;

/**
 * What the kernel reports about a netns link ({@code struct bpf_link_info}).
 *
 * @param id kernel-wide link id, as {@code bpftool link} shows it
 * @param programId the id of the program the link runs
 * @param netnsInode inode of the namespace it is attached to; 0 once detached (namespace gone)
 * @param attachType the uapi attach type ({@code 36} for sk_lookup)
 */
public record LinkInfo(int id, int programId, long netnsInode, int attachType) {

    /** False once the link was detached or its namespace died. */
    public boolean attached() {
        return netnsInode != 0;
    }
}
