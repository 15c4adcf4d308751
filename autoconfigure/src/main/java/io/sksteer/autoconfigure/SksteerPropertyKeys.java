package io.sksteer.autoconfigure;

import java.beans.PropertyDescriptor;
import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.springframework.beans.BeanUtils;
import org.springframework.boot.context.properties.bind.DataObjectPropertyName;
import org.springframework.boot.context.properties.source.ConfigurationPropertyName;
import org.springframework.boot.context.properties.source.ConfigurationPropertyName.Form;
import org.springframework.core.ResolvableType;

/**
 * The keys sksteer's configuration has, read from {@link SksteerProperties} and its nested types
 * as the binder reads them: a nested class of SksteerProperties is a group of properties, a map
 * takes any key, a list takes numeric indexes, anything else is a value. Answers whether a key is
 * one of them and which known key an unknown one is nearest to.
 */
final class SksteerPropertyKeys {

    static final ConfigurationPropertyName ROOT = ConfigurationPropertyName.of("sksteer");

    /** The properties of the current {@link SksteerProperties}. */
    static final SksteerPropertyKeys INSTANCE = new SksteerPropertyKeys(SksteerProperties.class);

    /** Joining more elements than this is no dashed name of ours (the longest, on-missing-socket, has three). */
    private static final int MAX_JOINED = 6;
    /** Past this, a key's elements and texts are cut for the distance: enough for any near miss. */
    private static final int MAX_ELEMENTS = 16;
    private static final int MAX_TEXT = 64;

    /** One element of a key: a property name, a map key (any text) or a list index. */
    enum StepKind { NAME, KEY, INDEX }

    /** One element of a known key; {@code name} in the dashed form for names. */
    record Step(StepKind kind, String name) {
        static final Step KEY = new Step(StepKind.KEY, "*");
        static final Step INDEX = new Step(StepKind.INDEX, "[*]");
    }

    /**
     * A property below {@code sksteer}: a value, a list of values, or a map or list of groups
     * (as the configuration metadata lists them), with its Java type and the class that declares it.
     */
    record Property(List<Step> steps, ResolvableType type, Class<?> owner) {

        /** Its name in the metadata's form: a map key is {@code *}, a list index {@code [*]}. */
        String name() {
            StringBuilder b = new StringBuilder(ROOT.toString());
            for (Step s : steps) {
                b.append(s.kind() == StepKind.INDEX ? "" : ".").append(s.name());
            }
            return b.toString();
        }

        /** Whether it is repeated per map key or list element (per listener, per rule). */
        boolean repeated() {
            return steps.stream().anyMatch(s -> s.kind() != StepKind.NAME);
        }
    }

    private enum NodeKind { GROUP, MAP, LIST, VALUE, VALUE_MAP }

    private static final class Node {
        final NodeKind kind;
        final ResolvableType type;
        /** A group's properties by their uniform name (lower case, no dashes), in the dashed form. */
        final Map<String, String> dashed = new LinkedHashMap<>();
        final Map<String, Node> children = new LinkedHashMap<>();
        /** A map's value or a list's element. */
        final Node element;

        Node(NodeKind kind, ResolvableType type, Node element) {
            this.kind = kind;
            this.type = type;
            this.element = element;
        }
    }

    private final Node root;
    private final List<Property> properties = new ArrayList<>();
    private final List<List<Step>> templates = new ArrayList<>();

    SksteerPropertyKeys(Class<?> propertiesClass) {
        root = node(ResolvableType.forClass(propertiesClass), propertiesClass);
        collect(root, new ArrayList<>(), propertiesClass);
    }

    /** Every property, in the metadata's wildcard form. */
    List<Property> properties() {
        return List.copyOf(properties);
    }

    /**
     * Whether {@code name} (below {@code sksteer}) is a known key or a group of them.
     *
     * @param joinElements whether adjacent elements may make one dashed name, as the binder reads
     *     the legacy form of environment variables ({@code SKSTEER_LIVE_CHANGES_ENABLED} for
     *     {@code sksteer.live-changes.enabled})
     */
    boolean isKnown(ConfigurationPropertyName name, boolean joinElements) {
        return ROOT.isAncestorOf(name) && matches(root, name, 1, joinElements);
    }

    /**
     * The shortest unknown part of {@code name}: {@code sksteer.listners} for every key under a
     * mistyped {@code listners}. {@code name} itself when only its last element is unknown, and
     * where elements may be joined (a prefix may end inside a dashed name).
     */
    ConfigurationPropertyName unknownStem(ConfigurationPropertyName name, boolean joinElements) {
        if (joinElements) {
            return name;
        }
        int n = Math.min(name.getNumberOfElements(), MAX_ELEMENTS);
        for (int i = 2; i < n; i++) {
            ConfigurationPropertyName stem = name.chop(i);
            if (!isKnown(stem, joinElements)) {
                return stem;
            }
        }
        return name;
    }

