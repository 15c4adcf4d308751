package io.sksteer.netty;

import java.time.Duration;
import java.util.Objects;

/**
 * How a steered UDP listener keeps the sockets it sends replies from: one per original destination
 * (address and port) it answers from, closed after {@code idleTimeout} without a reply, at most
 * {@code maxOpen} at a time (the least recently used goes first).
 *
 * @param idleTimeout how long a reply socket may go unused before it is closed (default 30 s);
 *     also how long a destination whose socket could not be bound is answered from the listener
 *     before binding is tried again
 * @param maxOpen the most reply sockets one listener keeps open (default 64)
 */
public record ReplySocketOptions(Duration idleTimeout, int maxOpen) {

    /** 30 seconds idle, 64 sockets. */
    public static final ReplySocketOptions DEFAULTS = new ReplySocketOptions(Duration.ofSeconds(30), 64);

    public ReplySocketOptions {
        Objects.requireNonNull(idleTimeout, "idleTimeout");
        if (idleTimeout.isNegative() || idleTimeout.isZero()) {
            throw new IllegalArgumentException("idleTimeout must be positive, not " + idleTimeout);
        }
        if (maxOpen < 1) {
            throw new IllegalArgumentException("maxOpen must be at least 1, not " + maxOpen);
        }
    }
}
