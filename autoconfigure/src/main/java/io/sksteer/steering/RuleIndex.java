package io.sksteer.steering;

import io.sksteer.bpf.sklookup.Protocol;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Finds a rule matching one destination without walking every rule: the rules grouped by
 * protocol, family and prefix length, each group a hash table of networks. A lookup masks the
 * address once per prefix length in use (at most 33 for IPv4, 129 for IPv6), so its cost follows
 * the number of distinct lengths, not the number of rules. Immutable; built from one rule set.
 */
public final class RuleIndex {

    private record Key(long high, long low) {
    }

    /** The rules of one protocol, family and prefix length, by network. */
    private record Level(int length, Map<Key, List<SteeringRule>> byNetwork) {
    }

    private final Map<Protocol, List<Level>> v4 = new HashMap<>();
    private final Map<Protocol, List<Level>> v6 = new HashMap<>();

    private RuleIndex(java.util.Collection<SteeringRule> rules) {
        Map<Protocol, Map<Integer, Map<Key, List<SteeringRule>>>> four = new HashMap<>();
        Map<Protocol, Map<Integer, Map<Key, List<SteeringRule>>>> six = new HashMap<>();
        for (SteeringRule r : rules) {
            Prefix p = r.prefix();
            (p.isIpv4() ? four : six).computeIfAbsent(r.protocol(), k -> new HashMap<>())
                    .computeIfAbsent(p.length(), k -> new HashMap<>())
                    .computeIfAbsent(new Key(p.half(0), p.half(1)), k -> new ArrayList<>(1)).add(r);
        }
        fill(four, v4);
        fill(six, v6);
    }

    private static void fill(Map<Protocol, Map<Integer, Map<Key, List<SteeringRule>>>> in, Map<Protocol, List<Level>> out) {
        in.forEach((protocol, byLength) -> {
            List<Level> levels = new ArrayList<>();
            byLength.forEach((length, networks) -> {
                // One network's rules differ by ports only: single, then range, then all, as precedence orders them.
                networks.values().forEach(list -> list.sort(SteeringRule.PRECEDENCE));
                levels.add(new Level(length, networks));
            });
            // Longest first: the first match found is of the longest matching prefix.
            levels.sort((a, b) -> Integer.compare(b.length(), a.length()));
            out.put(protocol, List.copyOf(levels));
        });
    }

    public static RuleIndex of(RuleSet rules) {
        return new RuleIndex(rules.rules());
    }

    /** An index of {@code rules}, in any order. */
    public static RuleIndex of(java.util.Collection<SteeringRule> rules) {
        return new RuleIndex(rules);
    }

    /**
     * A rule that matches traffic of {@code protocol} to {@code address}:{@code port}, of the
     * longest matching prefix; empty when none does.
     */
    public Optional<SteeringRule> match(Protocol protocol, byte[] address, int port) {
        List<Level> levels = (address.length == 4 ? v4 : v6).get(protocol);
        if (levels == null) {
            return Optional.empty();
        }
        long high = half(address, 0);
        long low = half(address, 1);
        for (Level level : levels) {
            List<SteeringRule> rules = level.byNetwork().get(new Key(high & mask(level.length(), 0), low & mask(level.length(), 1)));
            if (rules != null) {
                for (SteeringRule r : rules) {
                    if (r.ports().contains(port)) {
                        return Optional.of(r);
                    }
                }
            }
        }
        return Optional.empty();
    }

    private static long half(byte[] address, int half) {
        long v = 0;
        for (int i = 8 * half; i < 8 * half + 8; i++) {
            v = v << 8 | (i < address.length ? address[i] & 0xff : 0);
        }
        return v;
    }

    /** The mask of a prefix of {@code length} bits over one half (64 bits) of a 16-byte address. */
    private static long mask(int length, int half) {
        int bits = Math.max(0, Math.min(64, length - 64 * half));
        return bits == 0 ? 0 : -1L << (64 - bits);
    }
}