    private static boolean matches(Node node, ConfigurationPropertyName name, int i, boolean join) {
        int n = name.getNumberOfElements();
        if (i == n) {
            return true;
        }
        switch (node.kind) {
            case VALUE:
                return false;
            case VALUE_MAP:
                // Map<String, String>: its keys may hold dots, so anything below it binds.
                return true;
            case MAP:
                return matches(node.element, name, i + 1, join);
            case LIST:
                return isDigits(name.getElement(i, Form.UNIFORM)) && matches(node.element, name, i + 1, join);
            default:
                StringBuilder joined = new StringBuilder();
                int last = join ? Math.min(n, i + MAX_JOINED) : i + 1;
                for (int j = i; j < last; j++) {
                    joined.append(name.getElement(j, Form.UNIFORM));
                    Node child = node.children.get(joined.toString());
                    if (child != null && matches(child, name, j + 1, join)) {
                        return true;
                    }
                }
                return false;
        }
    }

    /**
     * The known key nearest to {@code name}, keeping its listener names and indexes: the known
     * key whose elements need the fewest edits (a name's edit costs its normalised edit distance,
     * a missing or extra element costs 1, a missing map key or index 1/2), filled with the
     * elements of {@code name} that stand where a map key or an index does. A map key that
     * {@code name} lacks shows as {@code <name>}. Costs a few thousand character comparisons per
     * known property, whatever the size of the environment.
     */
    String nearest(ConfigurationPropertyName name) {
        int n = Math.min(name.getNumberOfElements(), MAX_ELEMENTS) - 1;
        String[] texts = new String[n];
        String[] originals = new String[n];
        for (int i = 0; i < n; i++) {
            String t = name.getElement(i + 1, Form.UNIFORM);
            texts[i] = t.length() > MAX_TEXT ? t.substring(0, MAX_TEXT) : t;
            originals[i] = name.getElement(i + 1, Form.ORIGINAL);
        }
        List<Step> best = null;
        int[] bestMatch = null;
        double bestCost = Double.MAX_VALUE;
        for (List<Step> template : templates) {
            int m = template.size();
            double[][] cost = new double[n + 1][m + 1];
            for (int i = 1; i <= n; i++) {
                cost[i][0] = i;
            }
            for (int j = 1; j <= m; j++) {
                cost[0][j] = cost[0][j - 1] + insertCost(template.get(j - 1));
            }
            for (int i = 1; i <= n; i++) {
                for (int j = 1; j <= m; j++) {
                    double sub = cost[i - 1][j - 1] + substituteCost(texts[i - 1], template.get(j - 1));
                    double del = cost[i - 1][j] + 1;
                    double ins = cost[i][j - 1] + insertCost(template.get(j - 1));
                    cost[i][j] = Math.min(sub, Math.min(del, ins));
                }
            }
            if (cost[n][m] < bestCost) {
                bestCost = cost[n][m];
                best = template;
                bestMatch = align(cost, texts, template);
            }
        }
        StringBuilder b = new StringBuilder(ROOT.toString());
        for (int j = 0; j < best.size(); j++) {
            Step s = best.get(j);
            int u = bestMatch[j];
            switch (s.kind()) {
                case NAME -> b.append('.').append(s.name());
                case INDEX -> b.append('[').append(u < 0 ? "0" : texts[u]).append(']');
                default -> appendElement(b, u < 0 ? "<name>" : originals[u], false);
            }
        }
        return b.toString();
    }

