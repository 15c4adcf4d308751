package io.sksteer.actuate;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicLong;
import org.springframework.core.Ordered;
import org.springframework.core.io.buffer.DataBuffer;
import org.springframework.http.HttpMethod;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.server.reactive.ServerHttpRequest;
import org.springframework.http.server.reactive.ServerHttpRequestDecorator;
import org.springframework.web.server.ResponseStatusException;
import org.springframework.web.server.ServerWebExchange;
import org.springframework.web.server.WebFilter;
import org.springframework.web.server.WebFilterChain;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * {@link SksteerRequestGuard} for WebFlux: the same limits in front of the {@code sksteer}
 * endpoint. A body over the limit is refused with 413 on its Content-Length, or, without one,
 * as soon as more than the limit has arrived (the rest is never read).
 */
public final class SksteerReactiveRequestGuard implements WebFilter, Ordered {

    /** Up to this much of a refused body is read and dropped, as Tomcat's max-swallow-size does (2 MB). */
    private static final long DISCARD_AT_MOST = 2L * 1024 * 1024;

    private final String path;
    private final long maxBody;

    /**
     * @param path the endpoint's path ({@code /actuator/sksteer})
     * @param maxBody the largest body a write takes, in bytes
     */
    public SksteerReactiveRequestGuard(String path, long maxBody) {
        this.path = path;
        this.maxBody = maxBody;
    }

    @Override
    public int getOrder() {
        return 0; // after Spring Security's WebFilterChainProxy (-100)
    }

    @Override
    public Mono<Void> filter(ServerWebExchange exchange, WebFilterChain chain) {
        ServerHttpRequest request = exchange.getRequest();
        String uri = request.getPath().pathWithinApplication().value();
        if (!uri.equals(path) && !uri.startsWith(path + "/")) {
            return chain.filter(exchange);
        }
        String problem = SksteerRequestGuard.checkQuery(request.getURI().getRawQuery(), uri.endsWith("/explain"));
        if (problem != null) {
            return refuse(exchange, HttpStatus.BAD_REQUEST, problem);
        }
        if (request.getMethod() != HttpMethod.POST) {
            return chain.filter(exchange);
        }
        long length = request.getHeaders().getContentLength();
        if (length > maxBody) {
            Mono<Void> refusal = refuse(exchange, HttpStatus.PAYLOAD_TOO_LARGE, "body of " + length + " bytes is over the limit of "
                    + maxBody + " bytes (sksteer.live-changes.max-body-size)");
            // A body of modest size is read and dropped first (without it the client, still sending,
            // would see a reset instead of the answer); a larger one is not read at all.
            return length <= DISCARD_AT_MOST ? request.getBody().doOnNext(org.springframework.core.io.buffer.DataBufferUtils::release)
                    .then(refusal) : refusal;
        }
        AtomicLong seen = new AtomicLong();
        ServerHttpRequest limited = new ServerHttpRequestDecorator(request) {
            @Override
            public Flux<DataBuffer> getBody() {
                return super.getBody().map(b -> {
                    if (seen.addAndGet(b.readableByteCount()) > maxBody) {
                        org.springframework.core.io.buffer.DataBufferUtils.release(b);
                        throw new ResponseStatusException(HttpStatus.PAYLOAD_TOO_LARGE, "body over the limit of " + maxBody
                                + " bytes (sksteer.live-changes.max-body-size)");
                    }
                    return b;
                });
            }
        };
        return chain.filter(exchange.mutate().request(limited).build());
    }

    private static Mono<Void> refuse(ServerWebExchange exchange, HttpStatus status, String message) {
        var response = exchange.getResponse();
        response.setStatusCode(status);
        response.getHeaders().setContentType(MediaType.APPLICATION_JSON);
        byte[] body = ("{\"error\":\"" + message.replace("\\", "\\\\").replace("\"", "\\\"") + "\"}").getBytes(StandardCharsets.UTF_8);
        return response.writeWith(Mono.just(response.bufferFactory().wrap(body)));
    }
}
