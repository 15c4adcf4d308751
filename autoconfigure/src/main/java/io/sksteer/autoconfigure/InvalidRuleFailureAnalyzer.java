package io.sksteer.autoconfigure;

import io.sksteer.steering.InvalidRuleException;
import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;

/** Reports a wrong sksteer property: which one, its value, and what is wrong. */
class InvalidRuleFailureAnalyzer extends AbstractFailureAnalyzer<InvalidRuleException> {

    @Override
    protected FailureAnalysis analyze(Throwable rootFailure, InvalidRuleException cause) {
        StringBuilder d = new StringBuilder("Invalid sksteer configuration:\n\n");
        d.append("    Property: ").append(cause.property()).append('\n');
        if (cause.value() != null) {
            d.append("    Value:    ").append(cause.value()).append('\n');
        }
        d.append("    Reason:   ").append(cause.problem()).append('\n');
        d.append("\nNothing was attached: the application did not start steering.");
        return new FailureAnalysis(d.toString(), "Correct " + cause.property()
                + " in your configuration (see docs/configuration.md for the format and the limits).", cause);
    }
}
