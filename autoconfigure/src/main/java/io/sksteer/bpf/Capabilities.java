package io.sksteer.bpf;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The effective capabilities of this process, as {@code /proc/self/status} reports them.
 *
 * <p>Steering needs {@link Capability#CAP_BPF} (or {@link Capability#CAP_SYS_ADMIN}) to load
 * programs and create maps, and {@link Capability#CAP_NET_ADMIN} for SOCKMAP and the netns link.
 */
public record Capabilities(Set<Capability> effective) {

    /** What sk_lookup steering needs, in words, for messages. */
    public static final String NEEDED = "needs CAP_BPF and CAP_NET_ADMIN (or root)";

    public Capabilities {
        effective = java.util.Collections.unmodifiableSet(
                effective.isEmpty() ? EnumSet.noneOf(Capability.class) : EnumSet.copyOf(effective));
    }

    /** Reads the effective set of the calling thread's process. */
    public static Capabilities current() {
        return fromStatus(Path.of("/proc/self/status"));
    }

    static Capabilities fromStatus(Path status) {
        try {
            for (String line : Files.readAllLines(status)) {
                if (line.startsWith("CapEff:")) {
                    return fromMask(Long.parseUnsignedLong(line.substring(7).trim(), 16));
                }
            }
            return new Capabilities(EnumSet.noneOf(Capability.class));
        } catch (IOException e) {
            throw new UncheckedIOException("read " + status, e);
        }
    }

    /** The capabilities whose bits are set in a kernel capability mask. */
    public static Capabilities fromMask(long mask) {
        EnumSet<Capability> set = EnumSet.noneOf(Capability.class);
        for (Capability c : Capability.values()) {
            if ((mask & (1L << c.number())) != 0) {
                set.add(c);
            }
        }
        return new Capabilities(set);
    }

    public boolean has(Capability capability) {
        return effective.contains(capability);
    }

    /** True when this process may load programs and create maps (CAP_BPF or CAP_SYS_ADMIN). */
    public boolean canUseBpf() {
        return has(Capability.CAP_BPF) || has(Capability.CAP_SYS_ADMIN);
    }

    /** True when this process holds everything steering needs. */
    public boolean canSteer() {
        return canUseBpf() && has(Capability.CAP_NET_ADMIN);
    }

    /** The capabilities steering needs that this process lacks (empty when it can steer). */
    public Set<Capability> missingForSteering() {
        EnumSet<Capability> missing = EnumSet.noneOf(Capability.class);
        if (!canUseBpf()) {
            missing.add(Capability.CAP_BPF);
        }
        if (!has(Capability.CAP_NET_ADMIN)) {
            missing.add(Capability.CAP_NET_ADMIN);
        }
        return missing;
    }

    @Override
    public String toString() {
        return effective.isEmpty() ? "none of CAP_BPF, CAP_NET_ADMIN, CAP_PERFMON, CAP_SYS_ADMIN"
                : effective.stream().map(Enum::name).collect(Collectors.joining(", "));
    }
}
