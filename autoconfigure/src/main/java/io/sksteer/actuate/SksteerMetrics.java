package io.sksteer.actuate;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import io.sksteer.netty.SteeringEngine;
import io.sksteer.steering.RuleCounters;
import io.sksteer.steering.SteeringRule;
import io.sksteer.autoconfigure.SksteerLifecycle;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Supplier;
import org.springframework.context.SmartLifecycle;
import java.util.function.ToLongFunction;

/**
 * Micrometer meters over the dispatcher's per-CPU counters: {@code sksteer.lookups} tagged
 * {@code listener}, {@code rule} and {@code outcome} (steered, missing_socket, assign_error), and
 * gauges {@code sksteer.rules} and {@code sksteer.listeners}. Bound once steering runs.
 */
public class SksteerMetrics implements MeterBinder, SmartLifecycle {

    private final Supplier<SteeringEngine> engine;
    private final List<MeterRegistry> registries = new CopyOnWriteArrayList<>();
    private volatile boolean running;

    public SksteerMetrics(Supplier<SteeringEngine> engine) {
        this.engine = engine;
    }

    /** Registries are bound before steering starts: the per-rule meters follow in {@link #start()}. */
    @Override
    public void bindTo(MeterRegistry registry) {
        registries.add(registry);
        Gauge.builder("sksteer.rules", engine, e -> e.get() == null ? 0 : e.get().dispatcher().rules().size())
                .description("Steering rules in force").register(registry);
        Gauge.builder("sksteer.listeners", engine, e -> e.get() == null ? 0 : e.get().listeners().size())
                .description("Steered listeners").register(registry);
        registerRules(registry);
    }

    @Override
    public void start() {
        running = true;
        registries.forEach(this::registerRules);
        SteeringEngine e = engine.get();
        if (e != null) {
            // Rules replaced at run time: meters of rules that went are removed, new ones added.
            e.onRulesChanged(rules -> registries.forEach(this::registerRules));
        }
    }

    @Override
    public void stop() {
        running = false;
    }

    @Override
    public boolean isRunning() {
        return running;
    }

    /** Right after steering starts. */
    @Override
    public int getPhase() {
        return SksteerLifecycle.PHASE + 1;
    }

    private synchronized void registerRules(MeterRegistry registry) {
        SteeringEngine e = engine.get();
        if (e == null) {
            return;
        }
        java.util.Set<io.micrometer.core.instrument.Meter.Id> wanted = new java.util.HashSet<>();
        for (SteeringRule rule : e.dispatcher().rules().rules()) {
            wanted.add(counter(registry, rule, "matched", RuleCounters::lookups));
            wanted.add(counter(registry, rule, "steered", RuleCounters::steered));
            wanted.add(counter(registry, rule, "missing_socket", RuleCounters::missingSocket));
            wanted.add(counter(registry, rule, "assign_error", RuleCounters::assignErrors));
        }
        for (io.micrometer.core.instrument.Meter m : registry.find("sksteer.lookups").meters()) {
            if (!wanted.contains(m.getId())) {
                registry.remove(m);
            }
        }
    }

    private io.micrometer.core.instrument.Meter.Id counter(MeterRegistry registry, SteeringRule rule, String outcome,
            ToLongFunction<RuleCounters> read) {
        return FunctionCounter.builder("sksteer.lookups", engine, s -> {
                    SteeringEngine e = s.get();
                    return e == null ? 0 : read.applyAsLong(e.dispatcher().counters(rule));
                })
                .description("Socket lookups matched by a steering rule, by outcome")
                .tag("listener", rule.listener())
                .tag("rule", rule.protocol().name().toLowerCase() + " " + rule.prefix() + " " + rule.ports())
                .tag("outcome", outcome)
                .register(registry).getId();
    }
}
