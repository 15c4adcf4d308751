package io.sksteer.autoconfigure;

import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;

/** Reports configuration keys under sksteer that no sksteer property has, each with the nearest known key. */
class UnknownKeyFailureAnalyzer extends AbstractFailureAnalyzer<UnknownKeyException> {

    @Override
    protected FailureAnalysis analyze(Throwable rootFailure, UnknownKeyException cause) {
        StringBuilder d = new StringBuilder(cause.findings().size() + cause.unreported() == 1
                ? "A configuration key under sksteer is not one of sksteer's properties:\n"
                : "Configuration keys under sksteer are not sksteer's properties:\n");
        for (UnknownKeyException.Finding f : cause.findings()) {
            d.append("\n    Key:      ").append(f.key()).append('\n');
            if (f.alike() > 0) {
                d.append("              and ").append(f.alike()).append(f.alike() == 1 ? " more key" : " more keys")
                        .append(" under ").append(f.stem()).append('\n');
            }
            d.append("    Source:   ").append(f.source()).append('\n');
            if (f.origin() != null) {
                d.append("    Origin:   ").append(f.origin()).append('\n');
            }
            d.append("    Nearest:  ").append(f.nearest()).append('\n');
        }
        if (cause.unreported() > 0) {
            d.append("\n    ... and ").append(cause.unreported()).append(" more\n");
        }
        d.append("\nNothing was attached: the application did not start steering.");
        return new FailureAnalysis(d.toString(), "Correct the key (the nearest known key is shown) or remove it. sksteer's "
                + "properties are listed in docs/configuration.md, and an IDE completes them from the configuration metadata.",
                cause);
    }
}
