package io.sksteer.engine;

import io.sksteer.bpf.Sockets;
import io.sksteer.bpf.sklookup.Protocol;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * How long a stop waits for connections steered before the detach: their handshake may still
 * complete after it (one round trip later), then they wait in the accept queue until accepted.
 *
 * @param timeout the longest a stop waits for the accept queues to empty
 * @param quietPeriod how long every accept queue must have stayed empty, counted from the
 *     detach: at least the round-trip time of the farthest clients
 */
public record Drain(Duration timeout, Duration quietPeriod) {

    private static final System.Logger LOG = System.getLogger(Drain.class.getName());

    /** Up to 5 s, with 100 ms of quiet. */
    public static final Drain DEFAULT = new Drain(Duration.ofSeconds(5), Duration.ofMillis(100));

    /** No wait at all: connections still in an accept queue are reset when it closes. */
    public static final Drain NONE = new Drain(Duration.ZERO, Duration.ZERO);

    public Drain {
        if (timeout.isNegative() || quietPeriod.isNegative()) {
            throw new IllegalArgumentException("drain durations must not be negative");
        }
    }

    /** Waits, within this drain, until no TCP listener of {@code listeners} has a connection left to accept. */
    void awaitAcceptQueues(Collection<SteeredListener> listeners) {
        List<SteeredListener> tcp = listeners.stream()
                .filter(l -> l.protocol() == Protocol.TCP && l.isOpen()).toList();
        if (tcp.isEmpty() || timeout.isZero()) {
            return;
        }
        long start = System.nanoTime();
        long deadline = start + timeout.toNanos();
        long lastBusy = start;
        while (true) {
            int waiting = 0;
            for (SteeredListener l : tcp) {
                try {
                    waiting += Sockets.acceptQueueLength(l.socket());
                } catch (RuntimeException e) {
                    // Closed meanwhile: nothing of it left to accept.
                }
            }
            long now = System.nanoTime();
            if (waiting > 0) {
                lastBusy = now;
            } else if (now - lastBusy >= quietPeriod.toNanos()) {
                return;
            }
            if (now - deadline >= 0) {
                LOG.log(System.Logger.Level.WARNING, "sksteer: " + waiting + " connections still wait in the accept queues after "
                        + timeout.toMillis() + " ms of draining; they are reset when the listeners close");
                return;
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(2));
        }
    }
}
