package io.sksteer.netty;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.socket.DatagramPacket;
import io.netty.channel.socket.SocketProtocolFamily;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import io.sksteer.bpf.NetworkNamespace;
import java.net.Inet4Address;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The reply sockets of one steered listener: per source address and port, an epoll datagram
 * channel bound to exactly that address and port, so that replies leave from where the client sent
 * to. Netty cannot send from a chosen source (it ignores a packet's sender, and IP_PKTINFO could
 * set only the address, never the port), so a socket bound there is the one way.
 *
 * <p>Everything here runs on the listener's event loop; the reply channels are registered on the
 * same loop, so register and bind complete before they return and no locking is needed.
 *
 * <p>Why a reply socket does not steal the listener's traffic: for unconnected UDP lookups the
 * kernel runs sk_lookup programs before it looks for a socket bound to the exact destination, so
 * while the program steers that destination the reply socket never sees a datagram. When the
 * program stops steering it (rule removed, program detached, empty slot under a pass-through
 * policy) the normal lookup does find the reply socket: those datagrams are read and dropped (and
 * counted) instead of being answered with ICMP port unreachable, for at most the idle timeout.
 * Reply sockets are never connected: a connected socket matching the 4-tuple would win the lookup
 * before any program and take the client's datagrams away from the listener.
 *
 * <p>SO_REUSEADDR is deliberately not set: with it, a reply socket could bind next to another
 * application's socket that also set it, and then share (steal) that socket's traffic whenever
 * the program does not steer. Without it, such a bind fails with EADDRINUSE and the reply falls
 * back to the listener's own socket. SO_REUSEPORT is set: the kernel lets only sockets of the
 * same user that all set it share an address and port, which is what two instances of one
 * application need during a rolling restart (the old one's reply socket for a destination
 * would otherwise keep the new one from answering from it until the old one exits).
 */
final class ReplyChannels {

    private static final System.Logger LOG = System.getLogger(ReplyChannels.class.getName());

    private final Channel listener;
    private final NetworkNamespace namespace;
    private final long idleNanos;
    private final int maxOpen;

    // Access order: iteration starts at the least recently used entry.
    private final Map<InetSocketAddress, Entry> entries = new LinkedHashMap<>(16, 0.75f, true);
    private final List<Channel> unflushed = new ArrayList<>(4);
    private ScheduledFuture<?> sweeper;
    private boolean closed;

    private volatile int open;
    private final AtomicLong sent = new AtomicLong();
    private final AtomicLong fallbacks = new AtomicLong();
    private final AtomicLong stray = new AtomicLong();
    private final AtomicBoolean fallbackLogged = new AtomicBoolean();
    private final AtomicBoolean strayLogged = new AtomicBoolean();

    private final ReplySocketRegistry registry;   // so the shadow check knows our reply sockets; may be null

    ReplyChannels(Channel listener, NetworkNamespace namespace, ReplySocketOptions options, ReplySocketRegistry registry) {
        this.registry = registry;
        this.listener = listener;
        this.namespace = namespace;
        this.idleNanos = options.idleTimeout().toNanos();
        this.maxOpen = options.maxOpen();
    }

    /**
     * Writes {@code content} to {@code recipient} from {@code source} through the reply socket of
     * {@code source}, opening it if needed. Returns false, having written nothing, when there is no
     * reply socket for {@code source}: the caller then sends from the listener.
     */
    boolean write(InetSocketAddress source, ByteBuf content, InetSocketAddress recipient, ChannelPromise promise) {
        Channel reply = channelFor(source);
        if (reply == null) {
            fallbacks.incrementAndGet();
            return false;
        }
        ChannelPromise replyPromise;
        if (promise.isVoid()) {
            replyPromise = reply.voidPromise();
        } else {
            // A promise belongs to one channel; the caller's is completed from the reply channel's.
            replyPromise = reply.newPromise();
            replyPromise.addListener(f -> {
                if (f.isSuccess()) {
                    promise.trySuccess();
                } else {
                    promise.tryFailure(f.cause());
                }
            });
        }
        reply.write(new DatagramPacket(content, recipient), replyPromise);
        if (!unflushed.contains(reply)) {
            unflushed.add(reply);
        }
        sent.incrementAndGet();
        return true;
    }

    /** Flushes the reply sockets written to since the last flush. */
    void flush() {
        for (Channel c : unflushed) {
            c.flush();
        }
        unflushed.clear();
    }

    /** Closes every reply socket, now and for good. Idempotent. */
    void closeAll() {
        closed = true;
        if (sweeper != null) {
            sweeper.cancel(false);
            sweeper = null;
        }
        for (Entry e : entries.values()) {
            close(e);
        }
        entries.clear();
        unflushed.clear();
    }

    int open() {
        return open;
    }

    long sent() {
        return sent.get();
    }

    long fallbacks() {
        return fallbacks.get();
    }

    long stray() {
        return stray.get();
    }

    private Channel channelFor(InetSocketAddress source) {
        if (closed) {
            return null;
        }
        long now = System.nanoTime();
        Entry e = entries.get(source);
        if (e != null) {
            if (e.channel != null && e.channel.isActive()) {
                e.lastUsed = now;
                return e.channel;
            }
            if (e.channel == null && now - e.lastUsed < idleNanos) {
                return null;                     // bind failed recently: not again for every reply
            }
            entries.remove(source);
            close(e);
        }
        e = open(source, now);
        entries.put(source, e);
        trim();
        scheduleSweep();
        return e.channel;
    }

