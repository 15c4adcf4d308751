package io.sksteer.netty;

import io.netty.channel.Channel;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.sksteer.bpf.SocketFd;
import io.sksteer.socket.ListenerSocket;
import java.net.InetSocketAddress;

/**
 * A listener socket sksteer bound itself, or took over from a service manager's descriptor store:
 * a Netty epoll server or datagram channel.
 */
public final class BoundChannel implements ListenerSocket {

    private final Channel channel;
    private final SocketFd socket;
    private final boolean inherited;

    BoundChannel(Channel channel, boolean inherited) {
        this.channel = channel;
        this.inherited = inherited;
        this.socket = channel instanceof EpollServerSocketChannel s ? new SocketFd(s.fd().intValue())
                : new SocketFd(((EpollDatagramChannel) channel).fd().intValue());
    }

    /** Whether the socket was inherited (bound by an earlier process) rather than bound here. */
    public boolean inherited() {
        return inherited;
    }

    /** The Netty channel on the socket. */
    public Channel channel() {
        return channel;
    }

    @Override
    public SocketFd socket() {
        return socket;
    }

    @Override
    public InetSocketAddress boundAddress() {
        return (InetSocketAddress) channel.localAddress();
    }

    @Override
    public boolean isOpen() {
        return channel.isOpen();
    }

    @Override
    public void close(long timeoutMillis) {
        channel.close().awaitUninterruptibly(timeoutMillis);
    }
}
