package io.sksteer.actuate;

import io.sksteer.bpf.BpfFeatures;
import io.sksteer.bpf.Capabilities;
import io.sksteer.bpf.Capability;
import io.sksteer.bpf.Feature;
import io.sksteer.bpf.LinkInfo;
import io.sksteer.bpf.sklookup.Protocol;
import io.sksteer.bpf.sklookup.SkLookupContext;
import io.sksteer.bpf.sklookup.SkLookupTestRun;
import io.sksteer.engine.SteeredListener;
import io.sksteer.engine.SteeringEngine;
import io.sksteer.steering.InvalidValueException;
import io.sksteer.steering.Prefix;
import io.sksteer.steering.RuleCounters;
import io.sksteer.steering.RuleGrammar;
import io.sksteer.steering.SteeringRule;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.OptionalLong;
import java.util.function.Supplier;

/**
 * Reads the steering state back from the kernel: for the endpoint, the health indicator and
 * explain. Knows nothing of Spring.
 */
public final class SteeringInspector {

    private final Supplier<SteeringEngine> engine;
    private final Feature testRun;

    /** @param engine the running engine, or {@code null} while stopped */
    public SteeringInspector(Supplier<SteeringEngine> engine) {
        this(engine, BpfFeatures.skLookupTestRun());
    }

    /**
     * @param engine the running engine, or {@code null} while stopped
     * @param testRun the probe explain consults before a test run: {@link BpfFeatures#skLookupTestRun()};
     *     tests pass the answer of a kernel before 5.13, which the machines they run on cannot give
     */
    SteeringInspector(Supplier<SteeringEngine> engine, Feature testRun) {
        this.engine = engine;
        this.testRun = testRun;
    }

    public SteeringReport report() {
        SteeringEngine e = engine.get();
        List<SteeringReport.FeatureReport> features = new ArrayList<>();
        for (Feature f : BpfFeatures.all()) {
            Throwable cause = f.unavailabilityCause();
            features.add(new SteeringReport.FeatureReport(f.name(), f.minimumKernel(), cause == null,
                    cause == null ? null : cause.getMessage()));
        }
        Capabilities caps = Capabilities.current();
        SteeringReport.CapabilityReport capabilities = new SteeringReport.CapabilityReport(
                caps.effective().stream().map(Enum::name).sorted().toList(),
                List.of(Capability.CAP_BPF.name(), Capability.CAP_NET_ADMIN.name()),
                caps.missingForSteering().stream().map(Enum::name).sorted().toList());
        if (e == null) {
            return new SteeringReport(false, null, null, List.of(), List.of(), features, capabilities);
        }
        List<Integer> ids = e.namespace().skLookupProgramIds();
        var program = e.dispatcher().program();
        List<SteeringReport.PeerReport> peers = new ArrayList<>();
        for (Peer p : peers(e, ids)) {
            peers.add(new SteeringReport.PeerReport(p.id(), p.name(), p.sksteer(), p.runsAfterOurs(), holders(p.id())));
        }
        SteeringReport.ProgramReport programReport = new SteeringReport.ProgramReport(program.id(), program.name(),
                program.tag(), ids.indexOf(program.id()) + 1, ids.size(), ids,
                peers.stream().anyMatch(p -> p.sksteer() && p.runsAfterOurs()) ? "standby" : "serving", peers);
        LinkInfo info = e.link().info();
        SteeringReport.LinkReport link = new SteeringReport.LinkReport(info.id(), e.config().netns().toString(),
                info.netnsInode() != 0 ? info.netnsInode() : e.namespace().inode(), info.attached(), e.descriptorStore());
        List<SteeringReport.ListenerReport> listeners = new ArrayList<>();
        for (SteeredListener l : e.listeners().values()) {
            listeners.add(new SteeringReport.ListenerReport(l.name(), l.protocol().name().toLowerCase(Locale.ROOT),
                    l.openedBy(), text(l.boundAddress()), l.cookie(),
                    inSockmap(e, l), l.isOpen()));
        }
        List<SteeringReport.RuleReport> rules = new ArrayList<>();
        // One snapshot: the rules in force and their counters read together, without waiting for a change.
        io.sksteer.steering.Dispatcher.Snapshot snapshot = e.dispatcher().snapshot();
        for (SteeringRule r : snapshot.rules().rules()) {
            RuleCounters c = snapshot.counters(r);
            rules.add(new SteeringReport.RuleReport(r.protocol().name().toLowerCase(Locale.ROOT), r.prefix().toString(),
                    r.ports().toString(), r.listener(), c.lookups(), c.steered(), c.missingSocket(), c.assignErrors(), r.origin()));
        }
        return new SteeringReport(true, programReport, link, listeners, rules, features, capabilities);
    }

    private record Holders(long until, List<Long> pids) {
    }

    private static final long HOLDERS_TTL_NANOS = java.util.concurrent.TimeUnit.SECONDS.toNanos(10);
    private final java.util.Map<Integer, Holders> holders = new java.util.concurrent.ConcurrentHashMap<>();

    /**
     * The processes holding program {@code id}, read from /proc at most once every 10 s per
     * program: finding them may read up to 100,000 files, which a stream of endpoint reads must
     * not repeat.
     */
    private List<Long> holders(int id) {
        long now = System.nanoTime();
        Holders h = holders.get(id);
        if (h == null || now - h.until() > 0) {
            if (holders.size() > 64) {
                holders.clear();
            }
            h = new Holders(now + HOLDERS_TTL_NANOS, io.sksteer.bpf.BpfProgram.holders(id));
            holders.put(id, h);
        }
        return h.pids();
    }

