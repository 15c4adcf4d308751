package io.sksteer.bpf;

import java.util.Arrays;
import java.util.List;

/**
 * The verifier rejected a program. The message holds a short summary (the last lines of the log,
 * where the verifier states its reason); {@link #log()} holds the whole log.
 */
public final class VerifierException extends BpfException {

    private static final int SUMMARY_LINES = 4;

    private final String log;

    public VerifierException(String operation, int errno, String log) {
        super(operation, errno, summarise(log));
        this.log = log;
    }

    /** The complete verifier log, as the kernel wrote it. */
    public String log() {
        return log;
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
