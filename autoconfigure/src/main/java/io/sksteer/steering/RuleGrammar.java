package io.sksteer.steering;

import io.sksteer.bpf.sklookup.Protocol;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The text of rules, read one way wherever it is written: configuration (YAML, properties,
 * environment variables), the actuator endpoint and the Java API. Each value is read by its own
 * type ({@link Prefix#parse}, {@link PortSpec#parse}, {@link #protocol}); this class holds what
 * joins them: comma-separated lists.
 */
public final class RuleGrammar {

    private RuleGrammar() {
    }

    /**
     * {@code tcp} or {@code udp}, case ignored.
     *
     * @throws InvalidValueException for anything else
     */
    public static Protocol protocol(String text) {
        return switch (text == null ? "" : text.trim().toLowerCase(Locale.ROOT)) {
            case "tcp" -> Protocol.TCP;
            case "udp" -> Protocol.UDP;
            default -> throw new InvalidValueException(text, "must be 'tcp' or 'udp'");
        };
    }

    /**
     * A comma-separated list, each element trimmed: {@code "80, 443"} is {@code [80, 443]}. An
     * empty element is kept (and refused by the element's parser), as is a trailing one: a list
     * is never shortened silently.
     */
    public static List<String> list(String text) {
        List<String> out = new ArrayList<>();
        for (String part : text.split(",", -1)) {
            out.add(part.trim());
        }
        return out;
    }
}
