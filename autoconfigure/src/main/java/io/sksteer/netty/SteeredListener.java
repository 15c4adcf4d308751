package io.sksteer.netty;

import io.netty.channel.Channel;
import io.sksteer.bpf.SocketFd;
import io.sksteer.bpf.sklookup.Protocol;
import java.net.InetSocketAddress;

/**
 * A bound listener: its Netty channel and the socket the dispatcher hands traffic to.
 *
 * @param name the listener's name
 * @param protocol TCP or UDP
 * @param channel the server (TCP) or datagram (UDP) channel
 * @param socket its socket, as placed in the SOCKMAP
 * @param cookie the socket's cookie ({@code SO_COOKIE})
 * @param slot its SOCKMAP slot
 */
public record SteeredListener(String name, Protocol protocol, Channel channel, SocketFd socket, long cookie, int slot) {

    /** The address the real socket is bound to. */
    public InetSocketAddress boundAddress() {
        return (InetSocketAddress) channel.localAddress();
    }

    public boolean isOpen() {
        return channel.isOpen();
    }
}
