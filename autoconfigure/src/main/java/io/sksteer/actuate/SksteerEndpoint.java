package io.sksteer.actuate;

import io.sksteer.autoconfigure.RuleChangeAudit;
import io.sksteer.autoconfigure.SksteerRules;
import io.sksteer.steering.RuleSet;
import io.sksteer.steering.SteeringConfig;
import java.security.Principal;
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
 * {@code /actuator/sksteer}: the steering state read back from the kernel, and the last rule
 * changes; {@code /actuator/sksteer/explain?protocol=tcp&address=127.77.1.2&port=8123}: what the
 * live program decides for one lookup, without sending traffic; {@code POST
 * /actuator/sksteer/rules}, {@code /add}, {@code /remove}: live rule changes, off unless both
 * {@code sksteer.live-changes.enabled=true} and write access to the endpoint
 * ({@code management.endpoint.sksteer.access=unrestricted}) are given.
 */
@Endpoint(id = "sksteer", defaultAccess = Access.READ_ONLY)
public class SksteerEndpoint {

    /** The explicit form of "no rules at all" for {@code POST /actuator/sksteer/rules}. */
    static final String NO_RULES = "none";

    private final SteeringInspector inspector;
    private final SksteerRules rules;
    private final boolean liveChanges;
    private final int maxRules;
    private final long maxBody;

    /** An endpoint whose write operations are off. */
    public SksteerEndpoint(SteeringInspector inspector, SksteerRules rules) {
        this(inspector, rules, false, 4096, 256 * 1024);
    }

    /**
     * @param liveChanges whether the write operations change rules ({@code sksteer.live-changes.enabled})
     * @param maxRules the most rules one write may name ({@code sksteer.max-rules})
     * @param maxBody the longest rules text one write may carry, in characters
     */
    public SksteerEndpoint(SteeringInspector inspector, SksteerRules rules, boolean liveChanges, int maxRules, long maxBody) {
        this.inspector = inspector;
        this.rules = rules;
        this.liveChanges = liveChanges;
        this.maxRules = maxRules;
        this.maxBody = maxBody;
    }

    @ReadOperation
    public SteeringReport report() {
        List<String> ceiling = new ArrayList<>();
        List<io.sksteer.steering.RuleScope> all = rules.ceiling();
        for (int i = 0; i < all.size() && i < 20; i++) {
            ceiling.add(all.get(i).describe());
        }
        if (all.size() > 20) {
            ceiling.add("and " + (all.size() - 20) + " more");
        }
        return inspector.report().withLiveChanges(new SteeringReport.LiveChangesReport(liveChanges, ceiling, rules.audit().recent()));
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
    public WebEndpointResponse<Object> rules(@Selector String operation, @Nullable String rules, @Nullable Principal principal) {
        if (!List.of("rules", "add", "remove").contains(operation)) {
            return error(WebEndpointResponse.STATUS_NOT_FOUND, "unknown operation '" + operation
                    + "'; POST /actuator/sksteer/rules, /actuator/sksteer/add or /actuator/sksteer/remove");
        }
        if (!liveChanges) {
            return error(403, "live rule changes are off: set sksteer.live-changes.enabled=true to allow them (see docs/security.md)");
        }
        RuleChangeAudit.Origin origin = new RuleChangeAudit.Origin("http", principal == null ? null : principal.getName(),
                SksteerRequestGuard.currentRemoteAddress());
        try {
            if (rules != null && rules.length() > maxBody) {
                return error(413, "rules text of " + rules.length() + " characters is over the limit of " + maxBody
                        + " (sksteer.live-changes.max-body-size)");
            }
            Map<String, List<SteeringConfig.RuleText>> parsed = parseRules(rules, maxRules, operation.equals("rules"));
            RuleSet now = switch (operation) {
                case "rules" -> this.rules.replace(parsed, origin);
                case "add" -> this.rules.change(Map.of(), parsed, "add", origin);
                default -> this.rules.change(parsed, Map.of(), "remove", origin);
            };
            return new WebEndpointResponse<>(Map.of("rules", now.size()));
        } catch (IllegalArgumentException e) {   // InvalidRuleException among them
            return error(WebEndpointResponse.STATUS_BAD_REQUEST, e.getMessage());
        } catch (IllegalStateException e) {
            return error(WebEndpointResponse.STATUS_SERVICE_UNAVAILABLE, e.getMessage());
        }
    }

    /**
     * {@code LISTENER PREFIX[,PREFIX...] PORTS[,PORTS...]} per rule, rules split by ';' or new
     * lines. Refused: control characters (other than new lines and tabs), more than
     * {@code maxRules} rules (counted while parsing, prefixes × ports), and no rule at all unless
     * {@code emptyAllowed} and the text is {@value #NO_RULES}.
     */
    static Map<String, List<SteeringConfig.RuleText>> parseRules(String text, int maxRules, boolean emptyAllowed) {
        if (text == null || text.isBlank()) {
            throw new IllegalArgumentException("body must be {\"rules\": \"LISTENER PREFIXES PORTS; ...\"}, e.g. "
                    + "{\"rules\": \"web 127.77.0.0/16 80,443\"}");
        }
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if ((c < 0x20 && c != '\n' && c != '\t' && c != '\r') || (c >= 0x7f && c <= 0x9f)) {
                throw new IllegalArgumentException("control character U+" + String.format("%04X", (int) c) + " at offset " + i
                        + " of the rules text");
            }
        }
        if (text.trim().equals(NO_RULES)) {
            if (!emptyAllowed) {
                throw new IllegalArgumentException("'" + NO_RULES + "' only goes with POST /actuator/sksteer/rules");
            }
            return Map.of();
        }
        // The rule grammar of configuration and the Java API: one line per rule.
        Map<String, List<SteeringConfig.RuleText>> out = SksteerRules.parse(text, maxRules);
        if (out.isEmpty()) {
            throw new IllegalArgumentException("no rule given" + (emptyAllowed ? "; to remove every rule, send {\"rules\": \""
                    + NO_RULES + "\"}" : ""));
        }
        return out;
    }

    private static WebEndpointResponse<Object> error(int status, String message) {
        return new WebEndpointResponse<>(Map.of("error", message), status);
    }
}
