package io.sksteer.actuate;

import org.springframework.boot.actuate.endpoint.InvalidEndpointRequestException;
import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.actuate.endpoint.annotation.ReadOperation;
import org.springframework.boot.actuate.endpoint.annotation.Selector;
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

    @ReadOperation
    public ExplainReport explain(@Selector String operation, String protocol, String address, int port,
            @Nullable String remoteAddress, @Nullable Integer remotePort) {
        if (!"explain".equals(operation)) {
            throw new InvalidEndpointRequestException("unknown operation '" + operation + "'; use explain",
                    "unknown operation; use /actuator/sksteer/explain");
        }
        try {
            return inspector.explain(protocol, address, port, remoteAddress, remotePort);
        } catch (IllegalArgumentException | IllegalStateException e) {
            throw new InvalidEndpointRequestException(e.getMessage(), e.getMessage());
        }
    }
}
