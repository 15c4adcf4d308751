package io.sksteer.steering;

import io.sksteer.bpf.sklookup.Protocol;

/**
 * A region of traffic: a protocol (or both), a destination network and destination ports,
 * optionally for one listener. It bounds rules: the ceiling of live changes is a list of scopes,
 * and so is the permission to shadow other sockets.
 *
 * @param protocol TCP or UDP, or {@code null} for both
 * @param prefix the destination network
 * @param ports the destination ports
 * @param listener the listener it is for, or {@code null} for every listener
 * @param origin where it was written, for messages
 */
public record RuleScope(Protocol protocol, Prefix prefix, PortSpec ports, String listener, String origin) {

    /** Whether all of {@code rule}'s traffic lies in this scope (and the rule's listener is this scope's, if it names one). */
    public boolean covers(SteeringRule rule) {
        return (protocol == null || protocol == rule.protocol()) && (listener == null || listener.equals(rule.listener()))
                && prefix.covers(rule.prefix()) && ports.first() <= rule.ports().first() && rule.ports().last() <= ports.last();
    }

    /** The scope of exactly one rule's traffic, for that rule's listener. */
    public static RuleScope of(SteeringRule rule) {
        return new RuleScope(rule.protocol(), rule.prefix(), rule.ports(), rule.listener(), rule.origin());
    }

    /** {@code tcp 127.77.0.0/16 port 80-443 (web)}, {@code tcp+udp 10.0.0.0/8 port all}. */
    public String describe() {
        return (protocol == null ? "tcp+udp" : protocol.name().toLowerCase(java.util.Locale.ROOT)) + " " + prefix + " port " + ports
                + (listener == null ? "" : " (" + listener + ")");
    }
}