    /** Another sk_lookup program of the namespace, relative to ours. */
    record Peer(int id, String name, boolean sksteer, boolean runsAfterOurs) {
    }

    /** The other sk_lookup programs of the namespace ({@code ids} in run order). */
    static List<Peer> peers(SteeringEngine e, List<Integer> ids) {
        int ours = e.dispatcher().program().id();
        int at = ids.indexOf(ours);
        List<Peer> out = new ArrayList<>();
        for (int i = 0; i < ids.size(); i++) {
            int id = ids.get(i);
            if (id == ours) {
                continue;
            }
            String name;
            try {
                name = io.sksteer.bpf.BpfProgram.describe(id).map(io.sksteer.bpf.ProgramInfo::name).orElse("?");
            } catch (RuntimeException ex) {
                name = "?"; // opening a program by id needs CAP_SYS_ADMIN
            }
            out.add(new Peer(id, name, name.equals(e.dispatcher().program().name()), at >= 0 && i > at));
        }
        return out;
    }

    /** Whether the SOCKMAP slot of {@code l} holds {@code l}'s own socket. */
    public static boolean inSockmap(SteeringEngine e, SteeredListener l) {
        OptionalLong cookie = e.dispatcher().sockets().cookie(l.slot());
        return cookie.isPresent() && cookie.getAsLong() == l.cookie();
    }

    /**
     * Runs the live program once for a lookup of {@code protocol} to {@code address}:{@code port}.
     *
     * @throws IllegalArgumentException for bad parameters, with a message for the caller
     * @throws IllegalStateException when steering is not running or test runs are unsupported
     */
    public ExplainReport explain(String protocol, String address, int port, String remoteAddress, Integer remotePort) {
        SteeringEngine e = engine.get();
        if (e == null) {
            throw new IllegalStateException("steering is not running");
        }
        if (!testRun.isAvailable()) {
            throw new IllegalStateException("this kernel cannot test-run sk_lookup programs (needs Linux 5.13): "
                    + testRun.unavailabilityCause().getMessage());
        }
        Protocol proto;
        try {
            proto = RuleGrammar.protocol(protocol);
        } catch (InvalidValueException ex) {
            throw new IllegalArgumentException("protocol must be tcp or udp, not '" + protocol + "'");
        }
        InetAddress local = literal(address, "address");
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("port must be 1 to 65535, not " + port);
        }
        InetAddress remote = remoteAddress == null
                ? literal(local.getAddress().length == 4 ? "127.0.0.1" : "::1", "remoteAddress")
                : literal(remoteAddress, "remoteAddress");
        if (remote.getAddress().length != local.getAddress().length) {
            throw new IllegalArgumentException("address and remoteAddress must be of one family");
        }
        int rport = remotePort == null ? 40000 : remotePort;
        if (rport < 1 || rport > 65535) {
            throw new IllegalArgumentException("remotePort must be 1 to 65535, not " + rport);
        }
        SkLookupTestRun run = SkLookupTestRun.run(e.dispatcher().program(),
                new SkLookupContext(proto, new InetSocketAddress(local, port), new InetSocketAddress(remote, rport)), 1);
        String listener = null;
        if (run.selected().isPresent()) {
            for (SteeredListener l : e.listeners().values()) {
                if (l.cookie() == run.cookie()) {
                    listener = l.name();
                }
            }
        }
        String rule = e.dispatcher().rules().resolve(proto, local.getAddress(), port).map(SteeringRule::describe).orElse(null);
        int ipProtocol = proto == Protocol.TCP ? io.sksteer.bpf.Sockets.IPPROTO_TCP : io.sksteer.bpf.Sockets.IPPROTO_UDP;
        String bound = null;
        try {
            for (io.sksteer.bpf.BoundSocket s : io.sksteer.bpf.Sockets.bound(e.namespace())) {
                if (s.protocol() == ipProtocol && s.takes(local.getAddress(), port) && (bound == null || !s.wildcard())) {
                    bound = s.summary();   // an exact bind beats a wildcard one, as in the kernel's lookup
                }
            }
        } catch (io.sksteer.bpf.BpfException ex) {
            bound = "unknown: the socket inventory cannot be read (" + ex.getMessage() + ")";
        }
        return new ExplainReport(proto.name().toLowerCase(Locale.ROOT), text(new InetSocketAddress(local, port)),
                text(new InetSocketAddress(remote, rport)), run.verdict().name().toLowerCase(Locale.ROOT),
                run.selected().isPresent(), listener, rule, run.nsPerRun(), bound);
    }

    /** {@code 127.77.1.2:8123} or {@code [2001:db8::1]:443}. */
    static String text(InetSocketAddress a) {
        String host = a.getAddress().getHostAddress();
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + a.getPort();
    }

    /**
     * An address written as a literal, parsed as rules are ({@link Prefix#parse}): never a name,
     * so never a DNS query; {@code 127.1}, {@code 2135752962} and IPv4-mapped forms are refused.
     */
    private static InetAddress literal(String text, String name) {
        if (text == null || text.isBlank() || text.contains("/") || text.length() > 45) {
            throw new IllegalArgumentException(name + " must be an IPv4 or IPv6 address, not '" + text + "'");
        }
        try {
            return Prefix.parse(text, name).inetAddress();
        } catch (io.sksteer.steering.InvalidRuleException ex) {
            throw new IllegalArgumentException(name + " must be an IPv4 or IPv6 address, not '" + text + "': " + ex.problem());
        }
    }
}
