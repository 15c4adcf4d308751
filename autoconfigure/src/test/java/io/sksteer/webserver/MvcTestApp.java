package io.sksteer.webserver;

import jakarta.servlet.http.HttpServletRequest;
import java.net.InetAddress;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Import;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;

/** A Spring MVC application with one controller that names the addresses of its request. */
@Configuration(proxyBeanMethods = false)
@EnableAutoConfiguration
@Import(MvcTestApp.WhoAmI.class)
public class MvcTestApp {

    @RestController
    static class WhoAmI {

        @GetMapping("/whoami")
        String whoami(HttpServletRequest request) throws Exception {
            return "mvc local=" + text(request.getLocalAddr(), request.getLocalPort()) + " remote="
                    + text(request.getRemoteAddr(), request.getRemotePort()) + " secure=" + request.isSecure();
        }

        @GetMapping("/slow")
        String slow() throws InterruptedException {
            WebServerSteeringKernelTest.SLOW_STARTED.incrementAndGet();
            Thread.sleep(WebServerSteeringKernelTest.SLOW_MS); // an in-flight request for the graceful shutdown test
            return "slow done";
        }

        private static String text(String literal, int port) throws Exception {
            // Literals only (servlet containers report numeric addresses): no name is resolved.
            return WebServerSteeringKernelTest.text(InetAddress.getByName(literal), port);
        }
    }
}
