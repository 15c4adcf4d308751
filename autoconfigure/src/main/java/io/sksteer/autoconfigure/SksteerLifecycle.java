package io.sksteer.autoconfigure;

import io.sksteer.netty.ListenerHandler;
import io.sksteer.netty.SteeringEngine;
import io.sksteer.steering.SteeringConfig;
import java.util.Map;
import org.springframework.context.SmartLifecycle;

/**
 * Starts steering late and stops it early: after the rest of the application (a web server
 * included) is up, and before it goes down, so traffic is only steered to listeners that serve.
 */
public class SksteerLifecycle implements SmartLifecycle {

    /** Starts after, and stops before, the embedded web server (DEFAULT_PHASE - 1024). */
    public static final int PHASE = SmartLifecycle.DEFAULT_PHASE - 512;

    private final SteeringConfig config;
    private final Map<String, ListenerHandler> handlers;
    private volatile SteeringEngine engine;

    public SksteerLifecycle(SteeringConfig config, Map<String, ListenerHandler> handlers) {
        this.config = config;
        this.handlers = Map.copyOf(handlers);
    }

    @Override
    public synchronized void start() {
        if (engine == null) {
            engine = SteeringEngine.start(config, handlers);
        }
    }

    @Override
    public synchronized void stop() {
        SteeringEngine e = engine;
        engine = null;
        if (e != null) {
            e.close();
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
