package io.sksteer.testkit;

import java.time.Duration;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Predicate;
import java.util.function.Supplier;

/** Bounded polling for state the kernel or Netty changes asynchronously. No fixed sleeps. */
public final class Awaits {

    private Awaits() {
    }

    /**
     * Reads {@code value} until {@code done} accepts it or {@code limit} passes, backing off from
     * 1 ms; returns the last value read either way, for the caller to assert on.
     */
    public static <T> T until(Supplier<T> value, Predicate<T> done, Duration limit) {
        long deadline = System.nanoTime() + limit.toNanos();
        long pause = 1_000_000;
        T v = value.get();
        while (!done.test(v) && System.nanoTime() < deadline) {
            LockSupport.parkNanos(pause);
            pause = Math.min(pause * 2, 50_000_000);
            v = value.get();
        }
        return v;
    }
}
