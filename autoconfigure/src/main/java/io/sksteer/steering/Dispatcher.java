package io.sksteer.steering;

import io.sksteer.bpf.BpfProgram;
import io.sksteer.bpf.KernelMap;
import io.sksteer.bpf.SocketMap;
import io.sksteer.steering.TableState.Member;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The dispatcher: its kernel objects ({@link DispatcherObjects}) and the rule set in force.
 * Creating one fills the maps and loads the program; attaching is the caller's last step.
 *
 * <p>{@link #apply} and {@link #change} replace the rules without touching the program, and
 * write only what the change touches: rule ids are reserved ({@link RuleIds}), the tables
 * updated ({@link TableState}), their changed entries planned ({@link EntryPlanner}) and written
 * in the generation not in force, then flipped ({@link GenerationWriter}). No lookup sees a mix of
 * old and new rules. Changes hold this object's lock; readers take a {@link #snapshot()} without
 * it.
 */
public final class Dispatcher implements AutoCloseable {

    /**
     * What the last {@link #apply} wrote: singles (table buckets and hash elements) and summaries
     * written and deleted, gate and bucket words written (both phases of a change counted), and
     * how many single-port entries are in the singles hash because their table bucket is full.
     */
    public record ApplyStats(int entriesWritten, int entriesDeleted, int gateWords, int bucketWords, int overflowing) {
    }

    /** What a change did to the rules in force: the rules it removed and those it added. */
    public record RuleChange(List<SteeringRule> removed, List<SteeringRule> added) {
    }

    /**
     * The rules in force and every rule's counters, read together: the counters are those of
     * exactly these rules, read in one pass after them.
     *
     * @param rules the rules in force
     * @param counters each rule's counters summed over CPUs, by identity, in the rules' order
     * @param failure why a rule change stopped half way, if one did ({@link Dispatcher#failure()})
     */
    public record Snapshot(RuleSet rules, Map<RuleIdentity, RuleCounters> counters, Optional<String> failure) {

        /** The counters of {@code rule} (zero for a rule not in force). */
        public RuleCounters counters(SteeringRule rule) {
            return counters.getOrDefault(rule.identity(), RuleCounters.ZERO);
        }
    }

    private final Map<String, Integer> slots;
    private final DispatcherObjects objects;
    private final RuleIds ids;
    /** The tables of the rules in force, changed in place by each change. */
    private final TableState tables;
    private final EntryPlanner planner;
    private final GenerationWriter writer;
    /** Why a change stopped half way, after which no further change is made; null if none did. */
    private volatile String failure;
    private volatile ApplyStats lastApply = new ApplyStats(0, 0, 0, 0, 0);

    private Dispatcher(int maxRules, Map<String, Integer> slots, boolean dropOnMissing) {
        this.slots = Map.copyOf(slots);
        this.ids = new RuleIds(maxRules);
        this.tables = new TableState(maxRules);
        this.planner = new EntryPlanner(DispatchTables.tableBits(maxRules));
        this.objects = new DispatcherObjects(maxRules, slots.size(), dropOnMissing);
        this.writer = new GenerationWriter(objects, planner);
    }

    /**
     * Creates the maps, writes {@code rules} and loads the program (not attached).
     *
     * @param maxRules capacity of the rule tables and counters
     * @param slots the SOCKMAP slot of each listener name
     * @param dropOnMissing whether a matched rule whose socket is gone drops (else passes)
     * @throws InvalidRuleException when the rules exceed a limit; nothing is left open then
     */
    public static Dispatcher create(RuleSet rules, int maxRules, Map<String, Integer> slots, boolean dropOnMissing) {
        Dispatcher d = new Dispatcher(maxRules, slots, dropOnMissing);
        try {
            d.fill(rules);
            d.objects.awaitProgram();
            return d;
        } catch (RuntimeException e) {
            d.close();
            throw e;
        }
    }

    /** The SOCKMAP holding each listener's socket at its slot. */
    public SocketMap<Integer> sockets() {
        return objects.sockets;
    }

    /** The loaded dispatcher program. */
    public BpfProgram program() {
        return objects.program();
    }

    /** The maps, for reports. */
    public List<KernelMap> maps() {
        return objects.maps();
    }

    /** The slot of each listener. */
    public Map<String, Integer> slots() {
        return slots;
    }

    /** The rules in force (without waiting for a change being made). */
    public RuleSet rules() {
        return ids.rules();
    }

    /** A rule's counters summed over CPUs (zero for a rule not in force). */
    public RuleCounters counters(SteeringRule rule) {
        int id = ids.idOf(rule.identity());
        return id < 0 ? RuleCounters.ZERO : objects.counters.sum(id, RuleCounters::plus);
    }

    /**
     * The rules in force with every rule's counters, read without waiting for a change being
     * made (nor its wait for program runs in flight): the rules before or after it, never a mix.
     */
    public Snapshot snapshot() {
        RuleIds.InForce now = ids.inForceNow();
        List<SteeringRule> rules = now.rules().rules();
        Map<RuleIdentity, RuleCounters> counters = new LinkedHashMap<>(rules.size() * 4 / 3 + 1);
        for (int i = 0; i < rules.size(); i++) {
            int id = now.ids()[i];
            counters.put(rules.get(i).identity(), id < 0 ? RuleCounters.ZERO : objects.counters.sum(id, RuleCounters::plus));
        }
        return new Snapshot(now.rules(), counters, failure());
    }

    /**
     * Why a rule change stopped half way (a kernel call failed while the maps were being written),
     * if one did. Lookups stay whole, but no further change is made.
     */
    public Optional<String> failure() {
        return Optional.ofNullable(failure);
    }

    /** What the last successful {@link #apply} (or the creation) wrote to the maps. */
    public ApplyStats lastApply() {
        return lastApply;
    }

    /** Before anything reads the maps: {@code rules} into the empty maps, in force at once. */
    private synchronized void fill(RuleSet rules) {
        rules.rules().forEach(this::checkListener);
        RuleIds.Reservation reservation = ids.reserve();
        Map<RuleIdentity, Member> added = reserve(rules.rules(), reservation, new BitSet());
        GroupEntries.Change delta = tables.update(List.of(), added.values(), slots::get);
        reservation.markUsed();
        lastApply = writer.fillEmpty(planner.plan(delta), tables);
        ids.commit(rules, Map.of(), added);
    }

    /**
     * Replaces the rule set in force. The program is neither reloaded nor detached, no lookup
     * sees a mix of old and new rules, and the map writes are proportional to the change.
     *
     * @throws InvalidRuleException if the rules exceed a limit or name an unknown listener; the
     *     rules in force stay as they were
     */
    public synchronized RuleChange apply(RuleSet next) {
        checkNoFailure();
        List<SteeringRule> nextRules = next.rules();
        nextRules.forEach(this::checkListener);
        // Rules that stay keep their ids; new ones take ids from the free list.
        BitSet kept = new BitSet(ids.capacity());
        RuleIds.Reservation reservation = ids.reserve();
        Map<RuleIdentity, Member> added = reserve(nextRules, reservation, kept);
        Map<RuleIdentity, Member> removed = new LinkedHashMap<>();
        for (Member m : ids.members()) {
            if (!kept.get(m.id())) {
                removed.put(m.rule().identity(), m);
            }
        }
        return replace(java.util.concurrent.CompletableFuture.completedFuture(next), removed, added, reservation, false);
    }

    /** The rules of {@code rules} not in force, with ids reserved; the ids of those in force set in {@code kept}. */
    private Map<RuleIdentity, Member> reserve(List<SteeringRule> rules, RuleIds.Reservation reservation, BitSet kept) {
        // Sized for the first fill; a change usually adds few.
        Map<RuleIdentity, Member> added = new LinkedHashMap<>(ids.members().isEmpty() ? rules.size() * 4 / 3 + 1 : 16);
        for (SteeringRule r : rules) {
            RuleIdentity identity = r.identity();
            Member m = ids.inForce(identity);
            if (m != null) {
                kept.set(m.id());
                continue;
            }
            Member fresh = reservation.take(r);
            if (fresh == null) {
                reservation.abort();
                throw new RuleCapacityException(r.origin(), ids.capacity(), "more than " + ids.capacity() + " rules");
            }
            added.put(identity, fresh);
        }
        return added;
    }

    /**
     * Removes {@code remove} from the rules in force and adds {@code add}, as {@link #apply}
     * would with the resulting rule set, at a cost that follows the size of the change rather
     * than of the rule set. Rules to add that are already in force are left as they are; rules
     * are the same when their {@link RuleIdentity} is (their origins may differ).
     *
     * @throws InvalidRuleException if a rule to remove is not in force, a rule to add names an
     *     unknown listener or conflicts with another, or a limit is exceeded; nothing changes then
     */
    public synchronized RuleChange change(Collection<SteeringRule> remove, Collection<SteeringRule> add) {
        checkNoFailure();
        Map<RuleIdentity, Member> removed = new LinkedHashMap<>();
        for (SteeringRule r : remove) {
            RuleIdentity identity = r.identity();
            Member m = ids.inForce(identity);
            if (m == null) {
                throw new InvalidRuleException(r.origin(), r.describe(), "no such rule is in force");
            }
            removed.put(identity, m);
        }
        Map<RuleIdentity, SteeringRule> wanted = new LinkedHashMap<>();
        for (SteeringRule r : add) {
            checkListener(r);
            RuleIdentity identity = r.identity();
            if (removed.remove(identity) == null && ids.inForce(identity) == null) {
                wanted.putIfAbsent(identity, r);
            }
        }
        if (wanted.size() > ids.free()) {
            // The rules removed keep their counters until the change is made.
            throw new RuleCapacityException(wanted.values().iterator().next().origin(), ids.capacity(), "more than " + ids.capacity()
                    + " rules while the change is made (the rules it removes count until it is done)");
        }
        RuleIds.Reservation reservation = ids.reserve();
        Map<RuleIdentity, Member> added = new LinkedHashMap<>();
        wanted.forEach((identity, r) -> added.put(identity, reservation.take(r)));
        // The next rule set (a merge of sorted lists, a fifth of a large change) is made on another
        // core while the tables are changed; it is awaited before anything is written.
        RuleSet inForce = ids.rules();
        List<SteeringRule> leaving = rulesOf(removed);
        List<SteeringRule> arriving = List.copyOf(wanted.values());
        java.util.concurrent.Future<RuleSet> next;
        try {
            next = MERGES.submit(() -> RuleSet.merged(inForce, leaving, arriving));
        } catch (RuntimeException e) {
            reservation.abort();
            throw e;
        }
        return replace(next, removed, added, reservation, true);
    }

    /** One thread, gone when idle, for the merges of large changes. */
    private static final java.util.concurrent.ThreadPoolExecutor MERGES = new java.util.concurrent.ThreadPoolExecutor(1, 1, 1,
            java.util.concurrent.TimeUnit.SECONDS, new java.util.concurrent.LinkedBlockingQueue<>(), r -> {
                Thread t = new Thread(r, "sksteer-rule-merge");
                t.setDaemon(true);
                return t;
            });

    static {
        MERGES.allowCoreThreadTimeOut(true);
    }

    private static RuleSet await(java.util.concurrent.Future<RuleSet> next) {
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    return next.get();
                } catch (InterruptedException e) {
                    interrupted = true;          // a merge takes milliseconds: finish the change
                }
            }
        } catch (java.util.concurrent.ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw new IllegalStateException("making the next rule set failed", e.getCause());
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private static List<SteeringRule> rulesOf(Map<RuleIdentity, Member> members) {
        List<SteeringRule> out = new ArrayList<>(members.size());
        members.values().forEach(m -> out.add(m.rule()));
        return out;
    }

    private void checkListener(SteeringRule r) {
        if (!slots.containsKey(r.listener())) {
            throw new InvalidRuleException(r.origin(), r.listener(), "no listener named '" + r.listener() + "'");
        }
    }

    private void checkNoFailure() {
        if (failure != null) {
            throw new IllegalStateException("an earlier rule change stopped half way (" + failure + "), so the maps may hold"
                    + " values of neither rule set outside the generation in force; no further change is made: restart"
                    + " steering to rebuild them");
        }
    }

    /**
     * Puts {@code next} in force while the program runs: the rules in force less {@code removed},
     * plus {@code added} (whose ids are reserved in {@code reservation}).
     */
    private RuleChange replace(java.util.concurrent.Future<RuleSet> nextRules, Map<RuleIdentity, Member> removed,
            Map<RuleIdentity, Member> added, RuleIds.Reservation reservation, boolean checkConflicts) {
        if (removed.isEmpty() && added.isEmpty()) {
            RuleSet next = await(nextRules);
            ids.commit(next, removed, added);        // the same rules: nothing to write, no flip
            lastApply = new ApplyStats(0, 0, 0, 0, planner.overflowing());
            return new RuleChange(List.of(), List.of());
        }
        GroupEntries.Change delta;
        try {
            writer.zeroCounters(reservation.reused());
            writer.gatesBefore(tables);
            delta = tables.update(removed.values(), added.values(), slots::get, checkConflicts);
        } catch (RuntimeException e) {
            reservation.abort();
            throw e;
        }
        RuleSet next;
        try {
            next = await(nextRules);
        } catch (RuntimeException e) {
            // The tables have changed already: no later change may build on them.
            failure = "the next rule set could not be made (" + e.getMessage() + "); the previous rules are still in force";
            reservation.abort();
            throw e;
        }
        reservation.markUsed();
        int before = writer.generation();
        try {
            lastApply = writer.replace(planner.plan(delta), tables);
        } catch (RuntimeException e) {
            // Lookups read only the generation in force, which is whole: the previous rules
            // before the flip, the new ones after it. What is not whole is the other half of
            // some entries, which the next change would put in force: so there is none.
            boolean flipped = writer.generation() != before;
            failure = e.getMessage() + (flipped ? "; the new rules are in force" : "; the previous rules are still in force");
            if (flipped) {
                ids.commit(next, removed, added);
            } else {
                reservation.abort();
            }
            throw e;
        }
        ids.commit(next, removed, added);
        return new RuleChange(rulesOf(removed), rulesOf(added));
    }

    /**
     * Closes the program and the maps. Attached through a link, the program keeps running (and
     * keeps the maps alive) until the link closes; close the link first.
     */
    @Override
    public void close() {
        objects.close();
    }
}
