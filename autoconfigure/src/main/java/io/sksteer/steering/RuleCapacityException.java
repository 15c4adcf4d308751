package io.sksteer.steering;

/**
 * The rules do not fit the dispatcher's capacity (the number of rules its maps were made for).
 * The caller that knows where the capacity is set says how to raise it.
 */
public final class RuleCapacityException extends InvalidRuleException {

    private final int capacity;

    /**
     * @param where where the first rule that does not fit was written, or {@code null}
     * @param capacity the capacity
     */
    public RuleCapacityException(String where, int capacity, String problem) {
        super(where, null, problem);
        this.capacity = capacity;
    }

    /** How many rules the dispatcher's maps hold. */
    public int capacity() {
        return capacity;
    }
}
