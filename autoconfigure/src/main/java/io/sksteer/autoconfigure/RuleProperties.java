package io.sksteer.autoconfigure;

import io.sksteer.steering.InvalidRuleException;
import io.sksteer.steering.RuleGrammar;
import io.sksteer.steering.SteeringConfig;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.springframework.boot.context.properties.source.ConfigurationProperty;
import org.springframework.boot.context.properties.source.ConfigurationPropertyName;
import org.springframework.boot.context.properties.source.ConfigurationPropertyName.Form;
import org.springframework.boot.context.properties.source.ConfigurationPropertySource;
import org.springframework.boot.context.properties.source.ConfigurationPropertySources;
import org.springframework.boot.context.properties.source.ConfigurationPropertyState;
import org.springframework.boot.context.properties.source.IterableConfigurationPropertySource;
import org.springframework.core.env.EnumerablePropertySource;
import org.springframework.core.env.Environment;
import org.springframework.core.env.SystemEnvironmentPropertySource;

/**
 * Reads {@code sksteer.listeners.*.rules} straight from the environment's property sources, as
 * Spring's {@code Binder} would bind them, at a cost that follows the number of keys: binding
 * 10,000 rules through the {@code Binder} took a second, this takes milliseconds.
 *
 * <p>The Binder's rules, kept here: each listener's {@code rules} list comes whole from the first
 * (highest-precedence) source that has any of it, as does each rule's fields; a list is either one
 * comma-separated value or indexed elements from 0 without a gap (a scalar wins in one source);
 * map keys (listener names) are taken in their original form; placeholders are resolved; a
 * boolean is {@code true/false}, {@code on/off}, {@code yes/no} or {@code 1/0}. Where it cannot
 * follow them (a source that cannot list its keys may hold some) it answers {@code null}, and the
 * caller binds.
 */
final class RuleProperties {

    private static final ConfigurationPropertyName LISTENERS = ConfigurationPropertyName.of("sksteer.listeners");
    /** sksteer, listeners, NAME, rules, [i], field (, [j]). */
    private static final int RULES = 3;

    private RuleProperties() {
    }

    /** One rule's fields, as found in one source. */
    private static final class Raw {
        final Map<String, String> scalars = new LinkedHashMap<>();
        final Map<String, TreeMap<Integer, String>> indexed = new LinkedHashMap<>();
    }

    /**
     * The rules of every listener named under {@code sksteer.listeners}, by listener name; or
     * {@code null} when a source that cannot list its keys may hold some.
     *
     * @throws InvalidRuleException naming the key for an unknown rule field, a gap in a list, or
     *     a value that is no boolean
     */
    static Map<String, List<SteeringConfig.RuleText>> read(Environment environment) {
        Iterable<ConfigurationPropertySource> sources = ConfigurationPropertySources.get(environment);
        Map<String, List<SteeringConfig.RuleText>> out = new LinkedHashMap<>();
        Map<String, Boolean> rulesFound = new LinkedHashMap<>();
        for (ConfigurationPropertySource source : sources) {
            if (!(source instanceof IterableConfigurationPropertySource iterable)) {
                if (source.containsDescendantOf(LISTENERS) != ConfigurationPropertyState.ABSENT) {
                    return null;
                }
                continue;
            }
            Map<String, TreeMap<Integer, Raw>> here = new LinkedHashMap<>();
            for (Key key : keys(iterable)) {
                out.computeIfAbsent(key.listener(), l -> new ArrayList<>());
                if (key.rule() == NOT_A_RULE || rulesFound.containsKey(key.listener())) {
                    continue;
                }
                collect(here.computeIfAbsent(key.listener(), l -> new TreeMap<>()), key, environment);
            }
            for (Map.Entry<String, TreeMap<Integer, Raw>> e : here.entrySet()) {
                rulesFound.put(e.getKey(), true);
                out.put(e.getKey(), texts(e.getKey(), e.getValue()));
            }
        }
        return out;
    }

    private static final int NOT_A_RULE = -1;
    private static final String PREFIX = "sksteer.listeners.";

    /**
     * One key under {@code sksteer.listeners}, taken apart: its listener, and for a rule key the
     * rule's index, the field and the list element ({@code -1} for a scalar); {@code error} when
     * it is under {@code rules} but no rule property (reported only if this source's rules are read).
     */
    private record Key(String listener, int rule, String field, int element, Object value, String display, String error) {
    }

