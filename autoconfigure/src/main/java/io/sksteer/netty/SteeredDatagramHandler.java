package io.sksteer.netty;

import io.netty.buffer.ByteBuf;
import io.netty.channel.AddressedEnvelope;
import io.netty.channel.Channel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.socket.DatagramPacket;
import io.sksteer.bpf.NetworkNamespace;
import io.sksteer.bpf.SocketFd;
import io.sksteer.bpf.Sockets;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.Objects;

/**
 * The first handler of a steered UDP listener's pipeline (see {@link UdpSteering}): delivers every
 * datagram with its original destination as recipient, and sends every reply whose sender is an
 * original destination from that address and port.
 *
 * <p>Inbound: an AF_INET listener is read by Netty with {@code IP_RECVORIGDSTADDR}; an AF_INET6
 * (dual-stack) listener is read by this handler's own reader, because Netty reports no IPv6
 * original destination. Either way the packets that reach the next handler have plain IPv4 or
 * IPv6 addresses (never {@code ::ffff:a.b.c.d}).
 *
 * <p>Outbound: a {@link DatagramPacket} (or another addressed envelope of a {@link ByteBuf}) whose
 * sender is set and differs from the listener's own address leaves through a reply socket bound to
 * that sender; everything else passes on unchanged.
 *
 * <p>One instance per listener channel (not sharable); it must be in the pipeline before the
 * channel is bound, and stays for the channel's life. It closes its reply sockets when the
 * listener closes. Every method but {@link #stats()} runs on the channel's event loop.
 */
public final class SteeredDatagramHandler extends ChannelDuplexHandler {

    private final NetworkNamespace namespace;
    private final ReplySocketOptions options;
    private final UdpLoopGuard loopGuard;       // null: no rules to loop through
    private final ReplySocketRegistry replySockets;   // may be null

    private volatile ReplyChannels replies;       // volatile for stats() only
    private OriginalDestinationReader reader;     // AF_INET6 listeners only
    private InetSocketAddress localAddress;       // normalised, once bound

    SteeredDatagramHandler(NetworkNamespace namespace, ReplySocketOptions options, UdpLoopGuard loopGuard,
            ReplySocketRegistry replySockets) {
        this.replySockets = replySockets;
        this.namespace = Objects.requireNonNull(namespace, "namespace");
        this.options = Objects.requireNonNull(options, "options");
        this.loopGuard = loopGuard;
    }

    /** Counts of replies and reply sockets; may be called from any thread. */
    public UdpSteeringStats stats() {
        ReplyChannels r = replies;
        return r == null ? new UdpSteeringStats(0, 0, 0, 0)
                : new UdpSteeringStats(r.open(), r.sent(), r.fallbacks(), r.stray());
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        // Runs once the channel is registered (Netty defers it until then), on its loop.
        if (!(ctx.channel() instanceof EpollDatagramChannel channel)) {
            throw new IllegalArgumentException("steered UDP needs an EpollDatagramChannel, not " + ctx.channel());
        }
        SocketFd fd = new SocketFd(channel.fd().intValue());
        // IPv4 destinations (also IPv4 on a dual-stack socket): Netty's own option and parsing.
        channel.config().setOption(EpollChannelOption.IP_RECVORIGDSTADDR, true);
        replies = new ReplyChannels(channel, namespace, options, replySockets);
        if (Sockets.family(fd) == Sockets.AF_INET6) {
            // Also turns on IPV6_RECVORIGDSTADDR, which Netty has no option for.
            reader = OriginalDestinationReader.start(channel);
            if (channel.isActive() && channel.config().isAutoRead()) {
                reader.read();
            }
        }
    }

    @Override
    public void read(ChannelHandlerContext ctx) {
        if (reader == null) {
            ctx.read();
        } else if (ctx.channel().isActive()) {
            // Netty must not read this socket itself: its packets would lack IPv6 destinations.
            reader.read();
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof DatagramPacket p && needsNormalising(p)) {
            DatagramPacket normalised = new DatagramPacket(p.content(), UdpSteering.normalise(p.recipient()),
                    UdpSteering.normalise(p.sender()));
            ctx.fireChannelRead(normalised);
            return;
        }
        ctx.fireChannelRead(msg);
    }

    private static boolean needsNormalising(DatagramPacket p) {
        return UdpSteering.isIpv4Mapped(p.recipient()) || UdpSteering.isIpv4Mapped(p.sender());
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (msg instanceof AddressedEnvelope<?, ?> envelope
                && envelope.content() instanceof ByteBuf content
                && envelope.sender() instanceof InetSocketAddress sender
                && envelope.recipient() instanceof InetSocketAddress recipient) {
            if (loopGuard != null && loopGuard.refuses(recipient)) {
                // Steered back to us, it would be answered again, without end: not sent.
                io.netty.util.ReferenceCountUtil.release(msg);
                promise.trySuccess();
                return;
            }
            InetSocketAddress source = UdpSteering.normalise(sender);
            if (isReplySource(ctx.channel(), source)) {
                if (replies.write(source, content, recipient, promise)) {
                    return;
                }
                // No reply socket for this source: send from the listener (Netty ignores the
                // sender), counted and logged once by ReplyChannels.
            }
        }
        ctx.write(msg, promise);
    }

    private boolean isReplySource(Channel channel, InetSocketAddress source) {
        if (source.getPort() == 0 || source.getAddress().isAnyLocalAddress()) {
            return false;
        }
        if (localAddress == null) {
            SocketAddress local = channel.localAddress();
            if (!(local instanceof InetSocketAddress l)) {
                return false;
            }
            localAddress = UdpSteering.normalise(l);
        }
        return !source.equals(localAddress);
    }

    @Override
    public void flush(ChannelHandlerContext ctx) {
        replies.flush();
        ctx.flush();
    }

    @Override
    public void close(ChannelHandlerContext ctx, ChannelPromise promise) {
        // Before the listener's socket closes, so that when its close completes no descriptor of
        // the socket (the reader's duplicate) and no reply socket is left.
        release();
        ctx.close(promise);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        release();   // closes that bypassed the pipeline (event loop shutdown, I/O errors)
        ctx.fireChannelInactive();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        release();
    }

    private void release() {
        if (reader != null) {
            reader.close();
        }
        if (replies != null) {
            replies.closeAll();
        }
    }
}
