package io.sksteer.sample;

import jakarta.servlet.http.HttpServletRequest;
import java.util.Map;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * The sample's own Spring MVC controller, reached through the listener 'site' on every address
 * and port of its rules: the request's local address is the one the client dialled.
 */
@RestController
class SampleController {

    @GetMapping("/hello")
    Map<String, String> hello(HttpServletRequest request) {
        return Map.of("listener", "site",
                "local", text(request.getLocalAddr(), request.getLocalPort()),
                "remote", text(request.getRemoteAddr(), request.getRemotePort()),
                "pid", Long.toString(ProcessHandle.current().pid()));   // which instance answered (rolling restarts)
    }

    /** {@code 127.78.1.2:80}, or {@code [2001:db8::1]:443} for IPv6 (servlet containers report numeric addresses). */
    private static String text(String address, int port) {
        return (address.contains(":") ? "[" + address + "]" : address) + ":" + port;
    }
}
