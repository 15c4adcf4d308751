package io.sksteer.steering;

import io.sksteer.bpf.sklookup.Protocol;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Collection;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A validated set of rules in precedence order. Building one rejects conflicts: two listeners of
 * the same protocol claiming the same prefix with port specs of the same kind that overlap (the
 * same port, intersecting ranges, or both {@code all}). Rules repeated within one listener are
 * kept once.
 */
public final class RuleSet {

    private final List<SteeringRule> rules;

    private RuleSet(List<SteeringRule> rules) {
        this.rules = List.copyOf(rules);
    }

    public static RuleSet empty() {
        return new RuleSet(List.of());
    }

    /**
     * @throws InvalidRuleException naming both rules of the first conflict found
     */
    public static RuleSet of(List<SteeringRule> rules) {
        // First occurrence wins (its origin is the one messages name); linear in the rule count.
        Map<RuleIdentity, SteeringRule> byIdentity = new java.util.LinkedHashMap<>();
        for (SteeringRule r : rules) {
            byIdentity.putIfAbsent(r.identity(), r);
        }
        List<SteeringRule> unique = new ArrayList<>(byIdentity.values());
        checkConflicts(unique);
        unique.sort(SteeringRule.PRECEDENCE);
        return new RuleSet(unique);
    }

    /**
     * {@code in} less {@code removed} (rules of {@code in}) plus {@code added} (rules not in
     * {@code in}), in precedence order; the caller has checked that they do not conflict.
     */
    static RuleSet merged(RuleSet in, Collection<SteeringRule> removed, Collection<SteeringRule> added) {
        // Positions by galloping search from the previous one, the changes taken in order:
        // comparing every rule in force would read each one from memory, which costs more.
        List<SteeringRule> old = in.rules;
        BitSet gone = new BitSet(old.size());
        List<SteeringRule> leaving = new ArrayList<>(removed);
        leaving.sort(SteeringRule.PRECEDENCE);
        int from = 0;
        for (SteeringRule r : leaving) {
            from = lowerBound(old, r, from);
            int at = from;
            while (at < old.size() && SteeringRule.PRECEDENCE.compare(old.get(at), r) == 0 && !old.get(at).sameAs(r)) {
                at++;
            }
            if (at == old.size() || !old.get(at).sameAs(r)) {
                throw new IllegalArgumentException("not in the rule set: " + r.describe());
            }
            gone.set(at);
        }
        List<SteeringRule> incoming = new ArrayList<>(added);
        incoming.sort(SteeringRule.PRECEDENCE);
        List<SteeringRule> out = new ArrayList<>(old.size() - removed.size() + added.size());
        int i = 0;
        for (SteeringRule r : incoming) {
            int at = lowerBound(old, r, i);
            for (; i < at; i++) {
                if (!gone.get(i)) {
                    out.add(old.get(i));
                }
            }
            out.add(r);
        }
        for (; i < old.size(); i++) {
            if (!gone.get(i)) {
                out.add(old.get(i));
            }
        }
        return new RuleSet(out);
    }

    /** The first index at or after {@code from} whose rule does not precede {@code r}. */
    private static int lowerBound(List<SteeringRule> sorted, SteeringRule r, int from) {
        int n = sorted.size();
        int step = 1;
        int lo = from;
        int hi = from;
        while (hi < n && SteeringRule.PRECEDENCE.compare(sorted.get(hi), r) < 0) {
            lo = hi + 1;
            hi = from + step;
            step *= 2;
        }
        hi = Math.min(hi, n);
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (SteeringRule.PRECEDENCE.compare(sorted.get(mid), r) < 0) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo;
    }

    static void checkConflicts(List<SteeringRule> rules) {
        record Group(Protocol protocol, Prefix prefix, int rank) {
        }
        Map<Group, List<SteeringRule>> groups = new HashMap<>();
        for (SteeringRule r : rules) {
            groups.computeIfAbsent(new Group(r.protocol(), r.prefix(), r.ports().rank()), g -> new ArrayList<>()).add(r);
        }
        for (List<SteeringRule> group : groups.values()) {
            if (group.size() < 2) {
                continue;
            }
            // Merge each listener's specs first (a listener may overlap itself); any overlap left
            // is between two listeners, and one is found among neighbours sorted by first port.
            List<SteeringRule> merged = new ArrayList<>();
            Map<String, List<SteeringRule>> byListener = new HashMap<>();
            group.forEach(r -> byListener.computeIfAbsent(r.listener(), l -> new ArrayList<>()).add(r));
            for (List<SteeringRule> own : byListener.values()) {
                own.sort(Comparator.comparingInt(r -> r.ports().first()));
                SteeringRule current = own.get(0);
                int last = current.ports().last();
                for (SteeringRule r : own.subList(1, own.size())) {
                    if (r.ports().first() <= last) {
                        last = Math.max(last, r.ports().last());
                    } else {
                        merged.add(withLast(current, last));
                        current = r;
                        last = r.ports().last();
                    }
                }
                merged.add(withLast(current, last));
            }
            merged.sort(Comparator.comparingInt(r -> r.ports().first()));
            for (int i = 1; i < merged.size(); i++) {
                SteeringRule a = merged.get(i - 1);
                SteeringRule b = merged.get(i);
                if (a.ports().overlaps(b.ports())) {
                    SteeringRule first = original(group, a);
                    SteeringRule second = original(group, b);
                    throw new InvalidRuleException(second.origin(), null, "conflicts with " + first.origin()
                            + ": listeners '" + first.listener() + "' and '" + second.listener() + "' both claim "
                            + first.protocol().name().toLowerCase() + " " + first.prefix() + " port "
                            + overlap(first.ports(), second.ports()) + " at the same precedence");
                }
            }
        }
    }

    private static SteeringRule withLast(SteeringRule r, int last) {
        PortSpec p = r.ports();
        PortSpec widened = p instanceof PortSpec.Range && last != p.last() ? new PortSpec.Range(p.first(), last) : p;
        return new SteeringRule(r.protocol(), r.prefix(), widened, r.listener(), r.origin());
    }

    /** The rule as written that a merged span started from. */
    private static SteeringRule original(List<SteeringRule> group, SteeringRule merged) {
        return group.stream().filter(r -> r.listener().equals(merged.listener()) && r.ports().first() == merged.ports().first())
                .findFirst().orElse(merged);
    }

    private static String overlap(PortSpec a, PortSpec b) {
        if (a instanceof PortSpec.All) {
            return "all";
        }
        int first = Math.max(a.first(), b.first());
        int last = Math.min(a.last(), b.last());
        return first == last ? Integer.toString(first) : first + "-" + last;
    }

    /** The rules, most specific first. */
    public List<SteeringRule> rules() {
        return rules;
    }

    public int size() {
        return rules.size();
    }

    /**
     * The rule that wins for traffic of {@code protocol} to {@code address}:{@code port}: the
     * longest matching prefix, then single port over range over all. The reference the generated
     * dispatcher is tested against.
     */
    public Optional<SteeringRule> resolve(Protocol protocol, byte[] address, int port) {
        // rules() is in precedence order, so the first match wins.
        for (SteeringRule r : rules) {
            if (r.matches(protocol, address, port)) {
                return Optional.of(r);
            }
        }
        return Optional.empty();
    }
}
