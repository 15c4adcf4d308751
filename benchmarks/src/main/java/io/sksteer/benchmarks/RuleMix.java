package io.sksteer.benchmarks;

import io.sksteer.bpf.sklookup.Protocol;
import io.sksteer.steering.PortSpec;
import io.sksteer.steering.Prefix;
import io.sksteer.steering.RuleSet;
import io.sksteer.steering.SteeringRule;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * The rules the benchmarks dispatch over: a few fixed probe rules, which the measured lookups hit,
 * plus filler rules drawn from a seeded generator in a realistic mix. A set of {@code n} rules is
 * the probes plus the first {@code n - probes} fillers, so every size contains the smaller ones'
 * rules and the probes.
 *
 * <p>The filler mix, by share of rules:
 * <pre>
 *   tcp  IPv4 /32  single port  35 %      tcp  IPv6 /128 single port  15 %
 *   tcp  IPv4 /24  single port  10 %      tcp  IPv6 /64  single port   8 %
 *   tcp  IPv4 /24  4-port range  8 %      tcp  IPv6 /64  4-port range  5 %
 *   tcp  IPv4 /32  all           2 %      tcp  IPv6 /64  all           2 %
 *   udp  IPv4 /32  single port  10 %      udp  IPv6 /128 single port   5 %
 * </pre>
 * IPv4 prefixes are spread over 10.0.0.0/8, IPv6 ones over 2001:db8::/32 (one operator's
 * allocation); a quarter of the rules add a port to a prefix drawn before. Single ports are mostly
 * well-known ones (443, 80, 8443, ...), ranges start between 10000 and 60000. Nothing is generated
 * inside 10.77.0.0/22 or 2001:db8:77::/62, where the probes and the near misses live; port 9 is
 * never named, so that a miss can use an uncovered port.
 */
final class RuleMix {

    static final String WEB = "web";
    static final String API = "api";
    static final String DNS = "dns";
    /** The listeners and their SOCKMAP slots. */
    static final Map<String, Integer> SLOTS = Map.of(WEB, 0, API, 1, DNS, 2);

    static final long SEED = 20261122L;

    /** A probe rule and the destination that hits it. */
    record Probe(String name, SteeringRule rule, String address, int port) {
    }

    static final Probe TCP4_32 = probe("hit tcp4 /32 single port", Protocol.TCP, "10.77.1.1/32", "443", WEB, "10.77.1.1", 443);
    static final Probe TCP4_24_RANGE = probe("hit tcp4 /24 port range", Protocol.TCP, "10.77.2.0/24", "8000-8003", API,
            "10.77.2.9", 8002);
    static final Probe TCP6_128 = probe("hit tcp6 /128 single port", Protocol.TCP, "2001:db8:77:1::1/128", "443", WEB,
            "2001:db8:77:1::1", 443);
    static final Probe TCP6_64_RANGE = probe("hit tcp6 /64 port range", Protocol.TCP, "2001:db8:77:2::/64", "8000-8003", API,
            "2001:db8:77:2::9", 8002);
    static final Probe UDP4_32 = probe("hit udp4 /32 single port", Protocol.UDP, "10.77.1.1/32", "53", DNS, "10.77.1.1", 53);

    static final List<Probe> PROBES = List.of(TCP4_32, TCP4_24_RANGE, TCP6_128, TCP6_64_RANGE, UDP4_32);

    private enum Kind {
        TCP4_32_SINGLE(35, Protocol.TCP, true, 32, 0),
        TCP4_24_SINGLE(10, Protocol.TCP, true, 24, 0),
        TCP4_24_RANGE(8, Protocol.TCP, true, 24, 1),
        TCP4_32_ALL(2, Protocol.TCP, true, 32, 2),
        TCP6_128_SINGLE(15, Protocol.TCP, false, 128, 0),
        TCP6_64_SINGLE(8, Protocol.TCP, false, 64, 0),
        TCP6_64_RANGE(5, Protocol.TCP, false, 64, 1),
        TCP6_64_ALL(2, Protocol.TCP, false, 64, 2),
        UDP4_32_SINGLE(10, Protocol.UDP, true, 32, 0),
        UDP6_128_SINGLE(5, Protocol.UDP, false, 128, 0);

        final int percent;
        final Protocol protocol;
        final boolean ipv4;
        final int length;
        final int rank;

        Kind(int percent, Protocol protocol, boolean ipv4, int length, int rank) {
            this.percent = percent;
            this.protocol = protocol;
            this.ipv4 = ipv4;
            this.length = length;
            this.rank = rank;
        }
    }

    private static final int[] TCP_PORTS = {443, 443, 443, 80, 80, 8443, 8080, 22, 25, 587, 993, 3306, 5432, 6379, 9000};
    private static final int[] UDP_PORTS = {53, 53, 443, 123, 5353, 3478};

    private final List<SteeringRule> fillers;

    private RuleMix(List<SteeringRule> fillers) {
        this.fillers = fillers;
    }

