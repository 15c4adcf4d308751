package io.sksteer.engine;

import io.sksteer.bpf.BpfFeatures;
import io.sksteer.bpf.FdStore;
import io.sksteer.bpf.NetnsLink;
import io.sksteer.bpf.NetworkNamespace;
import io.sksteer.bpf.SocketFd;
import io.sksteer.bpf.Sockets;
import io.sksteer.netty.BoundChannel;
import io.sksteer.netty.ListenerHandler;
import io.sksteer.netty.NettyListeners;
import io.sksteer.socket.AdoptedSocket;
import io.sksteer.socket.ListenerSocket;
import io.sksteer.socket.SocketNotFoundException;
import io.sksteer.steering.Dispatcher;
import io.sksteer.steering.InvalidRuleException;
import io.sksteer.steering.ListenerSpec;
import io.sksteer.steering.SteeringConfig;
import io.sksteer.steering.SteeringRule;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The start sequence of a {@link SteeringEngine}, in the order that keeps every lookup on a whole
 * state: listeners, the shadow check, the dispatcher's maps and program, and the attach last. On
 * any failure everything made so far is closed, in reverse, and the failure rethrown with the
 * close failures suppressed.
 */
final class EngineStart {

    private static final System.Logger LOG = System.getLogger(SteeringEngine.class.getName());

    private EngineStart() {
    }

    /** See {@link SteeringEngine#start(SteeringConfig, Map, Map, FdStore)}. */
    static SteeringEngine start(SteeringConfig config, Map<String, ListenerHandler> handlers,
            Map<String, AdoptedSocket> adopted, FdStore store) {
        if (store.storing()) {
            for (ListenerSpec spec : config.listeners().values()) {
                if (!spec.adopted() && !FdStore.validName(spec.name())) {
                    throw new InvalidRuleException(spec.origin(), spec.name(), "a listener kept in the service manager's"
                            + " descriptor store is stored under its name, which must be printable ASCII without ':' (at most 255)");
                }
            }
        }
        for (ListenerSpec spec : config.listeners().values()) {
            if (spec.adopted() ? !adopted.containsKey(spec.name()) : !handlers.containsKey(spec.name())) {
                throw new IllegalArgumentException("listener '" + spec.name() + "' has no " + (spec.adopted() ? "socket" : "handler"));
            }
        }
        NettyListeners.ensureAvailable();
        BpfFeatures.skLookup().ensureAvailable();
        BpfFeatures.sockMap().ensureAvailable();

        List<AutoCloseable> made = new ArrayList<>();
        try {
            NetworkNamespace ns = NetworkNamespace.open(config.netns());
            made.add(ns);
            NettyListeners netty = NettyListeners.open();
            made.add(() -> netty.shutdown(0, SteeringEngine.CLOSE_TIMEOUT.toMillis()));

            // 1. Listeners: bound here, taken over from the descriptor store, or given by the application.
            Map<String, Integer> slots = new LinkedHashMap<>();
            Map<String, SteeredListener> bound = new LinkedHashMap<>();
            int slot = 0;
            for (ListenerSpec spec : config.listeners().values()) {
                slots.put(spec.name(), slot);
                ListenerSocket source;
                if (spec.adopted()) {
                    AdoptedSocket a = adopted.get(spec.name());
                    checkAdopted(spec, a, config, ns);
                    source = a;
                } else {
                    ListenerHandler handler = handlers.get(spec.name());
                    BoundChannel inherited = netty.inherit(spec, store, config, ns, handler);
                    BoundChannel channel = inherited != null ? inherited : netty.bind(spec, handler, ns);
                    made.add(() -> channel.close(SteeringEngine.CLOSE_TIMEOUT.toMillis()));
                    source = channel;
                }
                SocketFd fd = source.socket();
                bound.put(spec.name(), new SteeredListener(spec.name(), spec.protocol(), source, fd, Sockets.cookie(fd), slot));
                slot++;
            }
            // 2. No rule may take the traffic of a socket bound in the namespace that is not its listener's.
            ShadowInventory shadows = new ShadowInventory(ns, bound, config.shadowingAllowed(), netty);
            shadows.check(config.rules().rules(), -1);
            // 3. Maps and program.
            Dispatcher dispatcher = Dispatcher.create(config.rules(), config.maxRules(), slots, config.dropOnMissingSocket());
            made.add(dispatcher);
            for (SteeredListener l : bound.values()) {
                dispatcher.sockets().put(l.slot(), l.socket());
            }
            netty.rulesInForce(dispatcher.rules());
            // 4. Attach, last: or swap the program of the link a previous process left attached.
            NetnsLink link = Inheritance.link(store, ns);
            String how;
            if (link != null) {
                NetnsLink held = link;
                made.add(held);
                int previous = held.info().programId();
                held.update(dispatcher.program());
                how = "swapped into inherited link " + held.id() + " (replacing program " + previous + ")";
            } else {
                link = NetnsLink.attach(dispatcher.program(), ns);
                how = "attached";
            }
            LOG.log(System.Logger.Level.INFO, "sksteer: program " + dispatcher.program().id() + " " + how + " to "
                    + config.netns() + " (link " + link.id() + "), " + config.rules().size() + " rules over "
                    + bound.size() + " listeners" + adoptedSummary(bound) + Inheritance.summary(bound));
            boolean kept = Inheritance.keep(store, link, bound);
            return new SteeringEngine(config, ns, netty, bound, dispatcher, link, shadows, store, kept);
        } catch (RuntimeException | Error e) {
            closeAll(made, e);
            throw e;
        }
    }

    private static String adoptedSummary(Map<String, SteeredListener> listeners) {
        StringBuilder b = new StringBuilder();
        for (SteeredListener l : listeners.values()) {
            if (l.source() instanceof AdoptedSocket a) {
                b.append(b.length() == 0 ? "; " : ", ").append("'").append(l.name()).append("' takes ").append(a);
            }
        }
        return b.toString();
    }

    /**
     * An adopted socket must live in the namespace the program attaches to (the kernel would hand
     * it traffic of another namespace otherwise), listen on TCP, and take every family the
     * listener's rules name.
     */
    private static void checkAdopted(ListenerSpec spec, AdoptedSocket socket, SteeringConfig config, NetworkNamespace ns) {
        try (NetworkNamespace own = NetworkNamespace.ofSocket(socket.socket())) {
            if (own.inode() != ns.inode()) {
                throw new SocketNotFoundException(socket.owner(), "its socket in the namespace steering attaches to ("
                        + config.netns() + ", inode " + ns.inode() + ")", "the socket " + socket.found().describe()
                        + " lives in the network namespace of inode " + own.inode()
                        + ": start the application inside the namespace it steers, or leave sksteer.netns unset");
            }
        }
        for (SteeringRule r : config.rules().rules()) {
            if (!r.listener().equals(spec.name())) {
                continue;
            }
            boolean v4 = r.prefix().isIpv4();
            if (v4 ? !socket.found().takesIpv4() : !socket.found().takesIpv6()) {
                throw new InvalidRuleException(r.origin(), r.prefix().toString(), "listener '"
                        + spec.name() + "' takes " + socket + ", which cannot take " + (v4 ? "IPv4" : "IPv6") + " traffic");
            }
        }
    }

    /** Closes in reverse order of making; failures are added to {@code primary}. */
    private static void closeAll(List<AutoCloseable> made, Throwable primary) {
        for (int i = made.size() - 1; i >= 0; i--) {
            try {
                made.get(i).close();
            } catch (Exception e) {
                primary.addSuppressed(e);
            }
        }
    }
}
