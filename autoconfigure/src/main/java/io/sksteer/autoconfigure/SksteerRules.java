package io.sksteer.autoconfigure;

import io.sksteer.netty.SteeringEngine;
import io.sksteer.steering.RuleSet;
import io.sksteer.steering.SteeringConfig;
import io.sksteer.steering.SteeringRule;
import java.util.List;
import java.util.Map;

/**
 * Changes the rules of the running application: {@link #replace} them whole, or {@link #add} and
 * {@link #remove} some (whose cost follows the size of the change, not of the rules in force). The
 * listeners stay as configured; the rules over them change at once: the dispatcher program is
 * neither reloaded nor detached, every lookup sees the old or the new rules and never a mix, and
 * established connections are untouched.
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

    /**
     * Adds {@code rulesByListener} to the rules in force; rules already in force are left as
     * they are. The work follows the size of the change, not of the rules in force. Messages
     * name the offending value as {@code add.LISTENER[i].prefixes[j]}.
     *
     * @return the rules now in force
     * @throws io.sksteer.steering.InvalidRuleException if anything is wrong (a syntax error, an
     *     unknown listener, a conflict with a rule in force, a limit); nothing changes then
     * @throws IllegalStateException when steering is not running
     */
    public RuleSet add(Map<String, List<SteeringConfig.RuleText>> rulesByListener) {
        return change(Map.of(), rulesByListener);
    }

    /**
     * Removes {@code rulesByListener} from the rules in force. Every rule named must be in force
     * (same listener, prefix and ports).
     *
     * @return the rules now in force
     * @throws io.sksteer.steering.InvalidRuleException if a rule is not in force or is malformed;
     *     nothing changes then
     * @throws IllegalStateException when steering is not running
     */
    public RuleSet remove(Map<String, List<SteeringConfig.RuleText>> rulesByListener) {
        return change(rulesByListener, Map.of());
    }

    /**
     * Removes {@code remove} and adds {@code add} in one change: every lookup sees the rules
     * before or after it, never a mix. As {@link #add} and {@link #remove}; messages name
     * values as {@code remove.LISTENER[i]...} and {@code add.LISTENER[i]...}.
     *
     * @return the rules now in force
     */
    public synchronized RuleSet change(Map<String, List<SteeringConfig.RuleText>> remove,
            Map<String, List<SteeringConfig.RuleText>> add) {
        SteeringEngine engine = engine();
        SteeringConfig config = lifecycle.config();
        RuleSet gone = SteeringConfig.Builder.rules(config.listeners(), remove, config.maxRules(),
                (listener, i) -> "remove." + listener + "[" + i + "]", "sksteer.max-rules");
        RuleSet fresh = SteeringConfig.Builder.rules(config.listeners(), add, config.maxRules(),
                (listener, i) -> "add." + listener + "[" + i + "]", "sksteer.max-rules");
        engine.changeRules(gone.rules(), fresh.rules());
        return engine.rules();
    }

    private SteeringEngine engine() {
        SteeringEngine e = lifecycle.engine();
        if (e == null) {
            throw new IllegalStateException("steering is not running");
        }
        return e;
    }
}
