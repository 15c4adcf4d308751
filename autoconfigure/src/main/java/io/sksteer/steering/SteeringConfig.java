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
 * to do when a listener's socket is gone. {@link Builder} turns the user's text into one, failing
 * with an {@link InvalidRuleException} that names the property, the value and the problem.
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
     * The rules of one listener, as written.
     *
     * @param allowShadowing whether these rules may capture traffic that a socket other than the
     *     listener's own is bound to (configuration only; live changes cannot grant it)
     */
    public record RuleText(List<String> prefixes, List<String> ports, boolean allowShadowing) {

        public RuleText(List<String> prefixes, List<String> ports) {
            this(prefixes, ports, false);
        }
    }

    /**
     * One listener as written.
     *
     * @param adoptedFrom {@code null} when sksteer binds the socket, else who gives it (e.g. "the
     *     web server"); {@code bind} is then the address that socket binds, if known
     * @param bindOrigin where {@code bind} was written, for messages; {@code null}: the listener's own {@code bind}
     */
    public record ListenerText(String protocol, String bind, int backlog, boolean reusePort, List<RuleText> rules,
            String adoptedFrom, String bindOrigin) {

        /** A listener whose socket sksteer binds. */
        public ListenerText(String protocol, String bind, int backlog, boolean reusePort, List<RuleText> rules) {
            this(protocol, bind, backlog, reusePort, rules, null, null);
        }
    }

    /** Collects the configuration as text, then validates it whole. */
    public static final class Builder {
        private final String prefix;
        private String netns = "/proc/self/ns/net";
        private String onMissingSocket = "drop";
        private int maxRules = 4096;
        private final Map<String, ListenerText> listeners = new LinkedHashMap<>();

        /** @param prefix the property prefix for messages, e.g. {@code sksteer} */
        public Builder(String prefix) {
            this.prefix = prefix;
        }

        public Builder netns(String netns) {
            this.netns = netns;
            return this;
        }

        public Builder onMissingSocket(String policy) {
            this.onMissingSocket = policy;
            return this;
        }

        public Builder maxRules(int maxRules) {
            this.maxRules = maxRules;
            return this;
        }

        public Builder listener(String name, ListenerText listener) {
            listeners.put(name, listener);
            return this;
        }

        /**
         * @throws InvalidRuleException for the first problem found
         */
        public SteeringConfig build() {
            if (netns == null || netns.isBlank()) {
                throw new InvalidRuleException(prefix + ".netns", netns, "must name a network namespace file, e.g. /proc/self/ns/net");
            }
            boolean drop = switch (onMissingSocket == null ? "" : onMissingSocket.trim().toLowerCase(Locale.ROOT)) {
                case "drop" -> true;
                case "pass" -> false;
                default -> throw new InvalidRuleException(prefix + ".on-missing-socket", onMissingSocket, "must be 'drop' or 'pass'");
            };
            if (maxRules < 1 || maxRules > 1 << 22) {
                throw new InvalidRuleException(prefix + ".max-rules", Integer.toString(maxRules), "must be from 1 to " + (1 << 22));
            }
            Map<String, ListenerSpec> specs = new LinkedHashMap<>();
            Map<String, List<RuleText>> ruleTexts = new LinkedHashMap<>();
            for (Map.Entry<String, ListenerText> e : listeners.entrySet()) {
                String name = e.getKey();
                ListenerText text = e.getValue();
                String path = prefix + ".listeners." + name;
                if (name.isBlank()) {
                    throw new InvalidRuleException(path, name, "listener names must not be blank");
                }
                Protocol protocol = protocol(text.protocol(), path + ".protocol");
                String bindOrigin = text.bindOrigin() != null ? text.bindOrigin() : path + ".bind";
                InetSocketAddress bind = bind(text.bind(), bindOrigin);
                if (text.backlog() < 1) {
                    throw new InvalidRuleException(path + ".backlog", Integer.toString(text.backlog()), "must be positive");
                }
                if (text.adoptedFrom() != null && protocol != Protocol.TCP) {
                    throw new InvalidRuleException(path + ".protocol", text.protocol(), "listener '" + name + "' takes "
                            + text.adoptedFrom() + "'s socket, which is TCP: the protocol must be 'tcp'");
                }
                specs.put(name, new ListenerSpec(name, protocol, bind, text.backlog(), text.reusePort(), path,
                        text.adoptedFrom(), bindOrigin));
                ruleTexts.put(name, text.rules() == null ? List.of() : text.rules());
            }
            RuleSet set = rules(specs, ruleTexts, maxRules, (listener, i) -> prefix + ".listeners." + listener + ".rules[" + i + "]",
                    prefix + ".max-rules");
            // Entries written with allow-shadowing, by the path their rules carry as origin.
            java.util.Set<String> allowing = new java.util.HashSet<>();
            ruleTexts.forEach((listener, texts) -> {
                for (int i = 0; i < texts.size(); i++) {
                    if (texts.get(i) != null && texts.get(i).allowShadowing()) {
                        allowing.add(prefix + ".listeners." + listener + ".rules[" + i + "]");
                    }
                }
            });
            List<RuleScope> shadowing = new ArrayList<>();
            for (SteeringRule r : set.rules()) {
                if (allowing.contains(r.origin())) {
                    shadowing.add(RuleScope.of(r));
                }
            }
            return new SteeringConfig(Path.of(netns), drop, maxRules, specs, set, shadowing);
        }

        /**
         * Parses and validates rules over known listeners: every prefix and port, the families a
         * listener's socket can take, conflicts, and the dispatcher's limits.
         *
         * @param listeners the listeners, by name
         * @param rulesByListener the rules as written, by listener name
         * @param maxRules capacity of the dispatcher
         * @param where the property path of rule {@code i} of a listener, for messages
         * @param limitProperty the property that holds {@code maxRules}, for messages
         * @throws InvalidRuleException for the first problem found
         */
        public static RuleSet rules(Map<String, ListenerSpec> listeners, Map<String, List<RuleText>> rulesByListener,
                int maxRules, java.util.function.BiFunction<String, Integer, String> where, String limitProperty) {
            List<SteeringRule> rules = new ArrayList<>();
            for (Map.Entry<String, List<RuleText>> e : rulesByListener.entrySet()) {
                String name = e.getKey();
                ListenerSpec spec = listeners.get(name);
                if (spec == null) {
                    throw new InvalidRuleException(where.apply(name, 0), name, "no listener named '" + name + "' (listeners: "
                            + listeners.keySet() + ")");
                }
                List<RuleText> ruleTexts = e.getValue() == null ? List.of() : e.getValue();
                for (int i = 0; i < ruleTexts.size(); i++) {
                    String rulePath = where.apply(name, i);
                    RuleText rt = ruleTexts.get(i);
                    if (rt == null) {
                        throw new InvalidRuleException(rulePath, null, "empty rule");
                    }
                    List<String> prefixes = rt.prefixes() == null ? List.of() : rt.prefixes();
                    List<String> ports = rt.ports() == null ? List.of() : rt.ports();
                    if (prefixes.isEmpty()) {
                        throw new InvalidRuleException(rulePath + ".prefixes", null, "a rule needs at least one prefix");
                    }
                    if (ports.isEmpty()) {
                        throw new InvalidRuleException(rulePath + ".ports", null, "a rule needs at least one port, range or 'all'");
                    }
                    // Each port spec parsed once per rule, not once per prefix.
                    List<PortSpec> portSpecs = new ArrayList<>(ports.size());
                    for (int q = 0; q < ports.size(); q++) {
                        portSpecs.add(PortSpec.parse(ports.get(q), rulePath + ".ports[" + q + "]"));
                    }
                    for (int p = 0; p < prefixes.size(); p++) {
                        String prefixPath = rulePath + ".prefixes[" + p + "]";
                        Prefix net = Prefix.parse(prefixes.get(p), prefixPath);
                        if (net.isIpv4() && !spec.acceptsIpv4()) {
                            throw new InvalidRuleException(prefixPath, prefixes.get(p), familyMismatch(spec, "IPv6-only", "IPv4"));
                        }
                        if (!net.isIpv4() && !spec.acceptsIpv6()) {
                            throw new InvalidRuleException(prefixPath, prefixes.get(p), familyMismatch(spec, "IPv4", "IPv6"));
                        }
                        for (PortSpec portSpec : portSpecs) {
                            rules.add(new SteeringRule(spec.protocol(), net, portSpec, name, rulePath));
                        }
                    }
                }
            }
            RuleSet set = RuleSet.of(rules);
            if (set.size() > maxRules) {
                throw new InvalidRuleException(limitProperty, Integer.toString(maxRules), "the listeners define "
                        + set.size() + " rules (prefixes × ports); raise " + limitProperty);
            }
            // The dispatcher's own limits (prefix lengths, ranges per prefix), checked now so that
            // nothing is bound or changed for rules that cannot run.
            DispatchTables.checkLimits(set);
            return set;
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

        /** {@code tcp} or {@code udp}, case ignored. @throws InvalidRuleException naming {@code path} otherwise */
        public static Protocol protocol(String text, String path) {
            String t = text == null ? "" : text.trim().toLowerCase(Locale.ROOT);
            return switch (t) {
                case "tcp" -> Protocol.TCP;
                case "udp" -> Protocol.UDP;
                default -> throw new InvalidRuleException(path, text, "must be 'tcp' or 'udp'");
            };
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
