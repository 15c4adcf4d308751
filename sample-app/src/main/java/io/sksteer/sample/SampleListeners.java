package io.sksteer.sample;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.DatagramPacket;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.sksteer.netty.ListenerHandler;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** The handlers of the sample's two listeners, named like them. */
@Configuration(proxyBeanMethods = false)
class SampleListeners {

    /** Listener 'web': answers GET / with the addresses of the connection. */
    @Bean
    ListenerHandler web() {
        return channel -> channel.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(8192), new WhoAmI());
    }

    /** Listener 'echo': sends each datagram back, from the address and port it was sent to. */
    @Bean
    ListenerHandler echo() {
        return channel -> channel.pipeline().addLast(new SimpleChannelInboundHandler<DatagramPacket>() {
            @Override
            protected void channelRead0(ChannelHandlerContext ctx, DatagramPacket in) {
                ctx.writeAndFlush(new DatagramPacket(in.content().retain(), in.sender(), in.recipient()));
            }
        });
    }

    /** One line: {@code listener=web local=127.77.1.2:8123 remote=127.0.0.1:40312}. */
    private static final class WhoAmI extends SimpleChannelInboundHandler<FullHttpRequest> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
            boolean root = request.method() == HttpMethod.GET && request.uri().equals("/");
            String body = root
                    ? "listener=web local=" + text(ctx.channel().localAddress()) + " remote=" + text(ctx.channel().remoteAddress()) + "\n"
                    : "not found\n";
            ByteBuf content = Unpooled.copiedBuffer(body, StandardCharsets.UTF_8);
            FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                    root ? HttpResponseStatus.OK : HttpResponseStatus.NOT_FOUND, content);
            response.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8");
            HttpUtil.setContentLength(response, content.readableBytes());
            boolean keepAlive = HttpUtil.isKeepAlive(request);
            if (keepAlive) {
                response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
            }
            var write = ctx.writeAndFlush(response);
            if (!keepAlive) {
                write.addListener(ChannelFutureListener.CLOSE);
            }
        }

        private static String text(SocketAddress address) {
            InetSocketAddress a = (InetSocketAddress) address;
            String host = a.getAddress().getHostAddress();
            return (host.contains(":") ? "[" + host + "]" : host) + ":" + a.getPort();
        }
    }
}
