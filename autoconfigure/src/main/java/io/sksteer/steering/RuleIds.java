package io.sksteer.steering;

import io.sksteer.steering.TableState.Member;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Collection;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The counter index of every rule in force, by identity, and the indexes free for new rules. A
 * change reserves indexes for the rules it adds, then commits (the rules it removed give theirs
 * back) or aborts (the reserved ones go back, first in line as they were).
 *
 * <p>Changes are made by one thread at a time (the dispatcher's lock); {@link #inForceNow} may be
 * called by readers at any time and sees the rules in force before or after a commit, never half.
 */
final class RuleIds {

    /** The rules in force and the counter index of each, in the rules' order (-1: none). */
    record InForce(RuleSet rules, int[] ids) {
    }

    private final int capacity;
    private RuleSet rules = RuleSet.empty();
    private final Map<RuleIdentity, Member> inForce = new HashMap<>();
    /** Indexes from here to the capacity were never taken: not listed, so memory follows the rules, not the capacity. */
    private int neverTaken;
    /** Indexes given back, in the order they are taken again after the never-taken ones. */
    private final Deque<Integer> free = new ArrayDeque<>();
    /** Counter indexes some rule has used: only those need zeroing when reused. */
    private final BitSet used = new BitSet();

    RuleIds(int capacity) {
        this.capacity = capacity;
    }

    int capacity() {
        return capacity;
    }

    /** The member in force of {@code identity}, or null. */
    Member inForce(RuleIdentity identity) {
        return inForce.get(identity);
    }

    /** Every member in force. */
    Collection<Member> members() {
        return inForce.values();
    }

    /** Indexes free for new rules. */
    int free() {
        return capacity - neverTaken + free.size();
    }

    /** Indexes taken for the rules one change adds, not yet in force. */
    final class Reservation {
        private final List<Integer> ids = new ArrayList<>();
        private int takenNew;

        /** {@code rule} with a free index (a never-taken one first, in order), or null when none is free. */
        Member take(SteeringRule rule) {
            int id;
            if (neverTaken < capacity) {
                id = neverTaken++;
                takenNew++;
            } else {
                Integer given = free.poll();
                if (given == null) {
                    return null;
                }
                id = given;
            }
            ids.add(id);
            return new Member(rule, id);
        }

        /** The indexes taken that a rule has used before: their counters must be zeroed. */
        List<Integer> reused() {
            List<Integer> out = new ArrayList<>();
            for (int id : ids) {
                if (used.get(id)) {
                    out.add(id);
                }
            }
            return out;
        }

        /** Remembers that the indexes taken are used (their counters may move from now on). */
        void markUsed() {
            ids.forEach(used::set);
        }

        /** Gives the indexes taken back, first in line. */
        void abort() {
            // Never-taken indexes were taken in order and last: the counter goes back. Given-back
            // ones return to the front of their list, in the order they were taken.
            List<Integer> given = ids.stream().filter(id -> id < neverTaken - takenNew).toList();
            for (int i = given.size() - 1; i >= 0; i--) {
                free.addFirst(given.get(i));
            }
            neverTaken -= takenNew;
            takenNew = 0;
            ids.clear();
        }
    }

    Reservation reserve() {
        return new Reservation();
    }

    /**
     * Puts {@code next} in force: {@code added} in, {@code removed} out (their indexes freed, last
     * in line).
     */
    synchronized void commit(RuleSet next, Map<RuleIdentity, Member> removed, Map<RuleIdentity, Member> added) {
        removed.forEach((identity, m) -> {
            inForce.remove(identity);
            free.add(m.id());
        });
        inForce.putAll(added);
        rules = next;
    }

    /** The counter index of the rule in force of {@code identity}, or -1; for readers. */
    synchronized int idOf(RuleIdentity identity) {
        Member m = inForce.get(identity);
        return m == null ? -1 : m.id();
    }

    /** The rule set in force. */
    synchronized RuleSet rules() {
        return rules;
    }

    /** The rules in force with their indexes: all before a commit or all after it. */
    synchronized InForce inForceNow() {
        List<SteeringRule> list = rules.rules();
        int[] ids = new int[list.size()];
        for (int i = 0; i < ids.length; i++) {
            Member m = inForce.get(list.get(i).identity());
            ids[i] = m == null ? -1 : m.id();
        }
        return new InForce(rules, ids);
    }
}
