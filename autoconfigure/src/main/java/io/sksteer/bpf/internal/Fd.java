package io.sksteer.bpf.internal;

import com.sun.jna.LastErrorException;
import java.lang.ref.Cleaner;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The one owner of a kernel file descriptor. Every kernel object of this layer (map, program,
 * link, namespace handle) holds exactly one. {@link #close()} is idempotent; a {@link Cleaner}
 * closes a forgotten descriptor once the owner is unreachable, as a backstop only, and logs it.
 */
public final class Fd implements AutoCloseable {

    private static final Cleaner CLEANER = Cleaner.create();
    private static final System.Logger LOG = System.getLogger(Fd.class.getName());

    private final State state;
    private final Cleaner.Cleanable cleanable;

    private Fd(int fd, String description) {
        this.state = new State(fd, description);
        this.cleanable = CLEANER.register(this, state);
    }

    /** Takes ownership of {@code fd}, which the caller must not close itself. */
    public static Fd adopt(int fd, String description) {
        if (fd < 0) {
            throw new IllegalArgumentException("not a file descriptor: " + fd + " (" + description + ")");
        }
        return new Fd(fd, description);
    }

    /**
     * The descriptor number, for a system call made while this owner is open.
     *
     * @throws IllegalStateException if it was closed
     */
    public int get() {
        int fd = state.fd.get();
        if (fd < 0) {
            throw new IllegalStateException(state.description + " is closed");
        }
        return fd;
    }

    public boolean isOpen() {
        return state.fd.get() >= 0;
    }

    /** What this descriptor refers to, for messages. */
    public String description() {
        return state.description;
    }

    /** Closes the descriptor (once; later calls do nothing). */
    @Override
    public void close() {
        state.explicit = true;
        cleanable.clean();
    }

    @Override
    public String toString() {
        return state.description + (isOpen() ? " (fd " + state.fd.get() + ")" : " (closed)");
    }

    private static final class State implements Runnable {
        final AtomicInteger fd;
        final String description;
        volatile boolean explicit;

        State(int fd, String description) {
            this.fd = new AtomicInteger(fd);
            this.description = description;
        }

        @Override
        public void run() {
            int old = fd.getAndSet(-1);
            if (old < 0) {
                return;
            }
            if (!explicit) {
                LOG.log(System.Logger.Level.WARNING, "{0} (fd {1}) was never closed; closing it now", description, old);
            }
            try {
                LibC.close(old);
            } catch (LastErrorException e) {
                // EINTR still closes on Linux; EBADF would be a bug elsewhere. Nothing to retry either way.
                LOG.log(System.Logger.Level.DEBUG, "close({0}) of {1}: {2}", old, description, e.getMessage());
            }
        }
    }
}
