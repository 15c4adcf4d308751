package io.sksteer.autoconfigure;

import io.sksteer.bpf.FdStore;
import io.sksteer.engine.Drain;
import io.sksteer.engine.SteeringEngine;
import io.sksteer.netty.ListenerHandler;
import io.sksteer.steering.SteeringConfig;
import java.util.Map;
import org.springframework.context.SmartLifecycle;

/**
 * Starts steering late and stops it early: after the rest of the application is up, and before
 * it goes down, so traffic is only steered to listeners that serve.
 *
 * <p>With the embedded web server: Spring Boot starts it (binds and accepts) in phase
 * {@code START_STOP_LIFECYCLE_PHASE} (MAX_VALUE - 2048) and begins its graceful shutdown in
 * {@code GRACEFUL_SHUTDOWN_PHASE} (MAX_VALUE - 1024). This phase is above both: steering attaches
 * only once the server's socket exists and accepts, and at stop it detaches and drains the accept
 * queue while the server still accepts, before the graceful shutdown stops accepting.
 */
public class SksteerLifecycle implements SmartLifecycle {

    /** Starts after, and stops before, the embedded web server (DEFAULT_PHASE - 1024). */
    public static final int PHASE = SmartLifecycle.DEFAULT_PHASE - 512;

    private final SteeringConfig config;
    private final Map<String, ListenerHandler> handlers;
    private final AdoptedSockets adopted;
    private final Drain drain;
    private final FdStore fdStore;
    private volatile SteeringEngine engine;

    /** Steering to listeners sksteer binds, each served by its handler. */
    public SksteerLifecycle(SteeringConfig config, Map<String, ListenerHandler> handlers) {
        this(config, handlers, AdoptedSockets.NONE, Drain.DEFAULT, FdStore.none());
    }

    SksteerLifecycle(SteeringConfig config, Map<String, ListenerHandler> handlers, AdoptedSockets adopted,
            Drain drain, FdStore fdStore) {
        this.fdStore = fdStore;
        this.config = config;
        this.handlers = Map.copyOf(handlers);
        this.adopted = adopted;
        this.drain = drain;
    }

    @Override
    public synchronized void start() {
        if (engine == null) {
            // The web server is bound by now (a lower phase): its socket can be found.
            engine = SteeringEngine.start(config, handlers, adopted.find(), fdStore);
        }
    }

    @Override
    public synchronized void stop() {
        SteeringEngine e = engine;
        engine = null;
        if (e != null) {
            e.close(drain);
        }
    }

    @Override
    public boolean isRunning() {
        return engine != null;
    }

    @Override
    public int getPhase() {
        return PHASE;
    }

    /** The running engine, or {@code null} when stopped. */
    public SteeringEngine engine() {
        return engine;
    }

    public SteeringConfig config() {
        return config;
    }
}
