package io.sksteer.testkit;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.DatagramPacket;
import io.sksteer.netty.ListenerHandler;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * Listeners that say who they are: a TCP connection gets one line {@code NAME LOCAL REMOTE}; a
 * datagram gets {@code NAME LOCAL PAYLOAD} back from the address it was sent to.
 */
public final class LabelledListeners {

    private LabelledListeners() {
    }

    public static ListenerHandler tcp(String name) {
        return ch -> ch.pipeline().addLast(new ChannelInboundHandlerAdapter() {
            @Override
            public void channelActive(ChannelHandlerContext ctx) {
                String line = name + " " + text(ch.localAddress()) + " " + text(ch.remoteAddress()) + "\n";
                ctx.writeAndFlush(Unpooled.copiedBuffer(line, StandardCharsets.UTF_8)).addListener(ChannelFutureListener.CLOSE);
            }
        });
    }

    public static ListenerHandler udp(String name) {
        return ch -> ch.pipeline().addLast(new SimpleChannelInboundHandler<DatagramPacket>() {
            @Override
            protected void channelRead0(ChannelHandlerContext ctx, DatagramPacket in) {
                String reply = name + " " + text(in.recipient()) + " " + in.content().toString(StandardCharsets.UTF_8);
                ByteBuf out = Unpooled.copiedBuffer(reply, StandardCharsets.UTF_8);
                ctx.writeAndFlush(new DatagramPacket(out, in.sender(), in.recipient()));
            }
        });
    }

    /** {@code 127.77.1.2:8123} or {@code [fd00::1]:443}. */
    public static String text(java.net.SocketAddress a) {
        InetSocketAddress i = (InetSocketAddress) a;
        String host = i.getAddress().getHostAddress();
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + i.getPort();
    }

    /**
     * Connects from inside {@code ns} and returns the first line the listener sent, or
     * {@code "refused"} when the connection was refused.
     */
    public static String tcpLine(TestNetns ns, InetSocketAddress target) {
        try {
            return ns.call(() -> {
                try (Socket s = new Socket()) {
                    s.connect(target, TestSockets.TIMEOUT_MS);
                    s.setSoTimeout(TestSockets.TIMEOUT_MS);
                    return new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8)).readLine();
                } catch (java.net.ConnectException e) {
                    return "refused";
                }
            });
        } catch (RuntimeException e) {
            throw new AssertionError("TCP to " + target + " failed: " + e.getMessage(), e);
        }
    }

    /**
     * Sends {@code GET / HTTP/1.0} from inside {@code ns} and returns the first line of the body,
     * or {@code "refused"} when the connection was refused.
     */
    public static String httpGet(TestNetns ns, InetSocketAddress target) {
        return ns.call(() -> {
            try (Socket s = new Socket()) {
                s.connect(target, TestSockets.TIMEOUT_MS);
                s.setSoTimeout(TestSockets.TIMEOUT_MS);
                s.getOutputStream().write("GET / HTTP/1.0\r\nHost: sksteer\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
                String line;
                while ((line = in.readLine()) != null && !line.isEmpty()) {
                    // headers
                }
                return in.readLine();
            } catch (java.net.ConnectException e) {
                return "refused";
            }
        });
    }

    /** The label part (first word) of {@link #tcpLine}. */
    public static String tcpLabel(TestNetns ns, InetSocketAddress target) {
        return tcpLine(ns, target).split(" ")[0];
    }
}
