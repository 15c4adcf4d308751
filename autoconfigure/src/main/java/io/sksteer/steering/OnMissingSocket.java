package io.sksteer.steering;

import java.util.Locale;

/** What traffic matching a rule does when the rule's listener socket is gone. */
public enum OnMissingSocket {

    /** Refused (TCP reset, UDP port unreachable): it never reaches another socket bound there. */
    DROP,

    /** Left to the kernel's normal lookup. */
    PASS;

    /**
     * {@code drop} or {@code pass}, case ignored.
     *
     * @throws InvalidValueException for anything else
     */
    public static OnMissingSocket parse(String text) {
        return switch (text == null ? "" : text.trim().toLowerCase(Locale.ROOT)) {
            case "drop" -> DROP;
            case "pass" -> PASS;
            default -> throw new InvalidValueException(text, "must be 'drop' or 'pass'");
        };
    }

    /** As written in configuration: {@code drop} or {@code pass}. */
    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT);
    }
}
