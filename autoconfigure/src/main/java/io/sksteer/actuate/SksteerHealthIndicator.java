package io.sksteer.actuate;

import io.sksteer.bpf.LinkInfo;
import io.sksteer.engine.SteeredListener;
import io.sksteer.engine.SteeringEngine;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;

/**
 * UP while the link is attached, our program runs on the namespace and every listener's socket
 * is in the SOCKMAP; DOWN naming what is missing. Read from the kernel at each call.
 */
public class SksteerHealthIndicator implements HealthIndicator {

    private final Supplier<SteeringEngine> engine;
    private final Supplier<List<String>> warnings;

    public SksteerHealthIndicator(Supplier<SteeringEngine> engine) {
        this(engine, List::of);
    }

    /** @param warnings named warnings to show (a refused refresh, properties that need a restart) */
    public SksteerHealthIndicator(Supplier<SteeringEngine> engine, Supplier<List<String>> warnings) {
        this.engine = engine;
        this.warnings = warnings;
    }

    /**
     * The configured namespace file must still name the namespace we attached to. When it was
     * deleted ({@code ip netns delete}) or replaced, the namespace lives on (our sockets hold it)
     * and the program still steers it, but nothing can enter it by that name any more.
     */
    static String namespaceProblem(SteeringEngine e) {
        java.nio.file.Path path = e.config().netns();
        if (path.startsWith("/proc/self")) {
            return null; // this process's own: cannot go away under us
        }
        try (io.sksteer.bpf.NetworkNamespace now = io.sksteer.bpf.NetworkNamespace.open(path)) {
            return now.inode() == e.namespace().inode() ? null
                    : "namespace " + path + " now names another namespace (inode " + now.inode() + ", attached to "
                            + e.namespace().inode() + ")";
        } catch (RuntimeException ex) {
            return "namespace " + path + " was deleted (" + ex.getMessage() + "); the program still steers the namespace it was attached to";
        }
    }

    /** A named state, neither UP nor DOWN: a newer instance's program runs after ours and takes our traffic. */
    public static final org.springframework.boot.health.contributor.Status STANDBY = new org.springframework.boot.health.contributor.Status(
            "STANDBY", "a newer sksteer instance takes this instance's traffic");

    private static void peerDetails(SteeringEngine e, Health.Builder b) {
        List<String> before = new ArrayList<>();
        List<String> after = new ArrayList<>();
        List<String> overriding = new ArrayList<>();
        for (SteeringInspector.Peer p : SteeringInspector.peers(e, e.namespace().skLookupProgramIds())) {
            String text = "program " + p.id() + " '" + p.name() + "'";
            if (p.sksteer()) {
                (p.runsAfterOurs() ? after : before).add(text);
            } else if (p.runsAfterOurs()) {
                overriding.add(text);
            }
        }
        if (!after.isEmpty()) {
            b.status(STANDBY).withDetail("state", "standby").withDetail("supersededBy", after);
        } else {
            b.withDetail("state", "serving");
        }
        if (!before.isEmpty()) {
            b.withDetail("tookOverFrom", before);
        }
        if (!overriding.isEmpty()) {
            b.withDetail("overridable", List.of("programs run after ours and may override our selections with "
                    + "BPF_SK_LOOKUP_F_REPLACE, which our counters cannot see: " + overriding));
        }
    }

    @Override
    public Health health() {
        SteeringEngine e = engine.get();
        if (e == null) {
            return Health.down().withDetail("problems", List.of("steering is not running")).build();
        }
        List<String> problems = new ArrayList<>();
        LinkInfo link = e.link().info();
        if (!link.attached()) {
            problems.add("link " + link.id() + " is detached (the namespace " + e.config().netns() + " is gone, or it was detached)");
        } else {
            List<Integer> ids = e.namespace().skLookupProgramIds();
            if (!ids.contains(e.dispatcher().program().id())) {
                problems.add("program " + e.dispatcher().program().id() + " no longer runs on the namespace (runs: " + ids + ")");
            }
        }
        String namespaceProblem = namespaceProblem(e);
        if (namespaceProblem != null) {
            problems.add(namespaceProblem);
        }
        e.dispatcher().failure().ifPresent(f -> problems.add("a rule change stopped half way (" + f
                + "); rule changes are refused until steering restarts"));
        for (SteeredListener l : e.listeners().values()) {
            if (!l.isOpen()) {
                problems.add("listener '" + l.name() + "' is closed" + (l.source() instanceof io.sksteer.socket.AdoptedSocket a
                        ? " (" + a + " is gone)" : ""));
            } else if (!SteeringInspector.inSockmap(e, l)) {
                problems.add("listener '" + l.name() + "' socket is not in the SOCKMAP");
            }
        }
        Health.Builder b;
        List<String> refresh = warnings.get();
        if (!problems.isEmpty()) {
            b = Health.down().withDetail("problems", problems);
        } else {
            b = Health.up();
            if (link.attached()) {
                peerDetails(e, b);
            }
        }
        if (!refresh.isEmpty()) {
            b.withDetail("warnings", refresh);
        }
        return b.withDetail("program", e.dispatcher().program().id()).withDetail("link", link.id())
                .withDetail("listeners", e.listeners().size()).withDetail("rules", e.dispatcher().rules().size()).build();
    }
}