    /** Generates {@code count} distinct filler rules from {@link #SEED}. */
    static RuleMix generate(int count) {
        Random random = new Random(SEED);
        Map<String, SteeringRule> unique = new LinkedHashMap<>();
        Map<Kind, List<Prefix>> drawn = new HashMap<>();
        Map<String, Integer> rangesPerPrefix = new HashMap<>();
        int attempts = 0;
        while (unique.size() < count) {
            if (++attempts > count * 4 + 1000) {
                throw new IllegalStateException("the rule generator cannot find " + count + " distinct rules");
            }
            Kind kind = kind(random);
            List<Prefix> earlier = drawn.computeIfAbsent(kind, k -> new ArrayList<>());
            boolean reuse = !earlier.isEmpty() && random.nextInt(4) == 0;
            Prefix prefix = reuse ? earlier.get(random.nextInt(earlier.size())) : newPrefix(kind, random);
            PortSpec ports = ports(kind, random);
            if (ports instanceof PortSpec.Range) {
                // The dispatcher holds at most 16 ranges per prefix; keep well below.
                String key = kind.protocol + " " + prefix;
                if (rangesPerPrefix.merge(key, 1, Integer::sum) > 8) {
                    continue;
                }
            }
            // One listener per prefix, so that no two listeners ever claim the same traffic.
            String listener = kind.protocol == Protocol.UDP ? DNS : (prefix.hashCode() & 1) == 0 ? WEB : API;
            SteeringRule rule = new SteeringRule(kind.protocol, prefix, ports, listener, "mix[" + unique.size() + "]");
            if (unique.putIfAbsent(rule.describe(), rule) == null && !reuse) {
                earlier.add(prefix);
            }
        }
        return new RuleMix(List.copyOf(unique.values()));
    }

    /** The probes plus the first {@code size - probes} fillers. */
    RuleSet withProbes(int size) {
        if (size < PROBES.size()) {
            throw new IllegalArgumentException("a mixed set holds at least the " + PROBES.size() + " probes");
        }
        List<SteeringRule> rules = new ArrayList<>();
        PROBES.forEach(p -> rules.add(p.rule()));
        rules.addAll(fillers(0, size - PROBES.size()));
        return RuleSet.of(rules);
    }

    /** Fillers {@code from} (inclusive) to {@code to} (exclusive). */
    List<SteeringRule> fillers(int from, int to) {
        if (to > fillers.size()) {
            throw new IllegalArgumentException("only " + fillers.size() + " fillers were generated, not " + to);
        }
        return fillers.subList(from, to);
    }

    private static Kind kind(Random random) {
        int r = random.nextInt(100);
        for (Kind k : Kind.values()) {
            r -= k.percent;
            if (r < 0) {
                return k;
            }
        }
        throw new AssertionError("percentages add up to 100");
    }

    private static Prefix newPrefix(Kind kind, Random random) {
        while (true) {
            byte[] a;
            if (kind.ipv4) {
                a = new byte[] {10, (byte) random.nextInt(256), (byte) random.nextInt(256), (byte) random.nextInt(256)};
                if (a[1] == 77 && (a[2] & 0xff) < 4) {
                    continue;
                }
                if (kind.length == 24) {
                    a[3] = 0;
                }
            } else {
                a = new byte[16];
                a[0] = 0x20;
                a[1] = 0x01;
                a[2] = 0x0d;
                a[3] = (byte) 0xb8;
                for (int i = 4; i < (kind.length == 64 ? 8 : 16); i++) {
                    a[i] = (byte) random.nextInt(256);
                }
                if (a[4] == 0 && a[5] == 0x77 && a[6] == 0 && (a[7] & 0xff) < 4) {
                    continue;
                }
            }
            return new Prefix(a, kind.length);
        }
    }

    private static PortSpec ports(Kind kind, Random random) {
        return switch (kind.rank) {
            case 0 -> {
                boolean udp = kind.protocol == Protocol.UDP;
                if (random.nextInt(10) < 7) {
                    int[] common = udp ? UDP_PORTS : TCP_PORTS;
                    yield new PortSpec.Single(common[random.nextInt(common.length)]);
                }
                yield new PortSpec.Single(udp ? 20000 + random.nextInt(10000) : 1024 + random.nextInt(9000));
            }
            case 1 -> {
                int first = 10000 + 4 * random.nextInt(12500);
                yield new PortSpec.Range(first, first + 3);
            }
            default -> PortSpec.ALL;
        };
    }

    private static Probe probe(String name, Protocol protocol, String prefix, String ports, String listener,
            String address, int port) {
        SteeringRule rule = new SteeringRule(protocol, Prefix.parse(prefix, "probe"), PortSpec.parse(ports, "probe"),
                listener, "probe '" + name + "'");
        if (!rule.matches(protocol, Prefix.parse(address, "probe").address(), port)) {
            throw new AssertionError(name + ": " + address + " port " + port + " is not in " + rule);
        }
        return new Probe(name, rule, address, port);
    }
}
