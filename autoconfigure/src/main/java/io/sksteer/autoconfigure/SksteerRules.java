package io.sksteer.autoconfigure;

import io.sksteer.engine.SteeringEngine;
import io.sksteer.steering.Dispatcher;
import io.sksteer.steering.InvalidRuleException;
import io.sksteer.steering.RuleGrammar;
import io.sksteer.steering.RuleScope;
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
    private volatile List<RuleScope> ceiling;
    private final String ceilingSource;
    private final boolean ceilingFollowsConfiguration;
    /** The configured rules: at start, then as the last good refresh restated them. */
    private RuleSet configured;
    private volatile List<String> refreshWarnings = List.of();
    private final RuleChangeAudit audit = new RuleChangeAudit();

    /** Live changes bounded by the configured rules: none may reach beyond them. */
    public SksteerRules(SksteerLifecycle lifecycle) {
        this(lifecycle, List.of());
    }

    /**
     * @param ceiling where live changes may steer; empty: within the configured rules, each for
     *     its own listener
     */
    public SksteerRules(SksteerLifecycle lifecycle, List<RuleScope> ceiling) {
        this.lifecycle = lifecycle;
        this.configured = lifecycle.config().rules();
        this.ceilingFollowsConfiguration = ceiling.isEmpty();
        if (ceiling.isEmpty()) {
            this.ceiling = configured.rules().stream().map(RuleScope::of).toList();
            this.ceilingSource = "the configured rules (sksteer.listeners.*.rules; widen it with sksteer.live-changes.allowed)";
        } else {
            this.ceiling = List.copyOf(ceiling);
            this.ceilingSource = "sksteer.live-changes.allowed";
        }
    }

    /**
     * Puts refreshed configuration in force: the rules it removes from the configured ones go,
     * the rules it adds come, in one change; rules added or removed at run time (HTTP, API) are
     * left as they are. The ceiling of live changes follows the configured rules when it is the
     * default. Not subject to the ceiling: this is configuration, not a live change.
     *
     * @param next the configured rules now, validated
     * @param restartNeeded refreshed properties that only take effect at a restart (reported, not applied)
     * @return the rules in force after
     * @throws RuntimeException when the change is refused; the rules in force stay, and the
     *     reason stays among {@link #warnings()} until a refresh succeeds
     */
    public synchronized RuleSet applyConfigured(RuleSet next, List<String> restartNeeded) {
        SteeringEngine engine = engine();
        RuleChangeAudit.Origin origin = new RuleChangeAudit.Origin("refresh", null, null);
        List<String> warnings = new java.util.ArrayList<>();
        if (!restartNeeded.isEmpty()) {
            warnings.add("refreshed properties that take effect only at a restart: " + restartNeeded);
        }
        try {
            java.util.Set<Object> inForce = keys(engine.rules().rules());
            java.util.Set<Object> before = keys(configured.rules());
            java.util.Set<Object> after = keys(next.rules());
            List<SteeringRule> remove = configured.rules().stream().filter(r -> !after.contains(key(r)) && inForce.contains(key(r))).toList();
            List<SteeringRule> add = next.rules().stream().filter(r -> !before.contains(key(r)) && !inForce.contains(key(r))).toList();
            if (!remove.isEmpty() || !add.isEmpty()) {
                Dispatcher.RuleChange change = engine.changeRules(remove, add);
                audit.applied("refresh", origin, change, engine.rules().size());
            }
            configured = next;
            if (ceilingFollowsConfiguration) {
                ceiling = next.rules().stream().map(RuleScope::of).toList();
            }
            refreshWarnings = List.copyOf(warnings);
            return engine.rules();
        } catch (RuntimeException e) {
            audit.refused("refresh", origin, e, engine.rules().size());
            warnings.add("the last refresh was refused, the rules in force stay: " + e.getMessage());
            refreshWarnings = List.copyOf(warnings);
            throw e;
        }
    }

    /** Problems of the last refresh (refused, or properties that need a restart); empty when none. */
    public List<String> warnings() {
        return refreshWarnings;
    }

    /** Records a refresh refused before it reached the rules (invalid properties). */
    public void refreshRefused(RuntimeException reason) {
        audit.refused("refresh", new RuleChangeAudit.Origin("refresh", null, null), reason, engine().rules().size());
        refreshWarnings = List.of("the last refresh was refused, the rules in force stay: " + reason.getMessage());
    }

    /** A rule's identity for deltas: what it matches and where it steers, not where it was written. */
    private static Object key(SteeringRule r) {
        return r.identity();
    }

    private static java.util.Set<Object> keys(List<SteeringRule> rules) {
        java.util.Set<Object> out = new java.util.HashSet<>(rules.size() * 2);
        for (SteeringRule r : rules) {
            out.add(key(r));
        }
        return out;
    }

    /** Where live changes may steer: every rule they put in force lies in one of these. */
    public List<RuleScope> ceiling() {
        return ceiling;
    }

    private void checkCeiling(java.util.Collection<SteeringRule> rules) {
        for (SteeringRule r : rules) {
            boolean inside = false;
            for (RuleScope c : ceiling) {
                if (c.covers(r)) {
                    inside = true;
                    break;
                }
            }
            if (!inside) {
                throw new io.sksteer.steering.InvalidRuleException(r.origin(), r.describe(),
                        "outside the ceiling of live changes, " + ceilingSource + ": " + describe(ceiling));
            }
        }
    }

    private static String describe(List<RuleScope> scopes) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < scopes.size() && i < 8; i++) {
            b.append(i == 0 ? "" : ", ").append(scopes.get(i).describe());
        }
        return b.append(scopes.size() > 8 ? ", and " + (scopes.size() - 8) + " more" : "").toString();
    }

    /** The rules in force, most specific first. */
    public List<SteeringRule> current() {
        return engine().rules().rules();
    }

    /** The record of changes made through this bean. */
    public RuleChangeAudit audit() {
        return audit;
    }

    /**
     * Validates {@code rulesByListener} whole, then puts it in force. A listener left out loses
     * all its rules. Messages name the offending value as {@code rules.LISTENER[i].prefixes[j]}.
     *
     * @return the rules now in force
     * @throws io.sksteer.steering.InvalidRuleException if anything is wrong (also a rule outside
     *     the {@link #ceiling()}, or one over another socket); the old rules stay
     * @throws IllegalStateException when steering is not running
     */
    public RuleSet replace(Map<String, List<SteeringConfig.RuleText>> rulesByListener) {
        return replace(rulesByListener, RuleChangeAudit.Origin.API);
    }

    /** {@link #replace(Map)} on behalf of {@code origin}, as the audit records it. */
    public synchronized RuleSet replace(Map<String, List<SteeringConfig.RuleText>> rulesByListener, RuleChangeAudit.Origin origin) {
        SteeringEngine engine = engine();
        try {
            SteeringConfig config = lifecycle.config();
            RuleSet rules = SteeringConfig.Builder.rules(config.listeners(), rulesByListener, config.maxRules(),
                    (listener, i) -> "rules." + listener + "[" + i + "]");
            checkCeiling(rules.rules());
            Dispatcher.RuleChange change = engine.replaceRules(rules);
            audit.applied("replace", origin, change, rules.size());
            return rules;
        } catch (io.sksteer.steering.InvalidRuleException e) {
            InvalidRuleException mapped = SksteerPropertyPaths.mapped(e);
            audit.refused("replace", origin, mapped, engine.rules().size());
            throw mapped;
        } catch (RuntimeException e) {
            audit.refused("replace", origin, e, engine.rules().size());
            throw e;
        }
    }

    /**
     * Adds {@code rulesByListener} to the rules in force; rules already in force are left as
     * they are. The work follows the size of the change, not of the rules in force. Messages
     * name the offending value as {@code add.LISTENER[i].prefixes[j]}.
     *
     * @return the rules now in force
     * @throws io.sksteer.steering.InvalidRuleException if anything is wrong (a syntax error, an
     *     unknown listener, a conflict with a rule in force, a limit, the ceiling, a shadowed
     *     socket); nothing changes then
     * @throws IllegalStateException when steering is not running
     */
    public RuleSet add(Map<String, List<SteeringConfig.RuleText>> rulesByListener) {
        return change(Map.of(), rulesByListener, "add", RuleChangeAudit.Origin.API);
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
        return change(rulesByListener, Map.of(), "remove", RuleChangeAudit.Origin.API);
    }

    /**
     * Removes {@code remove} and adds {@code add} in one change: every lookup sees the rules
     * before or after it, never a mix. As {@link #add} and {@link #remove}; messages name
     * values as {@code remove.LISTENER[i]...} and {@code add.LISTENER[i]...}.
     *
     * @return the rules now in force
     */
    public RuleSet change(Map<String, List<SteeringConfig.RuleText>> remove, Map<String, List<SteeringConfig.RuleText>> add) {
        return change(remove, add, "change", RuleChangeAudit.Origin.API);
    }

    /** {@link #change(Map, Map)} on behalf of {@code origin}; {@code operation} names it in the audit. */
    public synchronized RuleSet change(Map<String, List<SteeringConfig.RuleText>> remove,
            Map<String, List<SteeringConfig.RuleText>> add, String operation, RuleChangeAudit.Origin origin) {
        SteeringEngine engine = engine();
        try {
            SteeringConfig config = lifecycle.config();
            RuleSet gone = SteeringConfig.Builder.rules(config.listeners(), remove, config.maxRules(),
                    (listener, i) -> "remove." + listener + "[" + i + "]");
            RuleSet fresh = SteeringConfig.Builder.rules(config.listeners(), add, config.maxRules(),
                    (listener, i) -> "add." + listener + "[" + i + "]");
            checkCeiling(fresh.rules());
            Dispatcher.RuleChange change = engine.changeRules(gone.rules(), fresh.rules());
            audit.applied(operation, origin, change, engine.rules().size());
            return engine.rules();
        } catch (io.sksteer.steering.InvalidRuleException e) {
            InvalidRuleException mapped = SksteerPropertyPaths.mapped(e);
            audit.refused(operation, origin, mapped, engine.rules().size());
            throw mapped;
        } catch (RuntimeException e) {
            audit.refused(operation, origin, e, engine.rules().size());
            throw e;
        }
    }

    /**
     * Rules in their one-line form, {@code LISTENER PREFIX[,PREFIX...] PORTS[,PORTS...]} per rule,
     * one per line or separated by {@code ;}, as the actuator endpoint takes them; the lists and
     * each value are read as configuration reads them ({@link RuleGrammar}), when the rules are
     * given to {@link #replace}, {@link #add} or {@link #remove}.
     *
     * @param maxRules the most rules (prefixes × ports) the text may hold
     * @throws InvalidRuleException for a rule that is not three words, or too many rules
     */
    public static Map<String, List<SteeringConfig.RuleText>> parse(String text, int maxRules) {
        try {
            return RuleGrammar.lines(text, maxRules);
        } catch (io.sksteer.steering.InvalidValueException e) {
            throw new InvalidRuleException(null, e.value(), e.problem());
        } catch (InvalidRuleException e) {
            throw SksteerPropertyPaths.mapped(e);
        }
    }

    private SteeringEngine engine() {
        SteeringEngine e = lifecycle.engine();
        if (e == null) {
            throw new IllegalStateException("steering is not running");
        }
        return e;
    }
}