    private Entry open(InetSocketAddress source, long now) {
        SocketProtocolFamily family = source.getAddress() instanceof Inet4Address ? SocketProtocolFamily.INET
                : SocketProtocolFamily.INET6;
        EpollDatagramChannel ch;
        try {
            // A socket belongs to the namespace it is created in: the listener's, not this thread's.
            ch = namespace.call(() -> new EpollDatagramChannel(family));
        } catch (RuntimeException e) {
            return failed(source, now, e);
        }
        try {
            // FREEBIND: an IPv6 address covered only by a local route cannot be bound otherwise
            // (EADDRNOTAVAIL); IPv4 addresses of such routes bind without it.
            ch.config().setOption(EpollChannelOption.IP_FREEBIND, true);
            ch.config().setOption(EpollChannelOption.SO_REUSEPORT, true);
            // Nothing is meant to arrive here; the kernel raises this to its minimum (a few KiB).
            ch.config().setReceiveBufferSize(1);
            ch.pipeline().addLast(new StrayDatagrams());
        } catch (RuntimeException e) {
            ch.unsafe().closeForcibly();
            return failed(source, now, e);
        }
        // Registered on the listener's own loop, from that loop: register and bind complete here.
        ChannelFuture bound = listener.eventLoop().register(ch);
        if (bound.isDone() && bound.isSuccess()) {
            bound = ch.bind(source);
        }
        if (!bound.isDone() || !bound.isSuccess()) {
            ch.close();
            Throwable cause = bound.isDone() ? bound.cause()
                    : new IllegalStateException("register or bind did not complete on the event loop");
            return failed(source, now, cause);
        }
        open++;
        if (registry != null) {
            long cookie = io.sksteer.bpf.Sockets.cookie(new io.sksteer.bpf.SocketFd(ch.fd().intValue()));
            registry.opened(cookie);
            ch.closeFuture().addListener(f -> registry.closed(cookie));
        }
        return new Entry(ch, now);
    }

    private Entry failed(InetSocketAddress source, long now, Throwable cause) {
        if (fallbackLogged.compareAndSet(false, true)) {
            LOG.log(System.Logger.Level.WARNING, "cannot bind a reply socket to {0} ({1}); replies from {0} leave from the"
                    + " listener''s own address {2} instead, which connected clients drop. Counted in repliesFromListener;"
                    + " logged once per listener.", source, cause.getMessage(), listener.localAddress());
        } else {
            LOG.log(System.Logger.Level.DEBUG, "cannot bind a reply socket to {0}: {1}", source, cause.getMessage());
        }
        return new Entry(null, now);
    }

    private void trim() {
        Iterator<Entry> it = entries.values().iterator();
        while (entries.size() > maxOpen && it.hasNext()) {
            Entry eldest = it.next();
            it.remove();
            close(eldest);
        }
    }

    private void scheduleSweep() {
        if (sweeper == null && !entries.isEmpty()) {
            long period = Math.max(idleNanos / 2, TimeUnit.MILLISECONDS.toNanos(10));
            sweeper = listener.eventLoop().scheduleAtFixedRate(this::sweep, period, period, TimeUnit.NANOSECONDS);
        }
    }

    private void sweep() {
        long now = System.nanoTime();
        Iterator<Entry> it = entries.values().iterator();
        while (it.hasNext()) {
            Entry e = it.next();
            if (now - e.lastUsed >= idleNanos || (e.channel != null && !e.channel.isActive())) {
                it.remove();
                close(e);
            }
        }
        if (entries.isEmpty() && sweeper != null) {
            sweeper.cancel(false);
            sweeper = null;
        }
    }

    private void close(Entry e) {
        if (e.channel != null) {
            // Pending writes leave before the socket goes; both complete here, on the loop.
            e.channel.flush();
            e.channel.close();
            unflushed.remove(e.channel);
            open--;
        }
    }

    private static final class Entry {
        final Channel channel;   // null: binding failed, answered from the listener until retried
        long lastUsed;

        Entry(Channel channel, long lastUsed) {
            this.channel = channel;
            this.lastUsed = lastUsed;
        }
    }

    /** Reads and drops what reaches a reply socket, so nothing piles up in its receive queue. */
    private final class StrayDatagrams extends ChannelInboundHandlerAdapter {

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            try {
                stray.incrementAndGet();
                if (strayLogged.compareAndSet(false, true) && msg instanceof DatagramPacket p) {
                    LOG.log(System.Logger.Level.WARNING, "reply socket {0} received a datagram from {1} and dropped it: the"
                            + " steering program is not steering that destination (rule removed or program detached?)."
                            + " Counted in strayDatagrams; logged once per listener.", ctx.channel().localAddress(), p.sender());
                }
            } finally {
                ReferenceCountUtil.release(msg);
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            LOG.log(System.Logger.Level.DEBUG, "reply socket {0}: {1}", ctx.channel().localAddress(), cause.toString());
        }
    }
}
