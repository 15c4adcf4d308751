package io.sksteer.autoconfigure;

import io.sksteer.steering.InvalidRuleException;
import io.sksteer.steering.InvalidValueException;
import io.sksteer.steering.RuleGrammar;
import java.util.Collection;
import org.springframework.boot.context.properties.bind.BindException;
import org.springframework.boot.context.properties.source.ConfigurationProperty;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.boot.diagnostics.FailureAnalyzer;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;

/**
 * Reports a wrong sksteer property: which one, its value, and what is wrong. Covers the values
 * the binder refuses (a prefix, a port spec, a protocol or a policy that cannot be read: the
 * binder names the property and where it was written) and the definitions steering refuses
 * once bound. Ordered before Spring Boot's own report of binding failures, which it replaces
 * for sksteer's values only.
 */
@Order(Ordered.HIGHEST_PRECEDENCE)
class InvalidRuleFailureAnalyzer implements FailureAnalyzer {

    @Override
    public FailureAnalysis analyze(Throwable failure) {
        InvalidRuleException cause = problem(failure);
        if (cause == null) {
            return null;
        }
        StringBuilder d = new StringBuilder("Invalid sksteer configuration:\n\n");
        d.append("    Property: ").append(cause.property()).append('\n');
        if (cause.value() != null) {
            d.append("    Value:    ").append(cause.value()).append('\n');
        }
        String origin = origin(failure);
        if (origin != null) {
            d.append("    Origin:   ").append(origin).append('\n');
        }
        d.append("    Reason:   ").append(cause.problem()).append('\n');
        d.append("\nNothing was attached: the application did not start steering.");
        return new FailureAnalysis(d.toString(), "Correct " + cause.property()
                + " in your configuration (see docs/configuration.md for the format and the limits).", cause);
    }

    /**
     * The sksteer problem in {@code failure}'s causes: the first {@link InvalidRuleException}, or
     * a value the binder could not convert to one of sksteer's types, as one naming the property
     * the binder bound; {@code null} when there is neither.
     */
    static InvalidRuleException problem(Throwable failure) {
        BindException bind = null;
        for (Throwable c = failure; c != null; c = c.getCause()) {
            if (c instanceof InvalidRuleException e) {
                return e;
            }
            if (c instanceof BindException b && bind == null) {
                bind = b;
            }
            if (c instanceof InvalidValueException e && bind != null) {
                InvalidRuleException mapped = mapped(bind, e);
                mapped.initCause(failure);
                return mapped;
            }
        }
        return null;
    }

    /**
     * The binder's failure to convert a value, as steering's errors read: the property the binder
     * names, and where a list was written as one value ({@code ports=80,0}) the element, by the
     * index it has in the list ({@code ports[1]}), as if written element by element.
     */
    private static InvalidRuleException mapped(BindException bind, InvalidValueException e) {
        String name = bind.getName().toString();
        String value = bind.getProperty() == null ? e.value() : String.valueOf(bind.getProperty().getValue());
        boolean list = bind.getTarget() != null && Collection.class.isAssignableFrom(bind.getTarget().getType().toClass());
        if (list && e.value() != null && value != null) {
            // The binder splits on commas and trims, as the rule grammar does.
            int index = RuleGrammar.list(value).indexOf(e.value().trim());
            if (index >= 0) {
                return new InvalidRuleException(name + "[" + index + "]", e.value(), e.problem());
            }
        }
        return new InvalidRuleException(name, value, e.value() != null && !e.value().equals(value) ? e.getMessage() : e.problem());
    }

    private static String origin(Throwable failure) {
        for (Throwable c = failure; c != null; c = c.getCause()) {
            if (c instanceof BindException b) {
                ConfigurationProperty p = b.getProperty();
                return p == null || p.getOrigin() == null ? null : p.getOrigin().toString();
            }
        }
        return null;
    }
}
