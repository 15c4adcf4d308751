package io.sksteer.actuate;

import io.sksteer.autoconfigure.SksteerRules;
import io.sksteer.steering.SteeringConfig;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.springframework.boot.actuate.endpoint.Access;
import org.springframework.boot.actuate.endpoint.annotation.WriteOperation;
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
@Endpoint(id = "sksteer", defaultAccess = Access.READ_ONLY)
public class SksteerEndpoint {

    private final SteeringInspector inspector;
    private final SksteerRules rules;

    public SksteerEndpoint(SteeringInspector inspector, SksteerRules rules) {
        this.inspector = inspector;
        this.rules = rules;
    }

    /**
     * {@code POST /actuator/sksteer/rules} with {@code {"listeners": {"web": [{"prefixes": [...],
     * "ports": [...]}]}}}: replaces the rules in force (see {@link SksteerRules#replace}). Off
     * unless {@code management.endpoint.sksteer.access=unrestricted}. 400 with the reason when the
     * new rules are invalid; the old ones stay in force.
     */
    @WriteOperation
    public WebEndpointResponse<Object> rules(@Selector String operation, @Nullable Map<String, Object> listeners) {
        if (!"rules".equals(operation)) {
            return error(WebEndpointResponse.STATUS_NOT_FOUND, "unknown operation '" + operation + "'; POST /actuator/sksteer/rules");
        }
        Map<String, List<SteeringConfig.RuleText>> parsed = new LinkedHashMap<>();
        try {
            if (listeners == null) {
                throw new IllegalArgumentException("body must be {\"listeners\": {\"NAME\": [{\"prefixes\": [...], \"ports\": [...]}]}}");
            }
            listeners.forEach((name, value) -> parsed.put(name, ruleTexts(name, value)));
            return new WebEndpointResponse<>(Map.of("rules", rules.replace(parsed).size()));
        } catch (IllegalArgumentException e) {   // InvalidRuleException among them
            return error(WebEndpointResponse.STATUS_BAD_REQUEST, e.getMessage());
        } catch (IllegalStateException e) {
            return error(WebEndpointResponse.STATUS_SERVICE_UNAVAILABLE, e.getMessage());
        }
    }

    private static List<SteeringConfig.RuleText> ruleTexts(String listener, Object value) {
        if (!(value instanceof List<?> list)) {
            throw new IllegalArgumentException("rules." + listener + " must be a list of {prefixes, ports}");
        }
        List<SteeringConfig.RuleText> out = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
            if (!(list.get(i) instanceof Map<?, ?> rule)) {
                throw new IllegalArgumentException("rules." + listener + "[" + i + "] must be {\"prefixes\": [...], \"ports\": [...]}");
            }
            out.add(new SteeringConfig.RuleText(strings(rule.get("prefixes")), strings(rule.get("ports"))));
        }
        return out;
    }

    private static List<String> strings(Object value) {
        if (value == null) {
            return List.of();
        }
        if (!(value instanceof List<?> list)) {
            return List.of(String.valueOf(value));
        }
        List<String> out = new ArrayList<>();
        list.forEach(v -> out.add(String.valueOf(v)));
        return out;
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
