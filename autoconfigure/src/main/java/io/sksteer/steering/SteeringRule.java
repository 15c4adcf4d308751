package io.sksteer.steering;

import io.sksteer.bpf.sklookup.Protocol;
import java.util.Comparator;
import java.util.Objects;

/**
 * One steering decision: traffic of {@code protocol} to an address in {@code prefix} on a port in
 * {@code ports} goes to the listener named {@code listener}.
 *
 * @param protocol TCP or UDP
 * @param prefix the destination network
 * @param ports the destination ports
 * @param listener the listener's name
 * @param origin where the rule was written (a property path), for messages
 */
public record SteeringRule(Protocol protocol, Prefix prefix, PortSpec ports, String listener, String origin) {

    /**
     * Precedence: longer prefix first; at equal prefix single port, then range, then all. Ties
     * (which only rules of one listener can have) are ordered by address, protocol and port.
     */
    public static final Comparator<SteeringRule> PRECEDENCE = SteeringRule::comparePrecedence;

    // Written out rather than chained from Comparator.comparing: live changes sort and merge
    // large rule sets, and the chained form boxes every key it compares.
    private static int comparePrecedence(SteeringRule a, SteeringRule b) {
        int c = Boolean.compare(!a.prefix.isIpv4(), !b.prefix.isIpv4());
        if (c == 0) {
            c = Integer.compare(b.prefix.length(), a.prefix.length());
        }
        if (c == 0) {
            c = a.ports.compareTo(b.ports);
        }
        if (c == 0) {
            c = a.prefix.compareTo(b.prefix);
        }
        if (c == 0) {
            c = a.protocol.compareTo(b.protocol);
        }
        return c != 0 ? c : a.listener.compareTo(b.listener);
    }

    public SteeringRule {
        Objects.requireNonNull(protocol, "protocol");
        Objects.requireNonNull(prefix, "prefix");
        Objects.requireNonNull(ports, "ports");
        Objects.requireNonNull(listener, "listener");
        origin = origin == null ? "" : origin;
    }

    /** Whether this rule matches traffic of {@code protocol} to {@code address}:{@code port}. */
    public boolean matches(Protocol protocol, byte[] address, int port) {
        return this.protocol == protocol && prefix.contains(address) && ports.contains(port);
    }

    /**
     * What this rule matches and where it steers. Record equality also compares {@link #origin};
     * the identity does not.
     */
    public RuleIdentity identity() {
        return RuleIdentity.of(this);
    }

    /** The same rule, ignoring where it was written: of the same {@link #identity()}. */
    public boolean sameAs(SteeringRule o) {
        return identity().equals(o.identity());
    }

    /** {@code tcp 127.77.0.0/16 port 80 -> web}. */
    public String describe() {
        return protocol.name().toLowerCase() + " " + prefix + " port " + ports + " -> " + listener;
    }

    @Override
    public String toString() {
        return describe();
    }
}
