package io.sksteer.bpf;

import java.util.Arrays;
import java.util.List;

/**
 * The verifier rejected a program. The message holds a short summary (the last lines of the log,
 * where the verifier states its reason); {@link #log()} holds the whole log and {@link #listing()}
 * the program's instructions as {@link Disassembler} writes them, numbered as the log numbers them.
 */
public final class VerifierException extends BpfException {

    private static final int SUMMARY_LINES = 4;

    private final String log;
    private final String listing;

    /** A rejection whose program is not known: {@link #listing()} is empty. */
    public VerifierException(String operation, int errno, String log) {
        this(operation, errno, log, "");
    }

    /**
     * A rejection of the program listed in {@code listing}.
     *
     * @param listing the program's listing ({@link Disassembler#listing}); not part of the message
     */
    public VerifierException(String operation, int errno, String log, String listing) {
        super(operation, errno, summarise(log));
        this.log = log;
        this.listing = listing == null ? "" : listing;
    }

    /** The complete verifier log, as the kernel wrote it. */
    public String log() {
        return log;
    }

    /**
     * The rejected program's listing, one line per instruction slot, with label and map names; empty
     * if the thrower did not know the program.
     */
    public String listing() {
        return listing;
    }

    /**
     * Everything there is to read, for a log file: the whole verifier log, then the listing to read
     * its instruction numbers against. Large (a line per verified instruction and per slot).
     */
    public String logWithListing() {
        String out = "verifier log:\n" + log.stripTrailing();
        return listing.isEmpty() ? out : out + "\n\nprogram listing:\n" + listing;
    }

    /** The last non-blank lines of the log: usually the failing instruction and the reason. */
    public List<String> lastLines(int count) {
        List<String> lines = Arrays.stream(log.split("\n")).filter(l -> !l.isBlank()).toList();
        return lines.subList(Math.max(0, lines.size() - count), lines.size());
    }

    private static String summarise(String log) {
        List<String> lines = Arrays.stream(log.split("\n")).filter(l -> !l.isBlank()).toList();
        List<String> tail = lines.subList(Math.max(0, lines.size() - SUMMARY_LINES), lines.size());
        return "verifier rejected the program: " + String.join(" | ", tail);
    }
}
