package io.sksteer.actuate;

import java.util.Map;
import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.actuate.endpoint.annotation.ReadOperation;
import org.springframework.boot.actuate.endpoint.annotation.Selector;
import org.springframework.boot.actuate.endpoint.web.WebEndpointResponse;
import org.springframework.lang.Nullable;

/**
 * {@code /actuator/sksteer}: the steering state read back from the kernel, and
 * {@code /actuator/sksteer/explain?protocol=tcp&address=127.77.1.2&port=8123}: what the live
 * program decides for one lookup, without sending traffic.
 */
@Endpoint(id = "sksteer")
public class SksteerEndpoint {

    private final SteeringInspector inspector;

    public SksteerEndpoint(SteeringInspector inspector) {
        this.inspector = inspector;
    }

    @ReadOperation
    public SteeringReport report() {
        return inspector.report();
    }

    /**
     * The live program's decision for one lookup; 400 with {@code {"error": "..."}} for bad
     * parameters, 503 when steering is not running or the kernel cannot test-run programs.
     */
    @ReadOperation
    public WebEndpointResponse<Object> explain(@Selector String operation, @Nullable String protocol,
            @Nullable String address, @Nullable Integer port, @Nullable String remoteAddress, @Nullable Integer remotePort) {
        if (!"explain".equals(operation)) {
            return error(WebEndpointResponse.STATUS_NOT_FOUND, "unknown operation '" + operation + "'; use /actuator/sksteer/explain");
        }
        if (port == null) {
            return error(WebEndpointResponse.STATUS_BAD_REQUEST, "parameters: protocol (tcp|udp), address, port; optional remoteAddress, remotePort");
        }
        try {
            return new WebEndpointResponse<>(inspector.explain(protocol, address, port, remoteAddress, remotePort));
        } catch (IllegalArgumentException e) {
            return error(WebEndpointResponse.STATUS_BAD_REQUEST, e.getMessage());
        } catch (IllegalStateException e) {
            return error(WebEndpointResponse.STATUS_SERVICE_UNAVAILABLE, e.getMessage());
        }
    }

    private static WebEndpointResponse<Object> error(int status, String message) {
        return new WebEndpointResponse<>(Map.of("error", message), status);
    }
}
