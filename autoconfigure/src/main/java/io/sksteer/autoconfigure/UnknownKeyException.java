package io.sksteer.autoconfigure;

import java.util.List;

/** Keys under {@code sksteer} that no sksteer property has: each with where it was set and the nearest known key. */
final class UnknownKeyException extends RuntimeException {

    /**
     * One unknown key.
     *
     * @param key the key, in its canonical form ({@code sksteer.listners.web.protocol})
     * @param source the name of the property source that holds it
     * @param origin where in that source, when it knows ({@code class path resource [application.yml] - 3:5})
     * @param nearest the known key nearest to it
     * @param alike how many more keys of the same source start with the same unknown part
     * @param stem that unknown part ({@code sksteer.listners})
     */
    record Finding(String key, String source, String origin, String nearest, int alike, String stem) {
    }

    private final List<Finding> findings;
    private final int unreported;

    /** @param unreported how many more unknown keys there were past {@code findings} */
    UnknownKeyException(List<Finding> findings, int unreported) {
        super(message(findings, unreported));
        this.findings = List.copyOf(findings);
        this.unreported = unreported;
    }

    List<Finding> findings() {
        return findings;
    }

    int unreported() {
        return unreported;
    }

    private static String message(List<Finding> findings, int unreported) {
        Finding f = findings.get(0);
        int more = findings.size() - 1 + unreported;
        return "unknown sksteer configuration key " + f.key() + " (from " + f.source() + "); the nearest known key is "
                + f.nearest() + (more == 0 ? "" : "; and " + more + " more unknown");
    }
}
