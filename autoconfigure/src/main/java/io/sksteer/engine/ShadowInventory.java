package io.sksteer.engine;

import io.sksteer.bpf.BoundSocket;
import io.sksteer.bpf.BpfException;
import io.sksteer.bpf.BpfProgram;
import io.sksteer.bpf.NetworkNamespace;
import io.sksteer.bpf.Sockets;
import io.sksteer.netty.NettyListeners;
import io.sksteer.steering.DispatcherProgram;
import io.sksteer.steering.RuleScope;
import io.sksteer.steering.SteeringRule;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * What the {@link ShadowCheck} checks rules against, read afresh at each check: the sockets bound
 * in the namespace, which of them are our listeners' and our reply sockets, and the sockets of
 * other sksteer instances attached to the same namespace.
 */
final class ShadowInventory {

    private static final System.Logger LOG = System.getLogger(ShadowInventory.class.getName());
    private static final AtomicBoolean INVENTORY_WARNED = new AtomicBoolean();

    private final NetworkNamespace namespace;
    private final Map<Long, String> listenerOfCookie;
    private final List<RuleScope> allowed;
    private final NettyListeners netty;

    ShadowInventory(NetworkNamespace namespace, Map<String, SteeredListener> listeners, List<RuleScope> allowed,
            NettyListeners netty) {
        this.namespace = namespace;
        this.listenerOfCookie = cookies(listeners);
        this.allowed = allowed;
        this.netty = netty;
    }

    /**
     * Refuses {@code rules} if one would take the traffic of a socket bound in the namespace that
     * is not its listener's.
     *
     * @param ours the id of our program attached to the namespace, or -1 before the attach
     * @throws io.sksteer.steering.InvalidRuleException naming the rule and the socket
     */
    void check(Collection<SteeringRule> rules, int ours) {
        ShadowCheck.check(rules, inventory(namespace), listenerOfCookie, allowed, netty.replySockets(),
                () -> peerSocketInodes(namespace, ours));
    }

    /**
     * The inodes of the sockets held by other processes that hold a sksteer dispatcher attached
     * to {@code ns} (other instances of this application), not counting program {@code ours}.
     */
    private static Set<Long> peerSocketInodes(NetworkNamespace ns, int ours) {
        Set<Long> pids = new HashSet<>();
        for (int id : ns.skLookupProgramIds()) {
            if (id == ours) {
                continue;
            }
            try {
                if (BpfProgram.describe(id).map(i -> i.name().equals(DispatcherProgram.NAME)).orElse(false)) {
                    pids.addAll(BpfProgram.holders(id));
                }
            } catch (RuntimeException e) {
                // cannot open programs by id (no CAP_SYS_ADMIN): no peer is recognised
            }
        }
        // Our own process's sockets are told apart by cookie, not by pid.
        pids.remove(ProcessHandle.current().pid());
        Set<Long> inodes = new HashSet<>();
        pids.forEach(pid -> inodes.addAll(Sockets.socketInodesOf(pid)));
        return inodes;
    }

    /**
     * The namespace's bound sockets for the shadow check; none, with a warning logged once, where
     * the kernel cannot list them (sock_diag for inet sockets is the inet_diag, tcp_diag and
     * udp_diag modules, loaded on demand where the system has them).
     */
    private static List<BoundSocket> inventory(NetworkNamespace ns) {
        try {
            return Sockets.bound(ns);
        } catch (BpfException e) {
            if (INVENTORY_WARNED.compareAndSet(false, true)) {
                LOG.log(System.Logger.Level.WARNING, "sksteer: the shadow check is off: the kernel's socket inventory cannot be read ("
                        + e.getMessage() + "); rules are not checked against sockets bound in the namespace");
            }
            return List.of();
        }
    }

    private static Map<Long, String> cookies(Map<String, SteeredListener> listeners) {
        Map<Long, String> out = new HashMap<>();
        listeners.values().forEach(l -> out.put(l.cookie(), l.name()));
        return out;
    }
}
