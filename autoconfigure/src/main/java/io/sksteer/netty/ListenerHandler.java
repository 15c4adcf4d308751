package io.sksteer.netty;

import io.netty.channel.Channel;

/**
 * Builds the Netty pipeline of one listener. For TCP it is called for every accepted connection
 * (whose {@code localAddress()} is the address and port the client dialled); for UDP once, for
 * the listener's datagram channel, whose inbound {@code DatagramPacket}s carry the original
 * destination as {@code recipient()}.
 *
 * <pre>{@code
 * @Bean
 * ListenerHandler web() {   // the bean name (or a @Qualifier) names the listener
 *     return channel -> channel.pipeline().addLast(new HttpServerCodec(), new HelloHandler());
 * }
 * }</pre>
 */
@FunctionalInterface
public interface ListenerHandler {

    /** Adds this listener's handlers to {@code channel.pipeline()}. */
    void initChannel(Channel channel) throws Exception;
}
