package io.sksteer.engine;

import io.sksteer.bpf.BoundSocket;
import io.sksteer.bpf.Sockets;
import io.sksteer.bpf.sklookup.Protocol;
import io.sksteer.steering.InvalidRuleException;
import io.sksteer.steering.RuleIndex;
import io.sksteer.steering.RuleScope;
import io.sksteer.steering.SteeringRule;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;

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
            List<RuleScope> allowed, Set<Long> ourReplySockets, Supplier<Set<Long>> peerSocketInodes) {
        if (rules.isEmpty() || inventory.isEmpty()) {
            return;
        }
        // Reply sockets are bound to steered addresses by design: ours (by cookie), and another
        // sksteer instance's in this namespace during a rolling restart (by the inodes its
        // process holds, read only if some socket needs it), are not services to protect.
        Set<Long> peers = null;
        List<BoundSocket> services = new ArrayList<>(inventory.size());
        for (BoundSocket s : inventory) {
            boolean candidate = s.protocol() == Sockets.IPPROTO_UDP && !s.wildcard() && !listenerOfCookie.containsKey(s.cookie());
            if (candidate && ourReplySockets.contains(s.cookie())) {
                continue;
            }
            if (candidate) {
                peers = peers != null ? peers : peerSocketInodes.get();
                if (peers.contains(s.inode())) {
                    continue;
                }
            }
            services.add(s);
        }
        RuleIndex index = RuleIndex.of(rules);
        Map<Protocol, List<SteeringRule>> byProtocol = new HashMap<>();
        for (SteeringRule r : rules) {
            byProtocol.computeIfAbsent(r.protocol(), k -> new ArrayList<>()).add(r);
        }
        for (BoundSocket s : services) {
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
