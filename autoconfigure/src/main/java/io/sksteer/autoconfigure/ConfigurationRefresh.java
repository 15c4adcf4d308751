package io.sksteer.autoconfigure;

import io.sksteer.steering.RuleSet;
import io.sksteer.steering.SteeringConfig;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.bind.PropertySourcesPlaceholdersResolver;
import org.springframework.boot.context.properties.source.ConfigurationPropertyName;
import org.springframework.boot.context.properties.source.ConfigurationPropertySources;
import org.springframework.cloud.context.environment.EnvironmentChangeEvent;
import org.springframework.context.ApplicationListener;
import org.springframework.core.env.Environment;

/**
 * Follows refreshed configuration (Spring Cloud: {@code /actuator/refresh}, Bus, Kubernetes
 * ConfigMap reload all end in an {@link EnvironmentChangeEvent}): when the keys changed touch
 * {@code sksteer.listeners.*.rules}, the rules are bound again and their delta against the
 * configured rules is put in force as one change. Other {@code sksteer.*} keys only take effect
 * at a restart: they are reported (log and health), not ignored in silence. A refused refresh
 * keeps the rules in force. No sksteer bean is refresh-scoped: re-creating them would re-attach.
 */
final class ConfigurationRefresh implements ApplicationListener<EnvironmentChangeEvent> {

    private static final System.Logger LOG = System.getLogger(ConfigurationRefresh.class.getName());

    private final Environment environment;
    private final SksteerRules rules;
    private final SksteerLifecycle lifecycle;
    private volatile long lastNanos;
    private volatile long bindNanos;
    private volatile long validateNanos;

    ConfigurationRefresh(Environment environment, SksteerRules rules, SksteerLifecycle lifecycle) {
        this.environment = environment;
        this.rules = rules;
        this.lifecycle = lifecycle;
    }

    /** How long the last refresh took sksteer, from binding the rules to their being in force. */
    long lastNanos() {
        return lastNanos;
    }

    @Override
    public void onApplicationEvent(EnvironmentChangeEvent event) {
        List<String> sksteerKeys = event.getKeys().stream().filter(k -> k.startsWith("sksteer.")).sorted().toList();
        if (sksteerKeys.isEmpty() || lifecycle.engine() == null) {
            return;
        }
        long t0 = System.nanoTime();
        // The rule keys take effect now; of the others, a property needs a restart, and a key that
        // is no property refuses the refresh below (if it is still there: removed keys change too).
        List<String> restartNeeded = new ArrayList<>();
        List<String> unknown = new ArrayList<>();
        for (String k : sksteerKeys) {
            if (isLive(k)) {
                continue;
            }
            ConfigurationPropertyName name = ConfigurationPropertyName.adapt(k, '.');
            if (SksteerPropertyKeys.INSTANCE.isKnown(name, false) || name.equals(UnknownKeyCheck.KERNEL_TESTS_SWITCH)) {
                restartNeeded.add(k);
            } else if (environment.containsProperty(k)) {
                unknown.add(k);
            }
        }
        RuleSet next;
        try {
            refuseUnknown(unknown);
            // Read straight from the property sources where they can be listed, else bound.
            Map<String, List<SteeringConfig.RuleText>> texts = RuleProperties.read(environment);
            if (texts == null) {
                texts = bound(environment);
            }
            bindNanos = System.nanoTime() - t0;
            SteeringConfig config = lifecycle.config();
            try {
                next = SteeringConfig.Builder.rules(config.listeners(), texts, config.maxRules(), SksteerPropertyPaths.INSTANCE::rule);
            } catch (io.sksteer.steering.InvalidRuleException e) {
                throw SksteerPropertyPaths.mapped(e);
            }
            validateNanos = System.nanoTime() - t0 - bindNanos;
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "sksteer: a refresh of " + sksteerKeys + " was refused, the rules in force stay: "
                    + e.getMessage());
            rules.refreshRefused(e);
            return;
        }
        try {
            rules.applyConfigured(next, restartNeeded);
            lastNanos = System.nanoTime() - t0;
            LOG.log(System.Logger.Level.INFO, "sksteer: refreshed rules in force (" + next.size() + " configured) in "
                    + lastNanos / 1_000_000 + " ms (reading the properties: " + bindNanos / 1_000_000 + " ms, validating the rules: " + validateNanos / 1_000_000 + " ms)" + (restartNeeded.isEmpty() ? "" : "; these take effect only at a restart: "
                            + restartNeeded));
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "sksteer: a refresh of " + sksteerKeys + " was refused, the rules in force stay: "
                    + e.getMessage());
        }
    }

    /**
     * A refreshed key under {@code sksteer.} that is no property refuses the refresh, as it would
     * fail a start: a mistyped rule would otherwise be dropped without a word.
     */
    private static void refuseUnknown(List<String> keys) {
        if (keys.isEmpty()) {
            return;
        }
        List<String> named = keys.stream().limit(UnknownKeyCheck.MAX_REPORTED).map(k -> k + " (nearest known: "
                + SksteerPropertyKeys.INSTANCE.nearest(ConfigurationPropertyName.adapt(k, '.')) + ")").toList();
        throw new io.sksteer.steering.InvalidRuleException(keys.get(0), null, "not a sksteer property: " + String.join(", ", named)
                + (keys.size() > named.size() ? ", and " + (keys.size() - named.size()) + " more" : ""));
    }

    /**
     * The rules as the Binder binds them (with sksteer's converters): where a property source
     * cannot list its keys.
     */
    static Map<String, List<SteeringConfig.RuleText>> bound(Environment environment) {
        Binder binder = new Binder(ConfigurationPropertySources.get(environment), new PropertySourcesPlaceholdersResolver(environment),
                SksteerConverters.conversionService());
        SksteerProperties fresh;
        try {
            fresh = binder.bind("sksteer", SksteerProperties.class).orElseGet(SksteerProperties::new);
        } catch (org.springframework.boot.context.properties.bind.BindException e) {
            // A value that cannot be read, named as a start names it.
            io.sksteer.steering.InvalidRuleException problem = InvalidRuleFailureAnalyzer.problem(e);
            throw problem != null ? problem : e;
        }
        Map<String, List<SteeringConfig.RuleText>> out = new LinkedHashMap<>();
        fresh.getListeners().forEach((name, l) -> {
            List<SteeringConfig.RuleText> list = new ArrayList<>();
            for (SksteerProperties.Rule r : l.getRules()) {
                list.add(new SteeringConfig.RuleText(r.getPrefixes(), r.getPorts(), r.isAllowShadowing()));
            }
            out.put(name, list);
        });
        return out;
    }

    /** Whether a key takes effect at a refresh: the rules of a listener, and nothing else. */
    static boolean isLive(String key) {
        return LIVE.matcher(key).matches();
    }

    private static final java.util.regex.Pattern LIVE = java.util.regex.Pattern.compile(
            "sksteer\\.listeners\\.[^.]+\\.rules(\\[\\d+\\])?(\\.(prefixes|ports|allow-shadowing)(\\[\\d+\\])?)?");
}
