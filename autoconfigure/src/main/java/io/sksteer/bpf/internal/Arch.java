package io.sksteer.bpf.internal;

/** System call numbers of the architectures sksteer supports (64-bit, little-endian). */
enum Arch {
    X86_64(321, 324, 72),
    AARCH64(280, 283, 25);

    final long bpf;
    final long membarrier;
    final long fcntl;

    Arch(long bpf, long membarrier, long fcntl) {
        this.bpf = bpf;
        this.membarrier = membarrier;
        this.fcntl = fcntl;
    }

    static final Arch CURRENT = detect(System.getProperty("os.arch"));

    static Arch detect(String osArch) {
        return switch (osArch) {
            case "amd64", "x86_64" -> X86_64;
            case "aarch64", "arm64" -> AARCH64;
            default -> null;
        };
    }

    /** The current architecture, or an exception naming the unsupported one. */
    static Arch require() {
        if (CURRENT == null) {
            throw new UnsupportedOperationException("sksteer supports x86_64 and aarch64 Linux, not "
                    + System.getProperty("os.arch"));
        }
        return CURRENT;
    }
}
