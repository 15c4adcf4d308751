package io.sksteer.netty;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.socket.SocketProtocolFamily;
import io.sksteer.bpf.BpfFeatures;
import io.sksteer.bpf.FdStore;
import io.sksteer.bpf.NetnsLink;
import io.sksteer.bpf.NetworkNamespace;
import io.sksteer.bpf.SocketFd;
import io.sksteer.bpf.Sockets;
import io.sksteer.bpf.sklookup.Protocol;
import io.sksteer.steering.Dispatcher;
import io.sksteer.steering.ListenerSpec;
import io.sksteer.steering.RuleSet;
import io.sksteer.steering.SteeringConfig;
import io.sksteer.steering.SteeringRule;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Steering for one configuration, from start to stop. {@link #start} binds the listeners, fills the
 * dispatcher's maps, loads its program and attaches it — attaching last, so nothing is steered to a
 * half-built state; on any failure everything made so far is closed. {@link #close} detaches
 * first, then closes the channels and the event loops.
 */
public final class SteeringEngine implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(SteeringEngine.class.getName());
    private static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(10);
    private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress() instanceof java.net.Inet4Address l
            ? l : loopback4();

    private static InetAddress loopback4() {
        try {
            return InetAddress.getByAddress(new byte[] {127, 0, 0, 1});
        } catch (java.net.UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }

    private final SteeringConfig config;
    private final NetworkNamespace namespace;
    private final EventLoopGroup group;
    private final Map<String, SteeredListener> listeners;
    private final Dispatcher dispatcher;
    private final NetnsLink link;
    private boolean closed;
    private final List<Consumer<Dispatcher.RuleChange>> ruleListeners = new CopyOnWriteArrayList<>();

    private final UdpLoopGuard loopGuard;
    private final ReplySocketRegistry replySockets;
    private final FdStore store;
    /** Whether the store holds the link and the bound listeners' sockets: then a stop does not detach. */
    private final boolean kept;

    private SteeringEngine(SteeringConfig config, NetworkNamespace namespace, EventLoopGroup group,
            Map<String, SteeredListener> listeners, Dispatcher dispatcher, NetnsLink link, UdpLoopGuard loopGuard,
            ReplySocketRegistry replySockets, FdStore store, boolean kept) {
        this.store = store;
        this.kept = kept;
        this.loopGuard = loopGuard;
        this.replySockets = replySockets;
        this.config = config;
        this.namespace = namespace;
        this.group = group;
        this.listeners = listeners;
        this.dispatcher = dispatcher;
        this.link = link;
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
     * @throws ListenerBindException when a listener cannot bind
     * @throws SocketNotFoundException when an adopted socket lives in another namespace
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
        if (store.storing()) {
            for (ListenerSpec spec : config.listeners().values()) {
                if (!spec.adopted() && !FdStore.validName(spec.name())) {
                    throw new io.sksteer.steering.InvalidRuleException(spec.origin(), spec.name(), "a listener kept in the service manager's"
                            + " descriptor store is stored under its name, which must be printable ASCII without ':' (at most 255)");
                }
            }
        }
        for (ListenerSpec spec : config.listeners().values()) {
            if (spec.adopted() ? !adopted.containsKey(spec.name()) : !handlers.containsKey(spec.name())) {
                throw new IllegalArgumentException("listener '" + spec.name() + "' has no " + (spec.adopted() ? "socket" : "handler"));
            }
        }
        if (!Epoll.isAvailable()) {
            throw new EpollUnavailableException(Epoll.unavailabilityCause());
        }
        BpfFeatures.skLookup().ensureAvailable();
        BpfFeatures.sockMap().ensureAvailable();

        List<AutoCloseable> made = new ArrayList<>();
        NetworkNamespace ns = null;
        EventLoopGroup group = null;
        try {
            ns = NetworkNamespace.open(config.netns());
            made.add(ns);
            group = new MultiThreadIoEventLoopGroup(EpollIoHandler.newFactory());
            EventLoopGroup g = group;
            made.add(() -> g.shutdownGracefully(0, CLOSE_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
                    .awaitUninterruptibly(CLOSE_TIMEOUT.toMillis() * 2));

            UdpLoopGuard loopGuard = new UdpLoopGuard();
            ReplySocketRegistry replySockets = new ReplySocketRegistry();
            // 1. Listeners: bound here, or given by the application.
            Map<String, Integer> slots = new LinkedHashMap<>();
            Map<String, SteeredListener> bound = new LinkedHashMap<>();
            boolean ipv6 = ipv6Available();
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
                    Channel inherited = Inheritance.listener(spec, store, config, ns, group, handler, loopGuard, replySockets);
                    Channel channel = inherited != null ? inherited : bind(spec, handler, ns, group, ipv6, loopGuard, replySockets);
                    made.add(() -> channel.close().awaitUninterruptibly(CLOSE_TIMEOUT.toMillis()));
                    source = new BoundChannel(channel, inherited != null);
                }
                SocketFd fd = source.socket();
                bound.put(spec.name(), new SteeredListener(spec.name(), spec.protocol(), source, fd, Sockets.cookie(fd), slot));
                slot++;
            }
            // 2. No rule may take the traffic of a socket bound in the namespace that is not its listener's.
            NetworkNamespace attachTo = ns;
            ShadowCheck.check(config.rules().rules(), inventory(ns), cookies(bound), config.shadowingAllowed(),
                    replySockets.snapshot(), () -> peerSocketInodes(attachTo, -1));
            // 3. Maps and program.
            Dispatcher dispatcher = Dispatcher.create(config.rules(), config.maxRules(), slots, config.dropOnMissingSocket());
            made.add(dispatcher);
            for (SteeredListener l : bound.values()) {
                dispatcher.sockets().put(l.slot(), l.socket());
            }
            loopGuard.rulesInForce(dispatcher.rules());
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
            return new SteeringEngine(config, ns, group, bound, dispatcher, link, loopGuard, replySockets, store, kept);
        } catch (RuntimeException | Error e) {
            closeAll(made, e);
            throw e;
        }
    }

    /**
     * The inodes of the sockets held by other processes that hold a sksteer dispatcher attached
     * to {@code ns} (other instances of this application), not counting program {@code ours}.
     */
    private static java.util.Set<Long> peerSocketInodes(NetworkNamespace ns, int ours) {
        java.util.Set<Long> pids = new java.util.HashSet<>();
        for (int id : ns.skLookupProgramIds()) {
            if (id == ours) {
                continue;
            }
            try {
                if (io.sksteer.bpf.BpfProgram.describe(id).map(i -> i.name().equals(io.sksteer.steering.DispatcherProgram.NAME)).orElse(false)) {
                    pids.addAll(io.sksteer.bpf.BpfProgram.holders(id));
                }
            } catch (RuntimeException e) {
                // cannot open programs by id (no CAP_SYS_ADMIN): no peer is recognised
            }
        }
        // Our own process's sockets are told apart by cookie, not by pid.
        pids.remove(ProcessHandle.current().pid());
        java.util.Set<Long> inodes = new java.util.HashSet<>();
        pids.forEach(pid -> inodes.addAll(Sockets.socketInodesOf(pid)));
        return inodes;
    }

    private static final java.util.concurrent.atomic.AtomicBoolean INVENTORY_WARNED = new java.util.concurrent.atomic.AtomicBoolean();

    /**
     * The namespace's bound sockets for the shadow check; none, with a warning logged once, where
     * the kernel cannot list them (sock_diag for inet sockets is the inet_diag, tcp_diag and
     * udp_diag modules, loaded on demand where the system has them).
     */
    private static List<io.sksteer.bpf.BoundSocket> inventory(NetworkNamespace ns) {
        try {
            return Sockets.bound(ns);
        } catch (io.sksteer.bpf.BpfException e) {
            if (INVENTORY_WARNED.compareAndSet(false, true)) {
                LOG.log(System.Logger.Level.WARNING, "sksteer: the shadow check is off: the kernel's socket inventory cannot be read ("
                        + e.getMessage() + "); rules are not checked against sockets bound in the namespace");
            }
            return List.of();
        }
    }

    private static Map<Long, String> cookies(Map<String, SteeredListener> listeners) {
        Map<Long, String> out = new java.util.HashMap<>();
        listeners.values().forEach(l -> out.put(l.cookie(), l.name()));
        return out;
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
                throw new io.sksteer.steering.InvalidRuleException(r.origin(), r.prefix().toString(), "listener '"
                        + spec.name() + "' takes " + socket + ", which cannot take " + (v4 ? "IPv4" : "IPv6") + " traffic");
            }
        }
    }

    private static Channel bind(ListenerSpec spec, ListenerHandler handler, NetworkNamespace ns, EventLoopGroup group,
            boolean ipv6, UdpLoopGuard loopGuard, ReplySocketRegistry replySockets) {
        InetSocketAddress address = spec.bind() != null ? spec.bind()
                : new InetSocketAddress(LOOPBACK, 0);
        // The default socket is AF_INET6 bound to ::ffff:127.0.0.1 with IPV6_V6ONLY off: it takes
        // IPv4 and IPv6 steered traffic, and its real port listens on loopback only.
        boolean inet6 = spec.bind() == null ? ipv6 : spec.bind().getAddress() instanceof Inet6Address;
        SocketProtocolFamily family = inet6 ? SocketProtocolFamily.INET6 : SocketProtocolFamily.INET;
        try {
            if (spec.protocol() == Protocol.TCP) {
                ServerBootstrap b = new ServerBootstrap().group(group)
                        .channelFactory(() -> ns.call(() -> new EpollServerSocketChannel(family)))
                        .option(ChannelOption.SO_BACKLOG, spec.backlog())
                        .option(EpollChannelOption.SO_REUSEPORT, spec.reusePort())
                        .childHandler(tcpInitializer(handler));
                return b.bind(address).sync().channel();
            }
            Bootstrap b = new Bootstrap().group(group)
                    .channelFactory(() -> ns.call(() -> new EpollDatagramChannel(family)))
                    .option(EpollChannelOption.SO_REUSEPORT, spec.reusePort())
                    .handler(udpInitializer(handler, ns, loopGuard, replySockets));
            return b.bind(address).sync().channel();
        } catch (Exception e) {
            throw new ListenerBindException(spec.name(), spec.origin(), address, e);
        }
    }

    /** The pipeline of each accepted connection: the listener's handler. */
    static ChannelInitializer<Channel> tcpInitializer(ListenerHandler handler) {
        return new ChannelInitializer<Channel>() {
            @Override
            protected void initChannel(Channel ch) throws Exception {
                handler.initChannel(ch);
            }
        };
    }

    /** The pipeline of a UDP listener: original destinations in, replies out from them (see UdpSteering), then the handler. */
    static ChannelInitializer<Channel> udpInitializer(ListenerHandler handler, NetworkNamespace ns, UdpLoopGuard loopGuard,
            ReplySocketRegistry replySockets) {
        return new ChannelInitializer<Channel>() {
            @Override
            protected void initChannel(Channel ch) throws Exception {
                ch.pipeline().addLast(UdpSteering.handler(ns, ReplySocketOptions.DEFAULTS, loopGuard, replySockets));
                handler.initChannel(ch);
            }
        };
    }

    static boolean ipv6Available() {
        return Files.exists(Path.of("/proc/net/if_inet6"));
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
            ShadowCheck.check(rules.rules(), inventory(namespace), cookies(listeners), config.shadowingAllowed(),
                    replySockets.snapshot(), () -> peerSocketInodes(namespace, dispatcher.program().id()));
            change = dispatcher.apply(rules);
            loopGuard.rulesInForce(dispatcher.rules());
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
            ShadowCheck.check(add, inventory(namespace), cookies(listeners), config.shadowingAllowed(),
                    replySockets.snapshot(), () -> peerSocketInodes(namespace, dispatcher.program().id()));
            change = dispatcher.change(remove, add);
            loopGuard.rulesInForce(dispatcher.rules());
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
        return loopGuard.refusedReplies();
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
                io.sksteer.bpf.BpfProgram.awaitRunsInFlight();
            });
            order.add(() -> drain(drain));
        }
        // Kept in a descriptor store, the link stays attached and the listeners' sockets stay
        // open there when ours close: what arrives now waits in their queues for the next process.
        order.add(link);
        order.add(dispatcher);
        for (SteeredListener l : listeners.values()) {
            order.add(() -> l.source().close(CLOSE_TIMEOUT.toMillis()));
        }
        order.add(() -> group.shutdownGracefully(100, CLOSE_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
                .awaitUninterruptibly(CLOSE_TIMEOUT.toMillis() * 2));
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

    /**
     * How long a stop waits for connections steered before the detach: their handshake may still
     * complete after it (one round trip later), then they wait in the accept queue until accepted.
     *
     * @param timeout the longest a stop waits for the accept queues to empty
     * @param quietPeriod how long every accept queue must have stayed empty, counted from the
     *     detach: at least the round-trip time of the farthest clients
     */
    public record Drain(Duration timeout, Duration quietPeriod) {

        /** Up to 5 s, with 100 ms of quiet. */
        public static final Drain DEFAULT = new Drain(Duration.ofSeconds(5), Duration.ofMillis(100));

        /** No wait at all: connections still in an accept queue are reset when it closes. */
        public static final Drain NONE = new Drain(Duration.ZERO, Duration.ZERO);

        public Drain {
            if (timeout.isNegative() || quietPeriod.isNegative()) {
                throw new IllegalArgumentException("drain durations must not be negative");
            }
        }
    }

    /** Waits, within {@code drain}, until no TCP listener has a connection left to accept. */
    private void drain(Drain drain) {
        List<SteeredListener> tcp = listeners.values().stream()
                .filter(l -> l.protocol() == Protocol.TCP && l.isOpen()).toList();
        if (tcp.isEmpty() || drain.timeout().isZero()) {
            return;
        }
        long start = System.nanoTime();
        long deadline = start + drain.timeout().toNanos();
        long lastBusy = start;
        while (true) {
            int waiting = 0;
            for (SteeredListener l : tcp) {
                try {
                    waiting += Sockets.acceptQueueLength(l.socket());
                } catch (RuntimeException e) {
                    // Closed meanwhile: nothing of it left to accept.
                }
            }
            long now = System.nanoTime();
            if (waiting > 0) {
                lastBusy = now;
            } else if (now - lastBusy >= drain.quietPeriod().toNanos()) {
                return;
            }
            if (now - deadline >= 0) {
                LOG.log(System.Logger.Level.WARNING, "sksteer: " + waiting + " connections still wait in the accept queues after "
                        + drain.timeout().toMillis() + " ms of draining; they are reset when the listeners close");
                return;
            }
            java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(2));
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
