package io.sksteer.actuate;

import io.sksteer.autoconfigure.SksteerRules;
import io.sksteer.steering.RuleSet;
import io.sksteer.steering.SteeringConfig;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.springframework.boot.actuate.endpoint.Access;
import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.actuate.endpoint.annotation.ReadOperation;
import org.springframework.boot.actuate.endpoint.annotation.Selector;
import org.springframework.boot.actuate.endpoint.annotation.WriteOperation;
import org.springframework.boot.actuate.endpoint.web.WebEndpointResponse;
import org.springframework.lang.Nullable;

/**
 * {@code /actuator/sksteer}: the steering state read back from the kernel;
 * {@code /actuator/sksteer/explain?protocol=tcp&address=127.77.1.2&port=8123}: what the live
 * program decides for one lookup, without sending traffic; {@code POST /actuator/sksteer/rules}:
 * replaces the rules (off unless {@code management.endpoint.sksteer.access=unrestricted}).
 */
@Endpoint(id = "sksteer", defaultAccess = Access.READ_ONLY)
public class SksteerEndpoint {

    private final SteeringInspector inspector;
    private final SksteerRules rules;

    public SksteerEndpoint(SteeringInspector inspector, SksteerRules rules) {
        this.inspector = inspector;
        this.rules = rules;
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

    /**
     * {@code POST /actuator/sksteer/rules} with {@code {"rules": "web 127.77.0.0/16,fd00::/64
     * 80,443; echo 127.77.0.0/16 5353"}}: replaces the rules in force (see
     * {@link SksteerRules#replace}). Each rule is {@code LISTENER PREFIXES PORTS}, commas inside
     * the lists, rules separated by {@code ;} or new lines (actuator write bodies are flat, so the
     * rules come as one string); a listener not named loses its rules. 400 with the reason when
     * the new rules are invalid: the old ones stay in force.
     *
     * <p>{@code POST /actuator/sksteer/add} and {@code /actuator/sksteer/remove}, with the same
     * body, add the rules given to those in force or remove them ({@link SksteerRules#add},
     * {@link SksteerRules#remove}); the answer is the number of rules in force after.
     */
    @WriteOperation
    public WebEndpointResponse<Object> rules(@Selector String operation, @Nullable String rules) {
        try {
            RuleSet now = switch (operation) {
                case "rules" -> this.rules.replace(parseRules(rules));
                case "add" -> this.rules.add(parseRules(rules));
                case "remove" -> this.rules.remove(parseRules(rules));
                default -> null;
            };
            if (now == null) {
                return error(WebEndpointResponse.STATUS_NOT_FOUND, "unknown operation '" + operation
                        + "'; POST /actuator/sksteer/rules, /actuator/sksteer/add or /actuator/sksteer/remove");
            }
            return new WebEndpointResponse<>(Map.of("rules", now.size()));
        } catch (IllegalArgumentException e) {   // InvalidRuleException among them
            return error(WebEndpointResponse.STATUS_BAD_REQUEST, e.getMessage());
        } catch (IllegalStateException e) {
            return error(WebEndpointResponse.STATUS_SERVICE_UNAVAILABLE, e.getMessage());
        }
    }

    /** {@code LISTENER PREFIX[,PREFIX...] PORTS[,PORTS...]} per rule, rules split by ';' or new lines. */
    static Map<String, List<SteeringConfig.RuleText>> parseRules(String text) {
        if (text == null || text.isBlank()) {
            throw new IllegalArgumentException("body must be {\"rules\": \"LISTENER PREFIXES PORTS; ...\"}, e.g. "
                    + "{\"rules\": \"web 127.77.0.0/16 80,443\"}");
        }
        Map<String, List<SteeringConfig.RuleText>> out = new LinkedHashMap<>();
        for (String rule : text.split("[;\\n]")) {
            if (rule.isBlank()) {
                continue;
            }
            String[] words = rule.trim().split("\\s+");
            if (words.length != 3) {
                throw new IllegalArgumentException("rule '" + rule.trim() + "' must be LISTENER PREFIXES PORTS");
            }
            out.computeIfAbsent(words[0], l -> new ArrayList<>())
                    .add(new SteeringConfig.RuleText(List.of(words[1].split(",")), List.of(words[2].split(","))));
        }
        return out;
    }

    private static WebEndpointResponse<Object> error(int status, String message) {
        return new WebEndpointResponse<>(Map.of("error", message), status);
    }
}
