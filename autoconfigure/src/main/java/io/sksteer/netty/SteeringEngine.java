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

    private SteeringEngine(SteeringConfig config, NetworkNamespace namespace, EventLoopGroup group,
            Map<String, SteeredListener> listeners, Dispatcher dispatcher, NetnsLink link) {
        this.config = config;
        this.namespace = namespace;
        this.group = group;
        this.listeners = listeners;
        this.dispatcher = dispatcher;
        this.link = link;
    }

    /**
     * Starts steering.
     *
     * @param handlers the pipeline builder of each listener, by name (every listener must have one)
     * @throws io.sksteer.bpf.BpfException when the kernel refuses (privileges, kernel too old)
     * @throws ListenerBindException when a listener cannot bind
     * @throws io.sksteer.steering.InvalidRuleException when the rules exceed a limit
     */
    public static SteeringEngine start(SteeringConfig config, Map<String, ListenerHandler> handlers) {
        for (String name : config.listeners().keySet()) {
            if (!handlers.containsKey(name)) {
                throw new IllegalArgumentException("listener '" + name + "' has no handler");
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

            // 1. Listeners.
            Map<String, Integer> slots = new LinkedHashMap<>();
            Map<String, SteeredListener> bound = new LinkedHashMap<>();
            boolean ipv6 = ipv6Available();
            int slot = 0;
            for (ListenerSpec spec : config.listeners().values()) {
                slots.put(spec.name(), slot);
                Channel channel = bind(spec, handlers.get(spec.name()), ns, group, ipv6);
                made.add(() -> channel.close().awaitUninterruptibly(CLOSE_TIMEOUT.toMillis()));
                SocketFd fd = socketOf(channel);
                bound.put(spec.name(), new SteeredListener(spec.name(), spec.protocol(), channel, fd, Sockets.cookie(fd), slot));
                slot++;
            }
            // 2. Maps and program.
            Dispatcher dispatcher = Dispatcher.create(config.rules(), config.maxRules(), slots, config.dropOnMissingSocket());
            made.add(dispatcher);
            for (SteeredListener l : bound.values()) {
                dispatcher.sockets().put(l.slot(), l.socket());
            }
            // 3. Attach, last.
            NetnsLink link = NetnsLink.attach(dispatcher.program(), ns);
            LOG.log(System.Logger.Level.INFO, "sksteer: program " + dispatcher.program().id() + " attached to "
                    + config.netns() + " (link " + link.id() + "), " + config.rules().size() + " rules over "
                    + bound.size() + " listeners");
            return new SteeringEngine(config, ns, group, bound, dispatcher, link);
        } catch (RuntimeException | Error e) {
            closeAll(made, e);
            throw e;
        }
    }

    private static Channel bind(ListenerSpec spec, ListenerHandler handler, NetworkNamespace ns, EventLoopGroup group,
            boolean ipv6) {
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
                        .childHandler(new ChannelInitializer<Channel>() {
                            @Override
                            protected void initChannel(Channel ch) throws Exception {
                                handler.initChannel(ch);
                            }
                        });
                return b.bind(address).sync().channel();
            }
            Bootstrap b = new Bootstrap().group(group)
                    .channelFactory(() -> ns.call(() -> new EpollDatagramChannel(family)))
                    .option(EpollChannelOption.SO_REUSEPORT, spec.reusePort())
                    .handler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel ch) throws Exception {
                            // First: original destinations in, replies out from them (see UdpSteering).
                            ch.pipeline().addLast(UdpSteering.handler(ns));
                            handler.initChannel(ch);
                        }
                    });
            return b.bind(address).sync().channel();
        } catch (Exception e) {
            throw new ListenerBindException(spec.name(), spec.origin(), address, e);
        }
    }

    private static SocketFd socketOf(Channel channel) {
        if (channel instanceof EpollServerSocketChannel s) {
            return new SocketFd(s.fd().intValue());
        }
        return new SocketFd(((EpollDatagramChannel) channel).fd().intValue());
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
    public void replaceRules(RuleSet rules) {
        Dispatcher.RuleChange change;
        synchronized (this) {
            if (closed) {
                throw new IllegalStateException("steering is stopped");
            }
            change = dispatcher.apply(rules);
        }
        ruleListeners.forEach(l -> l.accept(change));
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
    public void changeRules(Collection<SteeringRule> remove, Collection<SteeringRule> add) {
        Dispatcher.RuleChange change;
        synchronized (this) {
            if (closed) {
                throw new IllegalStateException("steering is stopped");
            }
            change = dispatcher.change(remove, add);
        }
        ruleListeners.forEach(l -> l.accept(change));
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

    public NetworkNamespace namespace() {
        return namespace;
    }

    /**
     * Stops steering: detaches the program, closes the dispatcher, closes the listeners (accepted
     * connections finish as the event loops shut down gracefully), then the namespace handle.
     * Idempotent.
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        List<AutoCloseable> order = new ArrayList<>();
        order.add(link);
        order.add(dispatcher);
        for (SteeredListener l : listeners.values()) {
            order.add(() -> l.channel().close().awaitUninterruptibly(CLOSE_TIMEOUT.toMillis()));
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
        LOG.log(System.Logger.Level.INFO, "sksteer: detached and closed");
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
