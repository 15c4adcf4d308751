package io.sksteer.bpf;

import java.util.Optional;
import java.util.function.Supplier;

/**
 * One kernel capability, found by trying it once (lazily) and remembered. Like Netty's
 * {@code Epoll}: {@link #isAvailable()}, {@link #unavailabilityCause()}, {@link #ensureAvailable()}.
 */
public final class Feature {

    private final String name;
    private final String minimumKernel;
    private final Supplier<Optional<Throwable>> probe;
    private volatile Optional<Throwable> outcome;

    Feature(String name, String minimumKernel, Supplier<Optional<Throwable>> probe) {
        this.name = name;
        this.minimumKernel = minimumKernel;
        this.probe = probe;
    }

    /** What this feature is, in words. */
    public String name() {
        return name;
    }

    /** The first kernel release that has it, e.g. {@code 5.9}. */
    public String minimumKernel() {
        return minimumKernel;
    }

    public boolean isAvailable() {
        return result().isEmpty();
    }

    /** Why the feature is not available, or {@code null} when it is. */
    public Throwable unavailabilityCause() {
        return result().orElse(null);
    }

    /**
     * @throws BpfException naming the feature, the minimum kernel and the probe's failure
     */
    public void ensureAvailable() {
        Throwable cause = unavailabilityCause();
        if (cause != null) {
            int errno = cause instanceof BpfException b ? b.errno() : 0;
            boolean refused = errno == Errno.EPERM.number() || errno == Errno.EACCES.number();
            throw new BpfException(name, errno, (refused ? "not permitted: " : "not available (needs Linux " + minimumKernel + "): ")
                    + cause.getMessage(), cause);
        }
    }

    private Optional<Throwable> result() {
        Optional<Throwable> r = outcome;
        if (r == null) {
            synchronized (this) {
                r = outcome;
                if (r == null) {
                    r = probe.get();
                    outcome = r;
                }
            }
        }
        return r;
    }

    @Override
    public String toString() {
        Throwable cause = unavailabilityCause();
        return name + ": " + (cause == null ? "available" : "unavailable (" + cause.getMessage() + ")");
    }
}
