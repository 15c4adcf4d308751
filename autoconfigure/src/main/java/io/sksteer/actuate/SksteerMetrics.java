package io.sksteer.actuate;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import io.sksteer.autoconfigure.SksteerLifecycle;
import io.sksteer.engine.SteeringEngine;
import io.sksteer.steering.Dispatcher;
import io.sksteer.steering.RuleCounters;
import io.sksteer.steering.RuleIdentity;
import io.sksteer.steering.SteeringRule;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Supplier;
import java.util.function.ToLongFunction;
import org.springframework.context.SmartLifecycle;

/**
 * Micrometer meters over the dispatcher's per-CPU counters: {@code sksteer.lookups} tagged
 * {@code listener}, {@code rule} and {@code outcome} (matched, steered, missing_socket, assign_error), and
 * gauges {@code sksteer.rules} and {@code sksteer.listeners}. Bound once steering runs.
 */
public class SksteerMetrics implements MeterBinder, SmartLifecycle {

    private final Supplier<SteeringEngine> engine;
    private final List<MeterRegistry> registries = new CopyOnWriteArrayList<>();
    /** Per registry, the meters of each rule. */
    private final Map<MeterRegistry, Map<RuleIdentity, List<Meter>>> ruleMeters = new HashMap<>();
    /** What the rule meters read: one snapshot of every rule's counters per scrape. */
    private final Readings readings = new Readings();
    private volatile boolean running;
    /** Changes of more rules than this return before their meters are registered. */
    static final int WAIT_FOR_METERS_UP_TO = 256;
    /** One thread at most, gone after a second idle: the changes' meters in order, nothing kept running. */
    private final java.util.concurrent.ThreadPoolExecutor follower = new java.util.concurrent.ThreadPoolExecutor(1, 1, 1,
            java.util.concurrent.TimeUnit.SECONDS, new java.util.concurrent.LinkedBlockingQueue<>(), r -> {
                Thread t = new Thread(r, "sksteer-metrics");
                t.setDaemon(true);
                return t;
            });

    {
        follower.allowCoreThreadTimeOut(true);
    }

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
        FunctionCounter.builder("sksteer.udp.replies.looped", engine, e -> e.get() == null ? 0 : e.get().loopedRepliesRefused())
                .description("UDP replies not sent because the rules would steer them back to a listener of ours").register(registry);
        registerRules(registry);
    }

    @Override
    public void start() {
        running = true;
        registries.forEach(this::registerRules);
        SteeringEngine e = engine.get();
        if (e != null) {
            // Rules changed at run time: the meters of the rules that went are removed and meters
            // added for the new ones; the others stay, whatever the number of rules.
            // Registering meters costs some 10 µs each, four per rule: a change of thousands of
            // rules must not wait for it to be in force. One thread keeps the changes in order;
            // a small change waits for its meters, so they are there when it returns.
            e.onRulesChanged(change -> {
                java.util.concurrent.Future<?> done = follower.submit(() -> registries.forEach(registry -> follow(registry, change)));
                if (change.removed().size() + change.added().size() <= WAIT_FOR_METERS_UP_TO) {
                    try {
                        done.get(10, java.util.concurrent.TimeUnit.SECONDS);
                    } catch (InterruptedException ex) {
                        Thread.currentThread().interrupt();
                    } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException ex) {
                        // the meters are late or failed: steering is not affected
                    }
                }
            });
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

    /** Meters for every rule in force that has none yet in {@code registry}; none for rules gone. */
    private synchronized void registerRules(MeterRegistry registry) {
        SteeringEngine e = engine.get();
        if (e == null) {
            return;
        }
        Map<RuleIdentity, List<Meter>> mine = ruleMeters.computeIfAbsent(registry, r -> new HashMap<>());
        Set<RuleIdentity> wanted = new HashSet<>();
        for (SteeringRule rule : e.dispatcher().rules().rules()) {
            wanted.add(rule.identity());
            mine.computeIfAbsent(rule.identity(), k -> meters(registry, rule));
        }
        mine.entrySet().removeIf(entry -> {
            if (wanted.contains(entry.getKey())) {
                return false;
            }
            entry.getValue().forEach(registry::remove);
            return true;
        });
    }

    private synchronized void follow(MeterRegistry registry, Dispatcher.RuleChange change) {
        Map<RuleIdentity, List<Meter>> mine = ruleMeters.computeIfAbsent(registry, r -> new HashMap<>());
        for (SteeringRule rule : change.removed()) {
            List<Meter> gone = mine.remove(rule.identity());
            if (gone != null) {
                gone.forEach(registry::remove);
            }
        }
        for (SteeringRule rule : change.added()) {
            mine.computeIfAbsent(rule.identity(), k -> meters(registry, rule));
        }
    }

    private List<Meter> meters(MeterRegistry registry, SteeringRule rule) {
        return List.of(counter(registry, rule, "matched", RuleCounters::lookups),
                counter(registry, rule, "steered", RuleCounters::steered),
                counter(registry, rule, "missing_socket", RuleCounters::missingSocket),
                counter(registry, rule, "assign_error", RuleCounters::assignErrors));
    }

    private Meter counter(MeterRegistry registry, SteeringRule rule, String outcome, ToLongFunction<RuleCounters> read) {
        int meter = readings.newMeter();
        return FunctionCounter.builder("sksteer.lookups", engine, s -> {
                    SteeringEngine e = s.get();
                    return e == null ? 0 : read.applyAsLong(readings.counters(e.dispatcher(), meter, rule));
                })
                .description("Socket lookups matched by a steering rule, by outcome")
                .tag("listener", rule.listener())
                .tag("rule", rule.protocol().name().toLowerCase() + " " + rule.prefix() + " " + rule.ports())
                .tag("outcome", outcome)
                .register(registry);
    }

    /**
     * The snapshot the rule meters read ({@link Dispatcher#snapshot()}: every rule's counters in
     * one pass, without the dispatcher's lock), taken again when a meter is read a second time
     * from it (a new scrape has begun) or it is older than a second. A scrape then costs one
     * pass, not four lookups per rule, and never waits for a rule change.
     */
    private static final class Readings {
        private static final long MAX_AGE_NANOS = java.util.concurrent.TimeUnit.SECONDS.toNanos(1);
        private int meters;
        private Dispatcher dispatcher;
        private Dispatcher.Snapshot snapshot;
        private long takenAt;
        private final java.util.BitSet read = new java.util.BitSet();

        synchronized int newMeter() {
            return meters++;
        }

        synchronized RuleCounters counters(Dispatcher d, int meter, SteeringRule rule) {
            if (snapshot == null || dispatcher != d || read.get(meter) || System.nanoTime() - takenAt > MAX_AGE_NANOS) {
                dispatcher = d;
                snapshot = d.snapshot();
                takenAt = System.nanoTime();
                read.clear();
            }
            read.set(meter);
            return snapshot.counters(rule);
        }
    }
}
