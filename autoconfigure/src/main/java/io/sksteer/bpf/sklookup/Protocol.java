package io.sksteer.bpf.sklookup;

/** The transport protocols sk_lookup runs for. */
public enum Protocol {
    TCP(6),
    UDP(17);

    private final int number;

    Protocol(int number) {
        this.number = number;
    }

    /** The IP protocol number, as in {@code ctx->protocol}. */
    public int number() {
        return number;
    }
}
