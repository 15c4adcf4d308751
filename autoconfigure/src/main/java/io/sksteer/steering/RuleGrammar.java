package io.sksteer.steering;

import io.sksteer.bpf.sklookup.Protocol;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The text of rules, read one way wherever it is written: configuration (YAML, properties,
 * environment variables), the actuator endpoint and the Java API. Each value is read by its own
 * type ({@link Prefix#parse}, {@link PortSpec#parse}, {@link #protocol}); this class holds what
 * joins them: comma-separated lists and the one-line form of a rule.
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

    /**
     * Rules in their one-line form, {@code LISTENER PREFIX[,PREFIX...] PORTS[,PORTS...]}, one per
     * line or separated by {@code ;}; blank rules are skipped. The prefixes and ports are lists
     * as {@link #list} reads them, parsed later with the rest of the rules.
     *
     * @param maxRules the most rules (prefixes × ports) the text may hold, counted while reading
     * @return the rules as written, by listener, in order
     * @throws InvalidValueException for a rule that is not three words, or more than {@code maxRules} rules
     */
    public static Map<String, List<SteeringConfig.RuleText>> lines(String text, int maxRules) {
        Map<String, List<SteeringConfig.RuleText>> out = new LinkedHashMap<>();
        long count = 0;
        for (String rule : text.split("[;\n]")) {
            if (rule.isBlank()) {
                continue;
            }
            String[] words = rule.trim().split("\\s+");
            if (words.length != 3) {
                throw new InvalidValueException(abbreviate(rule.trim()), "a rule must be LISTENER PREFIXES PORTS");
            }
            List<String> prefixes = list(words[1]);
            List<String> ports = list(words[2]);
            count += (long) prefixes.size() * ports.size();
            if (count > maxRules) {
                throw new RuleCapacityException(null, maxRules, "more than " + maxRules + " rules (prefixes × ports) in one change");
            }
            out.computeIfAbsent(words[0], l -> new ArrayList<>()).add(new SteeringConfig.RuleText(prefixes, ports));
        }
        return out;
    }

    private static String abbreviate(String s) {
        return s.length() <= 80 ? s : s.substring(0, 80) + "...";
    }
}