    /**
     * The source's keys under {@code sksteer.listeners}. A source of plain dotted names (a file, a
     * map, system properties) is read directly: there names map to themselves, as Spring's default
     * mapping has it, and the canonical spelling ({@code sksteer.listeners.web.rules[0].ports[1]})
     * is taken apart by hand; skipping Spring's name cache (rebuilt after every refresh for every
     * key) and its name objects is most of the cost saved. Other spellings, and other sources (the
     * environment variables, with their own mapping), go through Spring's names.
     */
    private static List<Key> keys(IterableConfigurationPropertySource source) {
        List<Key> out = new ArrayList<>();
        Object underlying = source.getUnderlyingSource();
        if (underlying instanceof EnumerablePropertySource<?> plain && !(underlying instanceof SystemEnvironmentPropertySource)) {
            for (String key : plain.getPropertyNames()) {
                if (key.length() <= PREFIX.length() - 1 || !key.regionMatches(true, 0, PREFIX, 0, PREFIX.length() - 1)) {
                    continue;
                }
                Key k = canonical(key, plain);
                if (k == null) {
                    ConfigurationPropertyName name = ConfigurationPropertyName.adapt(key, '.');
                    if (LISTENERS.isAncestorOf(name)) {
                        Object value = plain.getProperty(key);
                        k = fromName(name, value);
                    }
                }
                if (k != null) {
                    out.add(k);
                }
            }
            return out;
        }
        source.stream().filter(LISTENERS::isAncestorOf).forEach(n -> {
            ConfigurationProperty p = source.getConfigurationProperty(n);
            Key k = fromName(n, p == null ? null : p.getValue());
            if (k != null) {
                out.add(k);
            }
        });
        return out;
    }

    /** {@code sksteer.listeners.NAME[.rules[I].FIELD[[J]]]} with NAME of a-z, 0-9 and '-'; {@code null} for any other spelling. */
    private static Key canonical(String key, EnumerablePropertySource<?> source) {
        if (!key.startsWith(PREFIX)) {
            return null;
        }
        int i = PREFIX.length();
        int nameEnd = i;
        while (nameEnd < key.length() && lowerDigitOrDash(key.charAt(nameEnd))) {
            nameEnd++;
        }
        if (nameEnd == i || (nameEnd < key.length() && key.charAt(nameEnd) != '.')) {
            return null;
        }
        String listener = key.substring(i, nameEnd);
        if (!key.startsWith(".rules[", nameEnd)) {
            for (int c = nameEnd; c < key.length(); c++) {
                if (!lowerDigitOrDash(key.charAt(c)) && key.charAt(c) != '.') {
                    return null;
                }
            }
            return new Key(listener, NOT_A_RULE, null, -1, null, key, null);
        }
        int open = nameEnd + ".rules".length();
        int close = key.indexOf(']', open);
        int rule = close < 0 ? -1 : digits(key, open + 1, close);
        if (rule < 0 || close + 1 >= key.length() || key.charAt(close + 1) != '.') {
            return null;
        }
        int fieldStart = close + 2;
        int bracket = key.indexOf('[', fieldStart);
        String field = key.substring(fieldStart, bracket < 0 ? key.length() : bracket);
        if (!field.equals("prefixes") && !field.equals("ports") && !field.equals("allow-shadowing")) {
            return null;
        }
        int element = -1;
        if (bracket >= 0) {
            if (!key.endsWith("]") || (element = digits(key, bracket + 1, key.length() - 1)) < 0) {
                return null;
            }
        }
        return new Key(listener, rule, field, element, source.getProperty(key), key, null);
    }

    private static boolean lowerDigitOrDash(char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
    }

    /** The number written in {@code key[from, to)}: 1 to 9 digits; -1 otherwise. */
    private static int digits(String key, int from, int to) {
        if (to <= from || to - from > 9) {
            return -1;
        }
        int v = 0;
        for (int c = from; c < to; c++) {
            char ch = key.charAt(c);
            if (ch < '0' || ch > '9') {
                return -1;
            }
            v = v * 10 + (ch - '0');
        }
        return v;
    }

