package io.sksteer.steering;

import io.sksteer.bpf.sklookup.Protocol;

/**
 * A rule's identity: what it matches and where it steers, not where it was written. Two rules
 * of one identity are the same rule (a rule set keeps the first, a change leaves it in force),
 * and a rule's counters and meters belong to its identity.
 *
 * @param protocol TCP or UDP
 * @param prefix the destination network
 * @param ports the destination ports
 * @param listener the listener's name
 */
public record RuleIdentity(Protocol protocol, Prefix prefix, PortSpec ports, String listener) {

    /** The identity of {@code rule}. */
    public static RuleIdentity of(SteeringRule rule) {
        return new RuleIdentity(rule.protocol(), rule.prefix(), rule.ports(), rule.listener());
    }
}