    /** {@code name} as it was written, as far as the property source kept it: {@code sksteer.liveChanges.maxBodySize}. */
    static String display(ConfigurationPropertyName name) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < name.getNumberOfElements(); i++) {
            appendElement(b, name.getElement(i, Form.ORIGINAL), name.isNumericIndex(i));
        }
        return b.toString();
    }

    private static void appendElement(StringBuilder b, String element, boolean index) {
        if (index) {
            b.append('[').append(element).append(']');
        } else if (element.matches("[A-Za-z0-9_<>-]+")) {
            b.append(b.isEmpty() ? "" : ".").append(element);
        } else {
            b.append('[').append(element).append(']');
        }
    }

    /** For each step of the template, the element of the key it was matched with, or -1 where it was inserted. */
    private static int[] align(double[][] cost, String[] texts, List<Step> template) {
        int[] match = new int[template.size()];
        int i = texts.length;
        int j = template.size();
        while (j > 0) {
            Step s = template.get(j - 1);
            if (i > 0 && same(cost[i][j], cost[i - 1][j - 1] + substituteCost(texts[i - 1], s))) {
                match[--j] = --i;
            } else if (same(cost[i][j], cost[i][j - 1] + insertCost(s))) {
                match[--j] = -1;
            } else {
                i--;
            }
        }
        return match;
    }

    private static boolean same(double a, double b) {
        return Math.abs(a - b) < 1e-9;
    }

    private static double insertCost(Step s) {
        return s.kind() == StepKind.NAME ? 1 : 0.5;
    }

    private static double substituteCost(String text, Step s) {
        return switch (s.kind()) {
            case KEY -> 0;
            case INDEX -> isDigits(text) ? 0 : 1;
            default -> isDigits(text) ? 1 : distance(text, uniform(s.name()));
        };
    }

    /** Levenshtein distance over the longer length: 0 for equal texts, 1 for nothing in common. */
    static double distance(String a, String b) {
        if (a.equals(b)) {
            return 0;
        }
        int[] previous = new int[b.length() + 1];
        int[] current = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            previous[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            current[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int sub = previous[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                current[j] = Math.min(sub, Math.min(previous[j] + 1, current[j - 1] + 1));
            }
            int[] t = previous;
            previous = current;
            current = t;
        }
        return (double) previous[b.length()] / Math.max(a.length(), b.length());
    }

    private static boolean isDigits(String s) {
        return !s.isEmpty() && s.chars().allMatch(c -> c >= '0' && c <= '9');
    }

    private static String uniform(String dashed) {
        return ConfigurationPropertyName.of(dashed).getElement(0, Form.UNIFORM);
    }

    /** The binder's reading of a type: a group (a nested class of the properties class), a map, a list or a value. */
    private static Node node(ResolvableType type, Class<?> propertiesClass) {
        Class<?> raw = type.resolve(Object.class);
        if (Map.class.isAssignableFrom(raw)) {
            Node value = node(type.asMap().getGeneric(1), propertiesClass);
            return value.kind == NodeKind.VALUE ? new Node(NodeKind.VALUE_MAP, type, null) : new Node(NodeKind.MAP, type, value);
        }
        if (Collection.class.isAssignableFrom(raw) || raw.isArray()) {
            ResolvableType element = raw.isArray() ? type.getComponentType() : type.asCollection().getGeneric(0);
            return new Node(NodeKind.LIST, type, node(element, propertiesClass));
        }
        if (raw != propertiesClass && (raw.isEnum() || !isNestedIn(raw, propertiesClass))) {
            return new Node(NodeKind.VALUE, type, null);
        }
        Node group = new Node(NodeKind.GROUP, type, null);
        if (raw.isRecord()) {
            for (RecordComponent c : raw.getRecordComponents()) {
                add(group, c.getName(), node(ResolvableType.forMethodReturnType(c.getAccessor()), propertiesClass));
            }
            return group;
        }
        for (PropertyDescriptor p : BeanUtils.getPropertyDescriptors(raw)) {
            if (p.getReadMethod() == null || p.getReadMethod().getDeclaringClass() == Object.class) {
                continue;
            }
            Node child = node(ResolvableType.forMethodReturnType(p.getReadMethod(), raw), propertiesClass);
            // A value without a setter cannot be bound; a group, list or map is bound into.
            if (p.getWriteMethod() != null || child.kind != NodeKind.VALUE) {
                add(group, p.getName(), child);
            }
        }
        return group;
    }

    private static void add(Node group, String javaName, Node child) {
        String dashed = DataObjectPropertyName.toDashedForm(javaName);
        group.dashed.put(uniform(dashed), dashed);
        group.children.put(uniform(dashed), child);
    }

    private static boolean isNestedIn(Class<?> type, Class<?> outer) {
        for (Class<?> c = type.getEnclosingClass(); c != null; c = c.getEnclosingClass()) {
            if (c == outer) {
                return true;
            }
        }
        return false;
    }

    /** Every property, and the templates nearest() compares against: values, with a trailing index or key where they repeat. */
    private void collect(Node node, List<Step> path, Class<?> owner) {
        switch (node.kind) {
            case GROUP -> node.children.forEach((uniform, child) -> {
                List<Step> p = new ArrayList<>(path);
                p.add(new Step(StepKind.NAME, node.dashed.get(uniform)));
                collect(child, p, node.type.resolve());
            });
            case MAP, LIST -> {
                boolean ofValues = node.element.kind == NodeKind.VALUE;
                if (ofValues || node.element.kind == NodeKind.GROUP) {
                    properties.add(new Property(List.copyOf(path), node.type, owner));
                }
                if (ofValues) {
                    templates.add(List.copyOf(path));
                }
                List<Step> p = new ArrayList<>(path);
                p.add(node.kind == NodeKind.MAP ? Step.KEY : Step.INDEX);
                if (ofValues) {
                    templates.add(List.copyOf(p));
                } else {
                    collect(node.element, p, owner);
                }
            }
            case VALUE_MAP -> {
                properties.add(new Property(List.copyOf(path), node.type, owner));
                templates.add(List.copyOf(path));
                List<Step> p = new ArrayList<>(path);
                p.add(Step.KEY);
                templates.add(List.copyOf(p));
            }
            default -> {
                properties.add(new Property(List.copyOf(path), node.type, owner));
                templates.add(List.copyOf(path));
            }
        }
    }
}
