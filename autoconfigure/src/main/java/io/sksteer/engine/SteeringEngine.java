package io.sksteer.engine;

import io.sksteer.bpf.BpfProgram;
import io.sksteer.bpf.FdStore;
import io.sksteer.bpf.NetnsLink;
import io.sksteer.bpf.NetworkNamespace;
import io.sksteer.netty.ListenerHandler;
import io.sksteer.netty.NettyListeners;
import io.sksteer.socket.AdoptedSocket;
import io.sksteer.steering.Dispatcher;
import io.sksteer.steering.ListenerSpec;
import io.sksteer.steering.RuleSet;
import io.sksteer.steering.SteeringConfig;
import io.sksteer.steering.SteeringRule;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * Steering for one configuration, from start to stop: the composition root above the socket
 * sources (listeners sksteer binds with Netty, sockets the application gives, sockets inherited
 * from a service manager), the dispatcher and the link. {@link #start} binds the listeners, fills
 * the dispatcher's maps, loads its program and attaches it — attaching last, so nothing is
 * steered to a half-built state; on any failure everything made so far is closed ({@link
 * EngineStart}). {@link #close} detaches first, then closes the channels and the event loops.
 */
public final class SteeringEngine implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(SteeringEngine.class.getName());
    static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(10);

    private final SteeringConfig config;
    private final NetworkNamespace namespace;
    private final NettyListeners netty;
    private final Map<String, SteeredListener> listeners;
    private final Dispatcher dispatcher;
    private final NetnsLink link;
    private final ShadowInventory shadows;
    private final FdStore store;
    /** Whether the store holds the link and the bound listeners' sockets: then a stop does not detach. */
    private final boolean kept;
    private final List<Consumer<Dispatcher.RuleChange>> ruleListeners = new CopyOnWriteArrayList<>();
    private boolean closed;

    SteeringEngine(SteeringConfig config, NetworkNamespace namespace, NettyListeners netty,
            Map<String, SteeredListener> listeners, Dispatcher dispatcher, NetnsLink link, ShadowInventory shadows,
            FdStore store, boolean kept) {
        this.config = config;
        this.namespace = namespace;
        this.netty = netty;
        this.listeners = listeners;
        this.dispatcher = dispatcher;
        this.link = link;
        this.shadows = shadows;
        this.store = store;
        this.kept = kept;
    }

    /**
     * Starts steering to listeners that sksteer binds (none of {@code config}'s listeners may be
     * adopted).
     *
     * @see #start(SteeringConfig, Map, Map)
     */
    public static SteeringEngine start(SteeringConfig config, Map<String, ListenerHandler> handlers) {
        return start(config, handlers, Map.of());
    }

    /**
     * Starts steering.
     *
     * @param handlers the pipeline builder of each listener sksteer binds, by name
     * @param adopted the socket of each adopted listener ({@link ListenerSpec#adopted()}), by name
     * @throws io.sksteer.bpf.BpfException when the kernel refuses (privileges, kernel too old)
     * @throws io.sksteer.netty.ListenerBindException when a listener cannot bind
     * @throws io.sksteer.socket.SocketNotFoundException when an adopted socket lives in another namespace
     * @throws io.sksteer.steering.InvalidRuleException when the rules exceed a limit, or ask for a
     *     family an adopted socket cannot take
     */
    public static SteeringEngine start(SteeringConfig config, Map<String, ListenerHandler> handlers,
            Map<String, AdoptedSocket> adopted) {
        return start(config, handlers, adopted, FdStore.none());
    }

    /**
     * Starts steering, taking over what a service manager kept for this service ({@code store}):
     * a listener sksteer binds takes the inherited socket named after it instead of binding one
     * (when it fits: same protocol, listening, in the namespace, at the configured address), and
     * an inherited dispatcher link is given the new program atomically instead of attaching a
     * second one ({@code BPF_LINK_UPDATE}: no lookup sees neither). When {@code store} is storing,
     * the link and those sockets are handed to it once attached, and {@link #close} leaves them
     * attached and open there for the next process.
     *
     * @see #start(SteeringConfig, Map, Map)
     */
    public static SteeringEngine start(SteeringConfig config, Map<String, ListenerHandler> handlers,
            Map<String, AdoptedSocket> adopted, FdStore store) {
        return EngineStart.start(config, handlers, adopted, store);
    }

    public SteeringConfig config() {
        return config;
    }

    /** The listeners by name. */
    public Map<String, SteeredListener> listeners() {
        return listeners;
    }

    public Dispatcher dispatcher() {
        return dispatcher;
    }

    /** The rules in force (the configuration's until {@link #replaceRules} changes them). */
    public RuleSet rules() {
        return dispatcher.rules();
    }

    /**
     * Puts {@code rules} in force without reloading or detaching the program: every lookup sees
     * either the old or the new rules, never a mix, and established connections are untouched.
     *
     * @throws io.sksteer.steering.InvalidRuleException if the rules do not fit; the old ones stay
     * @throws IllegalStateException after {@link #close()}
     */
    public Dispatcher.RuleChange replaceRules(RuleSet rules) {
        Dispatcher.RuleChange change;
        synchronized (this) {
            if (closed) {
                throw new IllegalStateException("steering is stopped");
            }
            shadows.check(rules.rules(), dispatcher.program().id());
            change = dispatcher.apply(rules);
            netty.rulesInForce(dispatcher.rules());
        }
        ruleListeners.forEach(l -> l.accept(change));
        return change;
    }

    /**
     * Removes {@code remove} from the rules in force and adds {@code add}, with the guarantees of
     * {@link #replaceRules} at a cost that follows the size of the change ({@link
     * io.sksteer.steering.Dispatcher#change}).
     *
     * @throws io.sksteer.steering.InvalidRuleException if a rule to remove is not in force or the
     *     result is invalid; the rules in force stay
     * @throws IllegalStateException after {@link #close()}
     */
    public Dispatcher.RuleChange changeRules(Collection<SteeringRule> remove, Collection<SteeringRule> add) {
        Dispatcher.RuleChange change;
        synchronized (this) {
            if (closed) {
                throw new IllegalStateException("steering is stopped");
            }
            shadows.check(add, dispatcher.program().id());
            change = dispatcher.change(remove, add);
            netty.rulesInForce(dispatcher.rules());
        }
        ruleListeners.forEach(l -> l.accept(change));
        return change;
    }

    /**
     * Called after each successful {@link #replaceRules} or {@link #changeRules} with the rules it
     * removed and added ({@link #rules()} holds the rules now in force).
     */
    public void onRulesChanged(Consumer<Dispatcher.RuleChange> listener) {
        ruleListeners.add(listener);
    }

    public NetnsLink link() {
        return link;
    }

    /**
     * "storing" when the link and the bound listeners' sockets are kept in the service manager's
     * descriptor store (a stop then leaves them attached and open), else what the store is.
     */
    public String descriptorStore() {
        if (kept) {
            return "storing";
        }
        return store.storing() ? "unavailable: the service manager did not take the descriptors (see the log)" : store.state();
    }

    /** UDP replies not sent because the rules would have steered them back to our listeners (a loop). */
    public long loopedRepliesRefused() {
        return netty.loopedRepliesRefused();
    }

    public NetworkNamespace namespace() {
        return namespace;
    }

    /**
     * Stops steering with {@link Drain#DEFAULT}.
     *
     * @see #close(Drain)
     */
    @Override
    public void close() {
        close(Drain.DEFAULT);
    }

    /**
     * Stops steering: detaches the program and waits for lookups in flight, lets the TCP
     * listeners accept what already waits in their accept queues ({@code drain}), closes the
     * dispatcher, then closes the listeners sksteer bound (accepted connections finish as the
     * event loops shut down gracefully) and the namespace handle. An adopted socket is left open
     * for its owner, which still accepts while this runs: the web server stops after steering.
     * Idempotent.
     */
    public synchronized void close(Drain drain) {
        if (closed) {
            return;
        }
        closed = true;
        List<AutoCloseable> order = new ArrayList<>();
        if (!kept) {
            order.add(() -> {
                if (link.info().attached()) {
                    link.detach();
                }
                // No lookup that began before the detach still runs the program after this.
                BpfProgram.awaitRunsInFlight();
            });
            order.add(() -> drain.awaitAcceptQueues(listeners.values()));
        }
        // Kept in a descriptor store, the link stays attached and the listeners' sockets stay
        // open there when ours close: what arrives now waits in their queues for the next process.
        order.add(link);
        order.add(dispatcher);
        for (SteeredListener l : listeners.values()) {
            order.add(() -> l.source().close(CLOSE_TIMEOUT.toMillis()));
        }
        order.add(() -> netty.shutdown(100, CLOSE_TIMEOUT.toMillis()));
        order.add(namespace);
        RuntimeException failure = new IllegalStateException("sksteer did not stop cleanly");
        for (AutoCloseable c : order) {
            try {
                c.close();
            } catch (Exception e) {
                failure.addSuppressed(e);
            }
        }
        if (failure.getSuppressed().length > 0) {
            throw failure;
        }
        LOG.log(System.Logger.Level.INFO, !kept ? "sksteer: detached and closed"
                : "sksteer: closed; the link and the listener sockets stay attached and open in the service manager's descriptor store");
    }
}
