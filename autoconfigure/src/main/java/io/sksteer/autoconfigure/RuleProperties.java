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
            for (Map.Entry<ConfigurationPropertyName, ConfigurationProperty> entry : entries(iterable).entrySet()) {
                ConfigurationPropertyName name = entry.getKey();
                if (name.getNumberOfElements() <= RULES - 1) {
                    continue;
                }
                String listener = name.getElement(2, Form.ORIGINAL);
                out.computeIfAbsent(listener, l -> new ArrayList<>());
                if (rulesFound.containsKey(listener) || name.getNumberOfElements() <= RULES
                        || !name.getElement(RULES, Form.UNIFORM).equals("rules")) {
                    continue;
                }
                here.computeIfAbsent(listener, l -> new TreeMap<>());
                collect(here.get(listener), name, entry.getValue(), environment);
            }
            for (Map.Entry<String, TreeMap<Integer, Raw>> e : here.entrySet()) {
                rulesFound.put(e.getKey(), true);
                out.put(e.getKey(), texts(e.getKey(), e.getValue()));
            }
        }
        return out;
    }

    /**
     * The source's keys under {@code sksteer.listeners} and their properties. A source of plain
     * dotted names (a file, a map, system properties) is read directly: its names map to
     * themselves, as Spring's default mapping has it, and skipping Spring's name cache (rebuilt
     * after every refresh for every key) is most of the cost saved. Any other source (the
     * environment variables, with their own mapping) goes through Spring's adapter.
     */
    private static Map<ConfigurationPropertyName, ConfigurationProperty> entries(IterableConfigurationPropertySource source) {
        Map<ConfigurationPropertyName, ConfigurationProperty> out = new LinkedHashMap<>();
        Object underlying = source.getUnderlyingSource();
        if (underlying instanceof EnumerablePropertySource<?> plain && !(underlying instanceof SystemEnvironmentPropertySource)) {
            for (String key : plain.getPropertyNames()) {
                if (key.length() <= PREFIX.length() || !key.regionMatches(true, 0, PREFIX, 0, PREFIX.length())) {
                    continue;
                }
                ConfigurationPropertyName name = ConfigurationPropertyName.adapt(key, '.');
                if (LISTENERS.isAncestorOf(name)) {
                    Object value = plain.getProperty(key);
                    out.put(name, value == null ? null : new ConfigurationProperty(name, value, null));
                }
            }
            return out;
        }
        source.stream().filter(LISTENERS::isAncestorOf).forEach(n -> out.put(n, source.getConfigurationProperty(n)));
        return out;
    }

    private static final String PREFIX = "sksteer.listeners";

    private static void collect(TreeMap<Integer, Raw> rules, ConfigurationPropertyName name, ConfigurationProperty property,
            Environment environment) {
        int n = name.getNumberOfElements();
        if (n < RULES + 3 || !name.isNumericIndex(RULES + 1) || n > RULES + 4 || (n == RULES + 4 && !name.isNumericIndex(RULES + 3))) {
            throw new InvalidRuleException(name.toString(), text(property), "not a rule property: a rule has prefixes, ports and allow-shadowing"
                    + " (sksteer.listeners.NAME.rules[i].prefixes, ...)");
        }
        int index = index(name, RULES + 1);
        // The uniform form: allow-shadowing, allowShadowing and ALLOW_SHADOWING are one field.
        String field = switch (name.getElement(RULES + 2, Form.UNIFORM)) {
            case "prefixes" -> "prefixes";
            case "ports" -> "ports";
            case "allowshadowing" -> "allow-shadowing";
            default -> throw new InvalidRuleException(name.toString(), text(property), "no such rule property '"
                    + name.getElement(RULES + 2, Form.ORIGINAL) + "': a rule has prefixes, ports and allow-shadowing");
        };
        if (property == null) {
            return;
        }
        String value = String.valueOf(property.getValue());
        if (value.contains("${")) {
            value = environment.resolveRequiredPlaceholders(value);
        }
        Raw raw = rules.computeIfAbsent(index, i -> new Raw());
        if (n == RULES + 3) {
            raw.scalars.put(field, value);
        } else {
            raw.indexed.computeIfAbsent(field, f -> new TreeMap<>()).put(index(name, RULES + 3), value);
        }
    }

    private static int index(ConfigurationPropertyName name, int element) {
        String digits = name.getElement(element, Form.UNIFORM);
        if (digits.length() > 9) {
            throw new InvalidRuleException(name.toString(), null, "index out of range");
        }
        return Integer.parseInt(digits);
    }

    private static String text(ConfigurationProperty p) {
        return p == null ? null : String.valueOf(p.getValue());
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
