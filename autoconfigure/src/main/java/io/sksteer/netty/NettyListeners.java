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
import io.sksteer.bpf.FdStore;
import io.sksteer.bpf.NetworkNamespace;
import io.sksteer.bpf.SocketFd;
import io.sksteer.bpf.Sockets;
import io.sksteer.bpf.sklookup.Protocol;
import io.sksteer.steering.ListenerSpec;
import io.sksteer.steering.RuleSet;
import io.sksteer.steering.SteeringConfig;
import io.sksteer.steering.SteeringRule;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * The listener sockets sksteer binds itself, or takes over from a service manager's descriptor
 * store: Netty epoll channels on one event loop group, with the listener's pipeline (and, for UDP,
 * sksteer's handler for original destinations and replies in front of it). Owns the event loops
 * and what the UDP pipelines share: the loop guard and the registry of reply sockets.
 */
public final class NettyListeners {

    private static final System.Logger LOG = System.getLogger(NettyListeners.class.getName());
    private static final int SOCK_STREAM = 1;
    private static final int SOCK_DGRAM = 2;
    private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress() instanceof Inet4Address l
            ? l : loopback4();

    private static InetAddress loopback4() {
        try {
            return InetAddress.getByAddress(new byte[] {127, 0, 0, 1});
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }

    private final EventLoopGroup group;
    private final UdpLoopGuard loopGuard = new UdpLoopGuard();
    private final ReplySocketRegistry replySockets = new ReplySocketRegistry();
    private final boolean ipv6 = ipv6Available();

    private NettyListeners(EventLoopGroup group) {
        this.group = group;
    }

    /**
     * @throws EpollUnavailableException where Netty's epoll transport cannot be loaded
     */
    public static void ensureAvailable() {
        if (!Epoll.isAvailable()) {
            throw new EpollUnavailableException(Epoll.unavailabilityCause());
        }
    }

    /** Starts the event loops. */
    public static NettyListeners open() {
        return new NettyListeners(new MultiThreadIoEventLoopGroup(EpollIoHandler.newFactory()));
    }

    /**
     * Binds a new socket for {@code spec} in {@code ns}: to its {@code bind} address, or by default
     * to an ephemeral port on loopback.
     *
     * @throws ListenerBindException when the socket cannot be created or bound
     */
    public BoundChannel bind(ListenerSpec spec, ListenerHandler handler, NetworkNamespace ns) {
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
                return new BoundChannel(b.bind(address).sync().channel(), false);
            }
            Bootstrap b = new Bootstrap().group(group)
                    .channelFactory(() -> ns.call(() -> new EpollDatagramChannel(family)))
                    .option(EpollChannelOption.SO_REUSEPORT, spec.reusePort())
                    .handler(udpInitializer(handler, ns));
            return new BoundChannel(b.bind(address).sync().channel(), false);
        } catch (Exception e) {
            throw new ListenerBindException(spec.name(), spec.origin(), address, e);
        }
    }

    /**
     * The channel of {@code spec} on the inherited socket named after it in {@code store},
     * registered and reading; {@code null} when there is none or it does not fit the listener (it
     * is then closed and dropped from the store, and the caller binds a new socket).
     *
     * @throws ListenerBindException when the socket fits but cannot be registered
     */
    public BoundChannel inherit(ListenerSpec spec, FdStore store, SteeringConfig config, NetworkNamespace ns,
            ListenerHandler handler) {
        OptionalInt taken = store.take(spec.name());
        if (taken.isEmpty()) {
            return null;
        }
        int fd = taken.getAsInt();
        String refusal;
        try {
            refusal = misfit(spec, new SocketFd(fd), config, ns);
        } catch (io.sksteer.bpf.BpfException e) {
            refusal = e.errnoValue() == io.sksteer.bpf.Errno.ENOTSOCK ? "it is not a socket"
                    : "it cannot be inspected (" + e.getMessage() + ")";
        }
        if (refusal != null) {
            LOG.log(System.Logger.Level.WARNING, "sksteer: listener '" + spec.name() + "' does not take the inherited descriptor "
                    + fd + ": " + refusal + "; it binds a new socket");
            Sockets.closeDescriptor(fd);
            store.forget(spec.name());
            return null;
        }
        try {
            // The socket is bound, listening (TCP) and configured already: registered, not bound.
            if (spec.protocol() == Protocol.TCP) {
                return new BoundChannel(new ServerBootstrap().group(group).channelFactory(() -> new EpollServerSocketChannel(fd))
                        .childHandler(tcpInitializer(handler)).register().sync().channel(), true);
            }
            return new BoundChannel(new Bootstrap().group(group).channelFactory(() -> new EpollDatagramChannel(fd))
                    .handler(udpInitializer(handler, ns)).register().sync().channel(), true);
        } catch (Exception e) {
            throw new ListenerBindException(spec.name(), spec.origin(), Sockets.localAddress(new SocketFd(fd)), e);
        }
    }

    /** Why the socket cannot be the listener's, or {@code null} when it can. */
    static String misfit(ListenerSpec spec, SocketFd socket, SteeringConfig config, NetworkNamespace ns) {
        int type = Sockets.type(socket);
        boolean tcp = spec.protocol() == Protocol.TCP;
        if (type != (tcp ? SOCK_STREAM : SOCK_DGRAM)) {
            return "it is a socket of type " + type + ", not a " + (tcp ? "TCP stream" : "UDP datagram") + " socket";
        }
        int protocol = Sockets.protocol(socket);
        if (protocol != (tcp ? Sockets.IPPROTO_TCP : Sockets.IPPROTO_UDP)) {
            return "its protocol is " + protocol + ", not " + spec.protocol();
        }
        if (tcp && !Sockets.isListening(socket)) {
            return "it is not listening";
        }
        try (NetworkNamespace own = NetworkNamespace.ofSocket(socket)) {
            if (own.inode() != ns.inode()) {
                return "it lives in the network namespace of inode " + own.inode() + ", not in " + config.netns();
            }
        }
        InetSocketAddress local = Sockets.localAddress(socket);
        if (local == null) {
            return "it is not an IPv4 or IPv6 socket";
        }
        if (spec.bind() != null && !(local.getAddress().equals(spec.bind().getAddress())
                && (spec.bind().getPort() == 0 || spec.bind().getPort() == local.getPort()))) {
            return "it is bound to " + local + ", the listener to " + spec.bind();
        }
        boolean inet6 = Sockets.family(socket) == Sockets.AF_INET6;
        boolean takesV4 = !inet6 || (!Sockets.v6Only(socket) && (local.getAddress().isAnyLocalAddress()
                || local.getAddress() instanceof Inet4Address));
        for (SteeringRule r : config.rules().rules()) {
            if (r.listener().equals(spec.name()) && (r.prefix().isIpv4() ? !takesV4 : !inet6)) {
                return "it cannot take the " + (r.prefix().isIpv4() ? "IPv4" : "IPv6") + " traffic of rule " + r.describe();
            }
        }
        return null;
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
    private ChannelInitializer<Channel> udpInitializer(ListenerHandler handler, NetworkNamespace ns) {
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

    /** Called with the rules in force, at start and after every change, before UDP replies may use them. */
    public void rulesInForce(RuleSet rules) {
        loopGuard.rulesInForce(rules);
    }

    /** UDP replies not sent because the rules would have steered them back to our listeners (a loop). */
    public long loopedRepliesRefused() {
        return loopGuard.refusedReplies();
    }

    /** The cookies of the reply sockets the UDP listeners hold now (bound to steered addresses by design). */
    public Set<Long> replySockets() {
        return replySockets.snapshot();
    }

    /**
     * Shuts the event loops down, letting what runs on them finish, and waits up to twice
     * {@code timeoutMillis}.
     *
     * @param quietMillis how long no task may have been submitted before they stop
     */
    public void shutdown(long quietMillis, long timeoutMillis) {
        group.shutdownGracefully(quietMillis, timeoutMillis, TimeUnit.MILLISECONDS).awaitUninterruptibly(timeoutMillis * 2);
    }
}
