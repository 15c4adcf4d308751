package io.sksteer.netty;

import io.sksteer.bpf.BoundSocket;
import io.sksteer.bpf.Sockets;
import io.sksteer.bpf.sklookup.Protocol;
import io.sksteer.steering.InvalidRuleException;
import io.sksteer.steering.RuleIndex;
import io.sksteer.steering.RuleScope;
import io.sksteer.steering.SteeringRule;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Refuses rules that would take traffic from a socket already bound in the namespace: a
 * listening TCP socket or an unconnected UDP socket of any process (the kernel's inventory, read
 * at each check), the application's own web and management servers included. A rule may cover a
 * socket only when that socket is the rule's own listener's, or when the configuration allows it
 * ({@code allow-shadowing}). Without this, one rule such as {@code 127.0.0.0/8 all} would take
 * every local service's traffic, the actuator's too.
 */
final class ShadowCheck {

    private ShadowCheck() {
    }

    /**
     * @param rules the rules to put in force (all of them, or those a change adds)
     * @param inventory the namespace's bound sockets now
     * @param listenerOfCookie which listener each of our sockets serves, by socket cookie
     * @param allowed where shadowing was allowed by configuration
     * @throws InvalidRuleException naming the first rule that would capture another socket, and that socket
     */
    static void check(Collection<SteeringRule> rules, List<BoundSocket> inventory, Map<Long, String> listenerOfCookie,
            List<RuleScope> allowed, java.util.Set<Long> ourReplySockets, java.util.function.Supplier<java.util.Set<Long>> peerPids) {
        if (rules.isEmpty() || inventory.isEmpty()) {
            return;
        }
        // Reply sockets are bound to steered addresses by design: ours, and another sksteer
        // instance's in this namespace (a rolling restart), are not services to protect.
        java.util.Set<Long>[] peers = new java.util.Set[1];
        inventory = inventory.stream().filter(s -> {
            if (s.protocol() != Sockets.IPPROTO_UDP || s.wildcard()) {
                return true;
            }
            if (ourReplySockets.contains(s.cookie())) {
                return false;
            }
            if (listenerOfCookie.containsKey(s.cookie())) {
                return true;
            }
            if (peers[0] == null) {
                peers[0] = peerPids.get();
            }
            return peers[0].isEmpty() || java.util.Collections.disjoint(peers[0], s.ownerPids());
        }).toList();
        RuleIndex index = RuleIndex.of(rules);
        Map<Protocol, List<SteeringRule>> byProtocol = new HashMap<>();
        for (SteeringRule r : rules) {
            byProtocol.computeIfAbsent(r.protocol(), k -> new java.util.ArrayList<>()).add(r);
        }
        for (BoundSocket s : inventory) {
            Protocol protocol = s.protocol() == Sockets.IPPROTO_TCP ? Protocol.TCP : Protocol.UDP;
            String owner = listenerOfCookie.get(s.cookie());
            int port = s.local().getPort();
            if (!s.wildcard()) {
                // The rule that wins for exactly this address and port.
                Optional<SteeringRule> r = index.match(protocol, s.local().getAddress().getAddress(), port);
                if (r.isPresent()) {
                    refuseUnlessAllowed(r.get(), s, owner, allowed);
                }
                continue;
            }
            // A wildcard socket takes its port on every address of its families: any rule on that port shadows part of it.
            for (SteeringRule r : byProtocol.getOrDefault(protocol, List.of())) {
                boolean family = r.prefix().isIpv4() ? s.family() == Sockets.AF_INET || !s.v6Only() : s.family() == Sockets.AF_INET6;
                if (family && r.ports().contains(port)) {
                    refuseUnlessAllowed(r, s, owner, allowed);
                }
            }
        }
    }

    private static void refuseUnlessAllowed(SteeringRule r, BoundSocket s, String owner, List<RuleScope> allowed) {
        if (r.listener().equals(owner)) {
            return; // the listener's own socket
        }
        for (RuleScope a : allowed) {
            if (a.covers(r)) {
                return;
            }
        }
        throw new InvalidRuleException(r.origin(), r.describe(), "would take traffic from " + s.describe()
                + (owner != null ? ", the socket of listener '" + owner + "'" : ", a socket that is not sksteer's")
                + ", bound there; rules may only steer where no other socket listens, unless the configuration allows it"
                + " (allow-shadowing: true on a configured rule)");
    }
}
