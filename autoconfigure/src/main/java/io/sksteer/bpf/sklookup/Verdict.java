package io.sksteer.bpf.sklookup;

/** What an sk_lookup program returns. */
public enum Verdict {
    /** {@code SK_DROP}: the lookup fails (TCP: RST, UDP: no socket), unless a later program selects a socket. */
    DROP(0),
    /** {@code SK_PASS}: the selected socket if one was assigned, else the normal lookup. */
    PASS(1);

    private final int code;

    Verdict(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }

    /** The verdict for a program's return value. */
    public static Verdict of(int code) {
        return switch (code) {
            case 0 -> DROP;
            case 1 -> PASS;
            default -> throw new IllegalArgumentException("not an sk_lookup verdict: " + code);
        };
    }
}
