package io.sksteer.netty;

import io.sksteer.bpf.sklookup.Protocol;
import io.sksteer.steering.RuleIndex;
import io.sksteer.steering.RuleSet;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * Keeps a steered UDP listener from answering itself. sk_lookup also runs for datagrams a process
 * of the namespace sends, so a reply addressed to a destination inside the rules (a client that
 * sent from a steered address, or spoofed one) is steered back to one of our listeners, which
 * answers again: an endless loop from one datagram. Such a reply is not sent; it is counted and
 * logged at most once every 10 seconds.
 *
 * <p>The engine hands over an index of the UDP rules whenever the rules in force change, so a
 * reply costs one hash lookup per distinct prefix length and never builds anything.
 */
public final class UdpLoopGuard {

    private static final System.Logger LOG = System.getLogger(UdpLoopGuard.class.getName());
    private static final long LOG_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(10);

    private volatile RuleIndex udpRules = RuleIndex.of(List.of());
    private final LongAdder refused = new LongAdder();
    private final AtomicLong nextLog = new AtomicLong(System.nanoTime());

    /** Called with the rules in force, at start and after every change, before replies may use them. */
    void rulesInForce(RuleSet rules) {
        udpRules = RuleIndex.of(rules.rules().stream().filter(r -> r.protocol() == Protocol.UDP).toList());
    }

    /**
     * Whether a datagram to {@code recipient} would be steered back to one of our listeners; if
     * so, counts it (the caller drops it).
     */
    boolean refuses(InetSocketAddress recipient) {
        InetSocketAddress to = UdpSteering.normalise(recipient);
        var rule = udpRules.match(Protocol.UDP, to.getAddress().getAddress(), to.getPort());
        if (rule.isEmpty()) {
            return false;
        }
        refused.increment();
        long due = nextLog.get();
        if (System.nanoTime() - due >= 0 && nextLog.compareAndSet(due, System.nanoTime() + LOG_INTERVAL_NANOS)) {
            LOG.log(System.Logger.Level.WARNING, "sksteer: a UDP reply to " + to + " was not sent: the rule "
                    + rule.get().describe() + " would steer it back to a listener of ours (a loop); "
                    + refused.sum() + " such replies so far (logged at most every 10 s)");
        }
        return true;
    }

    /** Replies not sent because they would have looped back, since start. */
    public long refusedReplies() {
        return refused.sum();
    }
}