    /** A key in Spring's names: any spelling the binder takes. */
    private static Key fromName(ConfigurationPropertyName name, Object value) {
        int n = name.getNumberOfElements();
        if (n <= RULES - 1) {
            return null;
        }
        String listener = name.getElement(2, Form.ORIGINAL);
        if (n <= RULES || !name.getElement(RULES, Form.UNIFORM).equals("rules")) {
            return new Key(listener, NOT_A_RULE, null, -1, null, name.toString(), null);
        }
        if (n < RULES + 3 || !name.isNumericIndex(RULES + 1) || n > RULES + 4 || (n == RULES + 4 && !name.isNumericIndex(RULES + 3))) {
            return new Key(listener, 0, null, -1, value, name.toString(),
                    "not a rule property: a rule has prefixes, ports and allow-shadowing (sksteer.listeners.NAME.rules[i].prefixes, ...)");
        }
        int rule = index(name, RULES + 1);
        // The uniform form: allow-shadowing, allowShadowing and ALLOW_SHADOWING are one field.
        String field = switch (name.getElement(RULES + 2, Form.UNIFORM)) {
            case "prefixes" -> "prefixes";
            case "ports" -> "ports";
            case "allowshadowing" -> "allow-shadowing";
            default -> null;
        };
        if (field == null) {
            return new Key(listener, rule, null, -1, value, name.toString(), "no such rule property '"
                    + name.getElement(RULES + 2, Form.ORIGINAL) + "': a rule has prefixes, ports and allow-shadowing");
        }
        return new Key(listener, rule, field, n == RULES + 4 ? index(name, RULES + 3) : -1, value, name.toString(), null);
    }

    private static void collect(TreeMap<Integer, Raw> rules, Key key, Environment environment) {
        if (key.error() != null) {
            throw new InvalidRuleException(key.display(), key.value() == null ? null : String.valueOf(key.value()), key.error());
        }
        if (key.value() == null) {
            return;
        }
        String value = String.valueOf(key.value());
        if (value.contains("${")) {
            value = environment.resolveRequiredPlaceholders(value);
        }
        Raw raw = rules.computeIfAbsent(key.rule(), i -> new Raw());
        if (key.element() < 0) {
            raw.scalars.put(key.field(), value);
        } else {
            raw.indexed.computeIfAbsent(key.field(), f -> new TreeMap<>()).put(key.element(), value);
        }
    }

    private static int index(ConfigurationPropertyName name, int element) {
        String digits = name.getElement(element, Form.UNIFORM);
        if (digits.length() > 9) {
            throw new InvalidRuleException(name.toString(), null, "index out of range");
        }
        return Integer.parseInt(digits);
    }


    private static List<SteeringConfig.RuleText> texts(String listener, TreeMap<Integer, Raw> rules) {
        List<SteeringConfig.RuleText> out = new ArrayList<>(rules.size());
        int expected = 0;
        for (Map.Entry<Integer, Raw> e : rules.entrySet()) {
            String path = "sksteer.listeners." + listener + ".rules[" + e.getKey() + "]";
            if (e.getKey() != expected) {
                throw new InvalidRuleException(path, null, "rules must be numbered from 0 without a gap: rules[" + expected + "] is missing");
            }
            expected++;
            Raw raw = e.getValue();
            out.add(new SteeringConfig.RuleText(list(raw, "prefixes", path), list(raw, "ports", path),
                    bool(raw.scalars.get("allow-shadowing"), path + ".allow-shadowing")));
        }
        return out;
    }

    private static List<String> list(Raw raw, String field, String path) {
        String scalar = raw.scalars.get(field);
        if (scalar != null) {
            return RuleGrammar.list(scalar);
        }
        TreeMap<Integer, String> indexed = raw.indexed.get(field);
        if (indexed == null) {
            return List.of();
        }
        List<String> out = new ArrayList<>(indexed.size());
        int expected = 0;
        for (Map.Entry<Integer, String> e : indexed.entrySet()) {
            if (e.getKey() != expected) {
                throw new InvalidRuleException(path + "." + field, null, "numbered from 0 without a gap: [" + expected + "] is missing");
            }
            expected++;
            out.add(e.getValue());
        }
        return out;
    }

    private static boolean bool(String text, String path) {
        if (text == null) {
            return false;
        }
        return switch (text.trim().toLowerCase(Locale.ROOT)) {
            case "true", "on", "yes", "1" -> true;
            case "false", "off", "no", "0" -> false;
            default -> throw new InvalidRuleException(path, text, "must be true or false");
        };
    }
}
