package io.sksteer.webserver;

import java.net.InetSocketAddress;
import java.time.Duration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Import;
import org.springframework.http.server.reactive.ServerHttpRequest;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;
import reactor.core.publisher.Mono;

/** A Spring WebFlux application with one controller that names the addresses of its request. */
@Configuration(proxyBeanMethods = false)
@EnableAutoConfiguration
@Import(FluxTestApp.WhoAmI.class)
public class FluxTestApp {

    @RestController
    static class WhoAmI {

        @GetMapping("/whoami")
        String whoami(ServerHttpRequest request) {
            InetSocketAddress local = request.getLocalAddress();
            InetSocketAddress remote = request.getRemoteAddress();
            return "flux local=" + WebServerSteeringKernelTest.text(local.getAddress(), local.getPort()) + " remote="
                    + WebServerSteeringKernelTest.text(remote.getAddress(), remote.getPort()) + " secure="
                    + (request.getSslInfo() != null);
        }

        @GetMapping("/slow")
        Mono<String> slow() {
            WebServerSteeringKernelTest.SLOW_STARTED.incrementAndGet();
            return Mono.delay(Duration.ofMillis(WebServerSteeringKernelTest.SLOW_MS)).map(x -> "slow done");
        }
    }
}
