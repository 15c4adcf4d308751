package io.sksteer.steering;

/**
 * The ports of a rule: one port, an inclusive range, or all. At equal prefix a single port beats
 * a range, and a range beats {@code all}.
 */
public sealed interface PortSpec extends Comparable<PortSpec> permits PortSpec.Single, PortSpec.Range, PortSpec.All {

    /** Precedence at equal prefix: lower wins (single 0, range 1, all 2). */
    int rank();

    int first();

    int last();

    default boolean contains(int port) {
        return port >= first() && port <= last();
    }

    default boolean overlaps(PortSpec other) {
        return first() <= other.last() && other.first() <= last();
    }

    /** Orders by precedence, then by first port. */
    @Override
    default int compareTo(PortSpec o) {
        int c = Integer.compare(rank(), o.rank());
        return c != 0 ? c : Integer.compare(first(), o.first());
    }

    /** One port, 1–65535. */
    record Single(int port) implements PortSpec {
        public Single {
            checkPort(port);
        }

        public int rank() {
            return 0;
        }

        public int first() {
            return port;
        }

        public int last() {
            return port;
        }

        @Override
        public String toString() {
            return Integer.toString(port);
        }
    }

    /** An inclusive range {@code first-last}, first below last. */
    record Range(int first, int last) implements PortSpec {
        public Range {
            checkPort(first);
            checkPort(last);
            if (first >= last) {
                throw new IllegalArgumentException("range " + first + "-" + last + " is empty or inverted");
            }
        }

        public int rank() {
            return 1;
        }

        @Override
        public String toString() {
            return first + "-" + last;
        }
    }

    /** Every port (1–65535). */
    record All() implements PortSpec {
        public int rank() {
            return 2;
        }

        public int first() {
            return 1;
        }

        public int last() {
            return 65535;
        }

        @Override
        public String toString() {
            return "all";
        }
    }

    PortSpec ALL = new All();

    /** One to five ASCII digits. */
    private static boolean isPortNumber(String t) {
        if (t.isEmpty() || t.length() > 5) {
            return false;
        }
        for (int i = 0; i < t.length(); i++) {
            if (t.charAt(i) < '0' || t.charAt(i) > '9') {
                return false;
            }
        }
        return true;
    }

    /**
     * Parses {@code 443}, {@code 8000-8999} or {@code all}.
     *
     * @throws InvalidValueException naming the text and the problem
     */
    public static PortSpec parse(String text) {
        String t = text == null ? "" : text.trim();
        if (t.equalsIgnoreCase("all")) {
            return ALL;
        }
        // By hand, not by regex: a refresh parses tens of thousands of these.
        if (isPortNumber(t)) {
            int p = Integer.parseInt(t);
            if (p < 1 || p > 65535) {
                throw new InvalidValueException(text, "ports are 1 to 65535");
            }
            return new Single(p);
        }
        int dash = t.indexOf('-');
        if (dash > 0 && isPortNumber(t.substring(0, dash).trim()) && isPortNumber(t.substring(dash + 1).trim())) {
            String[] parts = {t.substring(0, dash), t.substring(dash + 1)};
            int a = Integer.parseInt(parts[0].trim());
            int b = Integer.parseInt(parts[1].trim());
            if (a < 1 || a > 65535 || b < 1 || b > 65535) {
                throw new InvalidValueException(text, "ports are 1 to 65535");
            }
            if (a > b) {
                throw new InvalidValueException(text, "range is inverted: write " + b + "-" + a);
            }
            return a == b ? new Single(a) : new Range(a, b);
        }
        throw new InvalidValueException(text, "expected a port (443), a range (8000-8999) or 'all'");
    }

    /**
     * {@link #parse(String)}, for a text written at {@code where}.
     *
     * @throws InvalidRuleException naming {@code where}, the text and the problem
     */
    public static PortSpec parse(String text, String where) {
        try {
            return parse(text);
        } catch (InvalidValueException e) {
            throw e.at(where);
        }
    }

    private static void checkPort(int port) {
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("port " + port + " is outside 1-65535");
        }
    }
}
