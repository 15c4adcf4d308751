package io.sksteer.autoconfigure;

import io.sksteer.netty.SteeringEngine;
import io.sksteer.steering.RuleSet;
import io.sksteer.steering.SteeringConfig;
import io.sksteer.steering.SteeringRule;
import java.util.List;
import java.util.Map;

/**
 * Replaces the rules of the running application. The listeners stay as configured; the rules
 * over them change at once: the dispatcher program is neither reloaded nor detached, every lookup
 * sees the old or the new rules and never a mix, and established connections are untouched.
 *
 * <pre>{@code
 * rules.replace(Map.of("web", List.of(new SteeringConfig.RuleText(List.of("127.77.0.0/16"), List.of("443")))));
 * }</pre>
 */
public class SksteerRules {

    private final SksteerLifecycle lifecycle;

    public SksteerRules(SksteerLifecycle lifecycle) {
        this.lifecycle = lifecycle;
    }

    /** The rules in force, most specific first. */
    public List<SteeringRule> current() {
        return engine().rules().rules();
    }

    /**
     * Validates {@code rulesByListener} whole, then puts it in force. A listener left out loses
     * all its rules. Messages name the offending value as {@code rules.LISTENER[i].prefixes[j]}.
     *
     * @return the rules now in force
     * @throws io.sksteer.steering.InvalidRuleException if anything is wrong; the old rules stay
     * @throws IllegalStateException when steering is not running
     */
    public synchronized RuleSet replace(Map<String, List<SteeringConfig.RuleText>> rulesByListener) {
        SteeringEngine engine = engine();
        SteeringConfig config = lifecycle.config();
        RuleSet rules = SteeringConfig.Builder.rules(config.listeners(), rulesByListener, config.maxRules(),
                (listener, i) -> "rules." + listener + "[" + i + "]", "sksteer.max-rules");
        engine.replaceRules(rules);
        return rules;
    }

    private SteeringEngine engine() {
        SteeringEngine e = lifecycle.engine();
        if (e == null) {
            throw new IllegalStateException("steering is not running");
        }
        return e;
    }
}
