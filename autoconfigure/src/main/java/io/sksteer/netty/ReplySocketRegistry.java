package io.sksteer.netty;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The reply sockets the engine's UDP listeners hold now, by cookie. They are bound to steered
 * addresses by design, so the shadow check must know them for ours.
 */
public final class ReplySocketRegistry {

    private final Set<Long> cookies = ConcurrentHashMap.newKeySet();

    void opened(long cookie) {
        cookies.add(cookie);
    }

    void closed(long cookie) {
        cookies.remove(cookie);
    }

    /** The cookies now. */
    Set<Long> snapshot() {
        return Set.copyOf(cookies);
    }
}
