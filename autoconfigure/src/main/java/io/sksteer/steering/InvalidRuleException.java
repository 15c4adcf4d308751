package io.sksteer.steering;

/**
 * A steering rule or listener definition is wrong. Names where it was written, the value and what
 * is wrong with it, so the user can find and fix it. Where it was written is the caller's name for
 * the place (the origin given with the rule or the listener): steering does not know property
 * names; the Spring layer gives property paths as origins and maps the rest onto them.
 */
public class InvalidRuleException extends IllegalArgumentException {

    private final String property;
    private final String value;
    private final String problem;

    /**
     * @param where where the rule or value was written, as the caller named it, or {@code null}
     * @param value the offending value as written, or {@code null}
     * @param problem what is wrong, in a sentence
     */
    public InvalidRuleException(String where, String value, String problem) {
        super((where == null ? "" : where) + (value == null ? "" : (where == null ? "" : " = ") + "'" + value + "'")
                + (where == null && value == null ? "" : ": ") + problem);
        this.property = where;
        this.value = value;
        this.problem = problem;
    }

    /**
     * Where it was written, as the caller named it: a property path such as {@code
     * sksteer.listeners.web.rules[0].prefixes[1]} for configuration; {@code null} when unknown.
     */
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
