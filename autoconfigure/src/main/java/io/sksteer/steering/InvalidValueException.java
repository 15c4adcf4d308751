package io.sksteer.steering;

/**
 * A value written for steering cannot be read: a prefix, a port spec, a protocol or a policy. It
 * says the value and what is wrong with it; where the value was written is for the caller to add
 * ({@link #at}), since only the caller knows (the Spring layer names the property).
 */
public final class InvalidValueException extends IllegalArgumentException {

    private final String value;
    private final String problem;

    public InvalidValueException(String value, String problem) {
        super((value == null ? "" : "'" + value + "': ") + problem);
        this.value = value;
        this.problem = problem;
    }

    /** The value as written, or {@code null} when there was none. */
    public String value() {
        return value;
    }

    /** What is wrong, in a sentence. */
    public String problem() {
        return problem;
    }

    /** This problem, found at {@code where} (the caller's name for the place the value was written). */
    public InvalidRuleException at(String where) {
        InvalidRuleException e = new InvalidRuleException(where, value, problem);
        e.initCause(this);
        return e;
    }
}
