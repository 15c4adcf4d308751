package io.sksteer.steering;

import io.sksteer.bpf.sklookup.Protocol;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A validated steering configuration: listeners, the rules over them, where to attach and what
 * to do when a listener's socket is gone. {@link Builder} validates the user's definitions into
 * one, failing with an {@link InvalidRuleException} that names where the problem was written (in
 * the caller's names, {@link ConfigOrigins}), the value and the problem.
 *
 * @param netns the network namespace file to attach to
 * @param dropOnMissingSocket whether a matched rule whose socket is gone drops the traffic
 * @param maxRules capacity of the rule tables
 * @param listeners listeners by name, in definition order
 * @param rules the rules
 * @param shadowingAllowed where rules may capture traffic of sockets that are not the listener's
 *     own (rules written with {@code allow-shadowing}); elsewhere such a rule is refused
 */
public record SteeringConfig(Path netns, boolean dropOnMissingSocket, int maxRules, Map<String, ListenerSpec> listeners,
        RuleSet rules, List<RuleScope> shadowingAllowed) {

    public SteeringConfig {
        listeners = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(listeners));
        shadowingAllowed = List.copyOf(shadowingAllowed);
    }

    /** A configuration whose rules may not shadow any other socket. */
    public SteeringConfig(Path netns, boolean dropOnMissingSocket, int maxRules, Map<String, ListenerSpec> listeners,
            RuleSet rules) {
        this(netns, dropOnMissingSocket, maxRules, listeners, rules, List.of());
    }

    /**
     * One rule as text (the Java API's and the endpoint's form), read by {@link #parse} with the
     * rule grammar that configuration uses ({@link Prefix#parse}, {@link PortSpec#parse}).
     *
     * @param allowShadowing whether this rule may capture traffic that a socket other than the
     *     listener's own is bound to (configuration only; live changes cannot grant it)
     */
    public record RuleText(List<String> prefixes, List<String> ports, boolean allowShadowing) {

        public RuleText(List<String> prefixes, List<String> ports) {
            this(prefixes, ports, false);
        }

        /**
         * The rule's values, read; {@code where} names the rule in errors (its prefixes and ports
         * as {@code where.prefixes[i]}, {@code where.ports[i]}).
         *
         * @throws InvalidRuleException for the first value that cannot be read
         */
        public RuleDefinition parse(String where) {
            List<String> prefixTexts = prefixes == null ? List.of() : prefixes;
            List<String> portTexts = ports == null ? List.of() : ports;
            List<Prefix> nets = new ArrayList<>(prefixTexts.size());
            List<PortSpec> specs = new ArrayList<>(portTexts.size());
            // Ports first, as the rules were always read: each port spec once per rule, not once per prefix.
            for (int q = 0; q < portTexts.size(); q++) {
                specs.add(PortSpec.parse(portTexts.get(q), where + ".ports[" + q + "]"));
            }
            for (int p = 0; p < prefixTexts.size(); p++) {
                nets.add(Prefix.parse(prefixTexts.get(p), where + ".prefixes[" + p + "]"));
            }
            return new RuleDefinition(nets, specs, allowShadowing);
        }
    }

    /**
     * One rule, its values read: every prefix with every port spec.
     *
     * @param allowShadowing whether this rule may capture traffic that a socket other than the
     *     listener's own is bound to (configuration only; live changes cannot grant it)
     */
    public record RuleDefinition(List<Prefix> prefixes, List<PortSpec> ports, boolean allowShadowing) {

        public RuleDefinition {
            // Not List.copyOf: an element the binder left empty is refused with a message, not an NPE.
            prefixes = prefixes == null ? List.of() : java.util.Collections.unmodifiableList(new ArrayList<>(prefixes));
            ports = ports == null ? List.of() : java.util.Collections.unmodifiableList(new ArrayList<>(ports));
        }
    }

    /**
     * One listener as configured.
     *
     * @param bind the address the socket binds, as written ({@code host}, {@code host:port},
     *     {@code [v6]:port}), or {@code null} for the default
     * @param adoptedFrom {@code null} when sksteer binds the socket, else who gives it (e.g. "the
     *     web server"); {@code bind} is then the address that socket binds, if known
     * @param bindOrigin where {@code bind} was written, for messages; {@code null}: the listener's own {@code bind}
     */
    public record ListenerDefinition(Protocol protocol, String bind, int backlog, boolean reusePort, List<RuleDefinition> rules,
            String adoptedFrom, String bindOrigin) {

        /** A listener whose socket sksteer binds. */
        public ListenerDefinition(Protocol protocol, String bind, int backlog, boolean reusePort, List<RuleDefinition> rules) {
            this(protocol, bind, backlog, reusePort, rules, null, null);
        }
    }

    /**
     * Collects the configuration, then validates it whole. Errors name where each part was
     * written through the names the caller gives ({@link ConfigOrigins}).
     */
    public static final class Builder {
        private final ConfigOrigins origins;
        private String netns = "/proc/self/ns/net";
        private OnMissingSocket onMissingSocket = OnMissingSocket.DROP;
        private int maxRules = 4096;
        private final Map<String, ListenerDefinition> listeners = new LinkedHashMap<>();

        /** A builder whose messages use {@link ConfigOrigins#PLAIN} names. */
        public Builder() {
            this(ConfigOrigins.PLAIN);
        }

        /** @param origins the caller's names of the places each part is written, for messages */
        public Builder(ConfigOrigins origins) {
            this.origins = origins;
        }

        public Builder netns(String netns) {
            this.netns = netns;
            return this;
        }

        public Builder onMissingSocket(OnMissingSocket policy) {
            this.onMissingSocket = policy;
            return this;
        }

        public Builder maxRules(int maxRules) {
            this.maxRules = maxRules;
            return this;
        }

        public Builder listener(String name, ListenerDefinition listener) {
            listeners.put(name, listener);
            return this;
        }

        /**
         * @throws InvalidRuleException for the first problem found ({@link RuleCapacityException}
         *     when the rules exceed {@code maxRules})
         */
        public SteeringConfig build() {
            if (netns == null || netns.isBlank()) {
                throw new InvalidRuleException(origins.netns(), netns, "must name a network namespace file, e.g. /proc/self/ns/net");
            }
            if (onMissingSocket == null) {
                throw new InvalidRuleException(origins.onMissingSocket(), null, "must be 'drop' or 'pass'");
            }
            if (maxRules < 1 || maxRules > 1 << 22) {
                throw new InvalidRuleException(origins.maxRules(), Integer.toString(maxRules), "must be from 1 to " + (1 << 22));
            }
            Map<String, ListenerSpec> specs = new LinkedHashMap<>();
            Map<String, List<RuleDefinition>> ruleDefinitions = new LinkedHashMap<>();
            for (Map.Entry<String, ListenerDefinition> e : listeners.entrySet()) {
                String name = e.getKey();
                ListenerDefinition definition = e.getValue();
                String path = origins.listener(name);
                if (name.isBlank()) {
                    throw new InvalidRuleException(path, name, "listener names must not be blank");
                }
                Protocol protocol = definition.protocol();
                if (protocol == null) {
                    throw new InvalidRuleException(origins.listenerField(name, "protocol"), null, "must be 'tcp' or 'udp'");
                }
                String bindOrigin = definition.bindOrigin() != null ? definition.bindOrigin() : origins.listenerField(name, "bind");
                InetSocketAddress bind = bind(definition.bind(), bindOrigin);
                if (definition.backlog() < 1) {
                    throw new InvalidRuleException(origins.listenerField(name, "backlog"), Integer.toString(definition.backlog()),
                            "must be positive");
                }
                if (definition.adoptedFrom() != null && protocol != Protocol.TCP) {
                    throw new InvalidRuleException(origins.listenerField(name, "protocol"), protocol.name().toLowerCase(Locale.ROOT),
                            "listener '" + name + "' takes " + definition.adoptedFrom() + "'s socket, which is TCP: the protocol must be 'tcp'");
                }
                specs.put(name, new ListenerSpec(name, protocol, bind, definition.backlog(), definition.reusePort(), path,
                        definition.adoptedFrom(), bindOrigin));
                ruleDefinitions.put(name, definition.rules() == null ? List.of() : definition.rules());
            }
            RuleSet set = definedRules(specs, ruleDefinitions, maxRules, origins::rule);
            // Entries written with allow-shadowing, by the origin their rules carry.
            java.util.Set<String> allowing = new java.util.HashSet<>();
            ruleDefinitions.forEach((listener, definitions) -> {
                for (int i = 0; i < definitions.size(); i++) {
                    if (definitions.get(i) != null && definitions.get(i).allowShadowing()) {
                        allowing.add(origins.rule(listener, i));
                    }
                }
            });
            List<RuleScope> shadowing = new ArrayList<>();
            for (SteeringRule r : set.rules()) {
                if (allowing.contains(r.origin())) {
                    shadowing.add(RuleScope.of(r));
                }
            }
            return new SteeringConfig(Path.of(netns), onMissingSocket == OnMissingSocket.DROP, maxRules, specs, set, shadowing);
        }

        /**
         * Reads rules written as text ({@link RuleText#parse}) over known listeners, then validates
         * them as {@link #definedRules} does.
         *
         * @param where the name of rule {@code i} of a listener, for messages, and the rules' origin
         * @throws InvalidRuleException for the first problem found
         */
        public static RuleSet rules(Map<String, ListenerSpec> listeners, Map<String, List<RuleText>> rulesByListener,
                int maxRules, java.util.function.BiFunction<String, Integer, String> where) {
            Map<String, List<RuleDefinition>> definitions = new LinkedHashMap<>();
            for (Map.Entry<String, List<RuleText>> e : rulesByListener.entrySet()) {
                String name = e.getKey();
                checkListener(listeners, name, where);
                List<RuleText> texts = e.getValue() == null ? List.of() : e.getValue();
                List<RuleDefinition> read = new ArrayList<>(texts.size());
                for (int i = 0; i < texts.size(); i++) {
                    RuleText text = texts.get(i);
                    if (text != null) {
                        checkNotEmpty(text.prefixes(), text.ports(), where.apply(name, i));
                    }
                    read.add(text == null ? null : text.parse(where.apply(name, i)));
                }
                definitions.put(name, read);
            }
            return definedRules(listeners, definitions, maxRules, where);
        }

        /**
         * Validates rules over known listeners: the families a listener's socket can take,
         * conflicts, and the dispatcher's limits.
         *
         * @param listeners the listeners, by name
         * @param rulesByListener the rules, by listener name
         * @param maxRules capacity of the dispatcher
         * @param where the name of rule {@code i} of a listener, for messages, and the rules' origin
         * @throws InvalidRuleException for the first problem found ({@link RuleCapacityException}
         *     when there are more than {@code maxRules})
         */
        public static RuleSet definedRules(Map<String, ListenerSpec> listeners, Map<String, List<RuleDefinition>> rulesByListener,
                int maxRules, java.util.function.BiFunction<String, Integer, String> where) {
            List<SteeringRule> rules = new ArrayList<>();
            for (Map.Entry<String, List<RuleDefinition>> e : rulesByListener.entrySet()) {
                String name = e.getKey();
                ListenerSpec spec = checkListener(listeners, name, where);
                List<RuleDefinition> definitions = e.getValue() == null ? List.of() : e.getValue();
                for (int i = 0; i < definitions.size(); i++) {
                    String rulePath = where.apply(name, i);
                    RuleDefinition rd = definitions.get(i);
                    if (rd == null) {
                        throw new InvalidRuleException(rulePath, null, "empty rule");
                    }
                    checkNotEmpty(rd.prefixes(), rd.ports(), rulePath);
                    for (int q = 0; q < rd.ports().size(); q++) {
                        if (rd.ports().get(q) == null) {
                            throw new InvalidRuleException(rulePath + ".ports[" + q + "]", null,
                                    "expected a port (443), a range (8000-8999) or 'all'");
                        }
                    }
                    for (int p = 0; p < rd.prefixes().size(); p++) {
                        Prefix net = rd.prefixes().get(p);
                        String prefixPath = rulePath + ".prefixes[" + p + "]";
                        if (net == null) {
                            throw new InvalidRuleException(prefixPath, null, "empty prefix");
                        }
                        if (net.isIpv4() && !spec.acceptsIpv4()) {
                            throw new InvalidRuleException(prefixPath, net.toString(), familyMismatch(spec, "IPv6-only", "IPv4"));
                        }
                        if (!net.isIpv4() && !spec.acceptsIpv6()) {
                            throw new InvalidRuleException(prefixPath, net.toString(), familyMismatch(spec, "IPv4", "IPv6"));
                        }
                        for (PortSpec portSpec : rd.ports()) {
                            rules.add(new SteeringRule(spec.protocol(), net, portSpec, name, rulePath));
                        }
                    }
                }
            }
            RuleSet set = RuleSet.of(rules);
            if (set.size() > maxRules) {
                throw new RuleCapacityException(null, maxRules, "the listeners define " + set.size() + " rules (prefixes × ports),"
                        + " more than the " + maxRules + " the dispatcher holds");
            }
            // The dispatcher's own limits (prefix lengths, ranges per prefix), checked now so that
            // nothing is bound or changed for rules that cannot run.
            DispatchTables.checkLimits(set);
            return set;
        }

        private static ListenerSpec checkListener(Map<String, ListenerSpec> listeners, String name,
                java.util.function.BiFunction<String, Integer, String> where) {
            ListenerSpec spec = listeners.get(name);
            if (spec == null) {
                throw new InvalidRuleException(where.apply(name, 0), name, "no listener named '" + name + "' (listeners: "
                        + listeners.keySet() + ")");
            }
            return spec;
        }

        private static void checkNotEmpty(List<?> prefixes, List<?> ports, String rulePath) {
            if (prefixes == null || prefixes.isEmpty()) {
                throw new InvalidRuleException(rulePath + ".prefixes", null, "a rule needs at least one prefix");
            }
            if (ports == null || ports.isEmpty()) {
                throw new InvalidRuleException(rulePath + ".ports", null, "a rule needs at least one port, range or 'all'");
            }
        }

        private static String familyMismatch(ListenerSpec spec, String bound, String refused) {
            String address = spec.bind().getAddress().getHostAddress();
            if (spec.adopted()) {
                return "listener '" + spec.name() + "' takes " + spec.adoptedFrom() + "'s socket, bound to the " + bound
                        + " address " + address + " (" + spec.bindOrigin() + "); " + refused + " traffic cannot reach it";
            }
            return "listener '" + spec.name() + "' binds the " + bound + " address " + address + " (" + spec.bindOrigin()
                    + "); " + refused + " traffic cannot reach it (leave bind unset: the default socket serves both)";
        }

        /** {@code 127.0.0.1}, {@code 127.0.0.1:9000}, {@code [::1]:0}, {@code ::1}; port defaults to 0. */
        static InetSocketAddress bind(String text, String path) {
            if (text == null || text.isBlank()) {
                return null;
            }
            String t = text.trim();
            String host = t;
            int port = 0;
            if (t.startsWith("[")) {
                int close = t.indexOf(']');
                if (close < 0) {
                    throw new InvalidRuleException(path, text, "missing ']'");
                }
                host = t.substring(1, close);
                String rest = t.substring(close + 1);
                if (!rest.isEmpty()) {
                    port = port(rest.startsWith(":") ? rest.substring(1) : rest, path, text);
                }
            } else if (t.indexOf(':') == t.lastIndexOf(':') && t.contains(":")) {
                host = t.substring(0, t.indexOf(':'));
                port = port(t.substring(t.indexOf(':') + 1), path, text);
            }
            Prefix address = Prefix.parse(host, path);
            InetAddress ip = address.inetAddress();
            if (host.contains(":") && ip instanceof Inet4Address) {
                throw new InvalidRuleException(path, text, "unexpected");
            }
            return new InetSocketAddress(ip, port);
        }

        private static int port(String text, String path, String whole) {
            if (!text.matches("[0-9]{1,5}") || Integer.parseInt(text) > 65535) {
                throw new InvalidRuleException(path, whole, "port must be 0 to 65535");
            }
            return Integer.parseInt(text);
        }
    }
}
