package io.sksteer.netty;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.sksteer.bpf.BpfException;
import io.sksteer.bpf.FdStore;
import io.sksteer.bpf.NetnsLink;
import io.sksteer.bpf.NetworkNamespace;
import io.sksteer.bpf.SocketFd;
import io.sksteer.bpf.Sockets;
import io.sksteer.bpf.sklookup.Protocol;
import io.sksteer.steering.ListenerSpec;
import io.sksteer.steering.SteeringConfig;
import io.sksteer.steering.SteeringRule;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;

/**
 * What a start takes over from a service manager's descriptor store ({@link FdStore}): the
 * listener sockets and the dispatcher link a previous process of the service left there, and,
 * once attached, what it hands back to be kept for the next one.
 */
final class Inheritance {

    private static final System.Logger LOG = System.getLogger(Inheritance.class.getName());
    private static final int SOCK_STREAM = 1;
    private static final int SOCK_DGRAM = 2;

    private Inheritance() {
    }

    /**
     * The channel of {@code spec} on the inherited socket named after it, registered and reading;
     * {@code null} when there is none or it does not fit the listener (it is then closed and
     * dropped from the store, and the caller binds a new socket).
     */
    static Channel listener(ListenerSpec spec, FdStore store, SteeringConfig config, NetworkNamespace ns, EventLoopGroup group,
            ListenerHandler handler, UdpLoopGuard loopGuard, ReplySocketRegistry replySockets) {
        OptionalInt taken = store.take(spec.name());
        if (taken.isEmpty()) {
            return null;
        }
        int fd = taken.getAsInt();
        String refusal;
        try {
            refusal = misfit(spec, new SocketFd(fd), config, ns);
        } catch (BpfException e) {
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
                return new ServerBootstrap().group(group).channelFactory(() -> new EpollServerSocketChannel(fd))
                        .childHandler(SteeringEngine.tcpInitializer(handler)).register().sync().channel();
            }
            return new Bootstrap().group(group).channelFactory(() -> new EpollDatagramChannel(fd))
                    .handler(SteeringEngine.udpInitializer(handler, ns, loopGuard, replySockets)).register().sync().channel();
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
                || local.getAddress() instanceof java.net.Inet4Address));
        for (SteeringRule r : config.rules().rules()) {
            if (r.listener().equals(spec.name()) && (r.prefix().isIpv4() ? !takesV4 : !inet6)) {
                return "it cannot take the " + (r.prefix().isIpv4() ? "IPv4" : "IPv6") + " traffic of rule " + r.describe();
            }
        }
        return null;
    }

    /**
     * The dispatcher link a previous process left in the store, attached to {@code ns}; {@code
     * null} when there is none or it does not fit (it is then dropped from the store).
     */
    static NetnsLink link(FdStore store, NetworkNamespace ns) {
        OptionalInt taken = store.take(FdStore.LINK_NAME);
        if (taken.isEmpty()) {
            return null;
        }
        try {
            return NetnsLink.adopt(taken.getAsInt(), ns);
        } catch (BpfException e) {
            LOG.log(System.Logger.Level.WARNING, "sksteer: the inherited link is not taken over (" + e.getMessage()
                    + "); a new one is attached");
            store.forget(FdStore.LINK_NAME);
            return null;
        }
    }

    /**
     * After the attach: closes and drops what nobody took, then, when the store is storing, hands
     * it the link and the sockets of the listeners sksteer bound.
     *
     * @return whether the store now keeps them all (a stop then leaves them attached and open)
     */
    static boolean keep(FdStore store, NetnsLink link, Map<String, SteeredListener> listeners) {
        List<String> released = store.releaseUnclaimed();
        if (!released.isEmpty()) {
            LOG.log(System.Logger.Level.INFO, "sksteer: closed the inherited descriptors no listener took: " + released);
        }
        if (!store.storing()) {
            // Taken over without a store to give them back to: drop its copies, or they would
            // keep a detached link and the ports for as long as the service manager runs.
            store.claimed().forEach(store::forget);
            return false;
        }
        List<String> kept = new ArrayList<>();
        try {
            store.keep(link);
            for (SteeredListener l : listeners.values()) {
                if (l.source() instanceof BoundChannel) {
                    store.keep(l.name(), l.socket().value());
                    kept.add(l.name());
                }
            }
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "sksteer: the service manager's descriptor store did not take the link and the"
                    + " listener sockets (" + e.getMessage() + "): a stop detaches and drains as without one");
            return false;
        }
        LOG.log(System.Logger.Level.INFO, "sksteer: link " + link.id() + " and the sockets of " + kept
                + " are kept in the service manager's descriptor store: a restart keeps them attached and open");
        return true;
    }

    /** "; 'echo' and 'dns' took inherited sockets", for the start line. */
    static String summary(Map<String, SteeredListener> listeners) {
        List<String> names = listeners.values().stream()
                .filter(l -> l.source() instanceof BoundChannel b && b.inherited()).map(SteeredListener::name).toList();
        return names.isEmpty() ? "" : "; inherited the sockets of " + names;
    }
}
