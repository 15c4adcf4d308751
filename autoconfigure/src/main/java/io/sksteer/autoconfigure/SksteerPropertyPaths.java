package io.sksteer.autoconfigure;

import io.sksteer.steering.ConfigOrigins;
import io.sksteer.steering.InvalidRuleException;
import io.sksteer.steering.RuleCapacityException;
import io.sksteer.steering.SteeringConfig;

/**
 * Where each part of the steering configuration is written in Spring's properties, and the
 * mapping of steering's errors onto them: steering names places only through the origins it is
 * given, and knows nothing of {@code sksteer.max-rules}.
 */
final class SksteerPropertyPaths implements ConfigOrigins {

    static final SksteerPropertyPaths INSTANCE = new SksteerPropertyPaths();

    static final String MAX_RULES = "sksteer.max-rules";
    private static final String LISTENERS = "sksteer.listeners";

    private SksteerPropertyPaths() {
    }

    @Override
    public String netns() {
        return "sksteer.netns";
    }

    @Override
    public String onMissingSocket() {
        return "sksteer.on-missing-socket";
    }

    @Override
    public String maxRules() {
        return MAX_RULES;
    }

    @Override
    public String listener(String name) {
        return LISTENERS + "." + name;
    }


    /**
     * {@code e} onto the properties: a capacity exceeded is {@code sksteer.max-rules}'s to raise
     * (named as the property when no rule is), and a problem of the rules as a whole (no origin)
     * is {@code sksteer.listeners}'. Any other error already names where it was written.
     */
    static InvalidRuleException mapped(InvalidRuleException e) {
        InvalidRuleException out;
        if (e instanceof RuleCapacityException c) {
            out = c.property() == null
                    ? new InvalidRuleException(MAX_RULES, Integer.toString(c.capacity()), c.problem() + "; raise " + MAX_RULES)
                    : new InvalidRuleException(c.property(), c.value(), c.problem() + "; raise " + MAX_RULES);
        } else if (e.property() == null) {
            out = new InvalidRuleException(LISTENERS, e.value(), e.problem());
        } else {
            return e;
        }
        out.initCause(e);
        return out;
    }
}
