package io.sksteer.steering;

/**
 * A steering rule or listener definition is wrong. Names the property that holds it, the value
 * and what is wrong with it, so the user can find and fix it.
 */
public final class InvalidRuleException extends IllegalArgumentException {

    private final String property;
    private final String value;
    private final String problem;

    public InvalidRuleException(String property, String value, String problem) {
        super(property + (value == null ? "" : " = '" + value + "'") + ": " + problem);
        this.property = property;
        this.value = value;
        this.problem = problem;
    }

    /** The property path, e.g. {@code sksteer.listeners.web.rules[0].prefixes[1]}. */
    public String property() {
        return property;
    }

    /** The offending value as written, or {@code null} when the problem is not one value. */
    public String value() {
        return value;
    }

    /** What is wrong, in a sentence. */
    public String problem() {
        return problem;
    }
}
