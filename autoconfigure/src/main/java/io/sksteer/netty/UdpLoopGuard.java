package io.sksteer.netty;

import io.sksteer.bpf.sklookup.Protocol;
import io.sksteer.steering.RuleIndex;
import io.sksteer.steering.RuleSet;
import io.sksteer.steering.SteeringRule;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;

/**
 * Keeps a steered UDP listener from answering itself. sk_lookup also runs for datagrams a process
 * of the namespace sends, so a reply addressed to a destination inside the rules (a client that
 * sent from a steered address, or spoofed one) is steered back to one of our listeners, which
 * answers again: an endless loop from one datagram. Such a reply is not sent; it is counted and
 * logged at most once every 10 seconds.
 *
 * <p>The question is asked of the rules in force, through an index rebuilt when they change (its
 * cost follows the number of distinct prefix lengths, not of rules).
 */
public final class UdpLoopGuard {

    private static final System.Logger LOG = System.getLogger(UdpLoopGuard.class.getName());
    private static final long LOG_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(10);

    private volatile Supplier<RuleSet> rules = RuleSet::empty;
    private volatile RuleSet indexed;
    private volatile RuleIndex index;
    private final LongAdder refused = new LongAdder();
    private final AtomicLong nextLog = new AtomicLong(System.nanoTime());

    /** Asks {@code rules} for the rules in force from now on. */
    void watch(Supplier<RuleSet> rules) {
        this.rules = rules;
    }

    /**
     * Whether a datagram to {@code recipient} would be steered back to one of our listeners; if
     * so, counts it (the caller drops it).
     */
    boolean refuses(InetSocketAddress recipient) {
        RuleSet now = rules.get();
        RuleIndex i = index;
        if (now != indexed || i == null) {
            List<SteeringRule> udp = now.rules().stream().filter(r -> r.protocol() == Protocol.UDP).toList();
            i = RuleIndex.of(udp);
            index = i;
            indexed = now;
        }
        InetSocketAddress to = UdpSteering.normalise(recipient);
        var rule = i.match(Protocol.UDP, to.getAddress().getAddress(), to.getPort());
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

    private final java.util.Set<Long> replySockets = java.util.concurrent.ConcurrentHashMap.newKeySet();

    void replySocketOpened(long cookie) {
        replySockets.add(cookie);
    }

    void replySocketClosed(long cookie) {
        replySockets.remove(cookie);
    }

    /** Cookies of the reply sockets the listeners hold now (bound to steered addresses, and ours). */
    java.util.Set<Long> replySockets() {
        return java.util.Set.copyOf(replySockets);
    }

    /** Replies not sent because they would have looped back, since start. */
    public long refusedReplies() {
        return refused.sum();
    }
}
