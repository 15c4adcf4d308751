package io.sksteer.steering;

import io.sksteer.steering.DispatchTables.Key;
import io.sksteer.steering.DispatchTables.Summary;
import io.sksteer.steering.TableState.Member;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToIntFunction;

/**
 * The entries of one group (the rules of one protocol family and prefix), computed from its
 * rules alone, and the difference between a group's entries before and after a change. Pure.
 */
final class GroupEntries {

    private GroupEntries() {
    }

    /**
     * A group's entries: single-port entries ({@code ports[i]} steers to {@code targets[i]}), the
     * port-0 entry ({@link DispatchLayout#NO_TARGET} if none), the summary (null if none), the
     * length flags, and how many of its single-port entries count against the budget.
     */
    record Entries(int[] ports, long[] targets, long port0, Summary summary, int flags) {
        static final Entries NONE = new Entries(new int[0], new long[0], DispatchLayout.NO_TARGET, null, 0);
    }

    /** Entries to write after a change, with their old and new values. */
    static final class Change {
        final List<Key> singleKeys = new ArrayList<>();
        /** {old, next} targets, {@link DispatchLayout#NO_TARGET} where absent. */
        final List<long[]> singleTargets = new ArrayList<>();
        final List<Key> summaryKeys = new ArrayList<>();
        /** {old, next}, {@link Summary#NONE} where absent. */
        final List<Summary[]> summaryValues = new ArrayList<>();

        void single(Key key, long old, long next) {
            if (old != next) {
                singleKeys.add(key);
                singleTargets.add(new long[] {old, next});
            }
        }
    }

    /**
     * A group's entries, expanding narrow ranges while {@code room} single-port entries remain
     * (the group's own single ports already counted).
     */
    static Entries entries(List<Member> members, ToIntFunction<String> slot, int room) {
        int[] ports = new int[Math.max(4, members.size())];
        long[] targets = new long[ports.length];
        int n = 0;
        // Members are in precedence order: single ports ascending, then ranges by first port, then all.
        int singles = 0;
        while (singles < members.size() && members.get(singles).rule().ports().rank() == 0) {
            singles++;
        }
        for (int i = 0; i < singles; i++) {
            Member m = members.get(i);
            ports[n] = m.rule().ports().first();
            targets[n++] = DispatchLayout.target(m.id(), slot.applyAsInt(m.rule().listener()));
        }
        List<Member> wide = new ArrayList<>(0);
        Member allPorts = null;
        boolean single = singles > 0;
        int expandedUpTo = 0;
        for (int i = singles; i < members.size(); i++) {
            Member m = members.get(i);
            PortSpec p = m.rule().ports();
            if (p.rank() == 2) {
                allPorts = allPorts == null ? m : allPorts;
                continue;
            }
            // A narrow range becomes single-port entries, unless a wide range before it overlaps
            // it (that one wins there) or the budget is spent.
            boolean shadowed = false;
            for (Member w : wide) {
                shadowed |= w.rule().ports().overlaps(p);
            }
            int width = p.last() - p.first() + 1;
            if (width <= DispatchLayout.NARROW_RANGE && !shadowed && width <= room) {
                long target = DispatchLayout.target(m.id(), slot.applyAsInt(m.rule().listener()));
                for (int port = Math.max(p.first(), expandedUpTo + 1); port <= p.last(); port++) {
                    if (Arrays.binarySearch(ports, 0, singles, port) < 0) {
                        if (n == ports.length) {
                            ports = Arrays.copyOf(ports, 2 * n);
                            targets = Arrays.copyOf(targets, 2 * n);
                        }
                        ports[n] = port;
                        targets[n++] = target;
                        room--;
                    }
                }
                expandedUpTo = Math.max(expandedUpTo, p.last());
                single = true;
            } else {
                wide.add(m);
            }
        }
        if (wide.size() > DispatchLayout.MAX_RANGES_PER_ENTRY) {
            throw DispatchTables.tooManyRanges(wide.get(DispatchLayout.MAX_RANGES_PER_ENTRY).rule());
        }
        int flags = single ? DispatchLayout.FLAG_SINGLES : 0;
        long port0 = DispatchLayout.NO_TARGET;
        Summary summary = null;
        if (!wide.isEmpty() || allPorts != null) {
            flags |= DispatchLayout.FLAG_SUMMARIES;
            int allId = allPorts == null ? DispatchLayout.NO_RULE : allPorts.id();
            int allSlot = allPorts == null ? 0 : slot.applyAsInt(allPorts.rule().listener());
            // The port-0 entry sits in the singles table: an 'all' rule costs no hash lookup, and
            // a prefix without wide ranges no summary lookup.
            port0 = DispatchLayout.target(allPorts == null ? DispatchLayout.NO_ALL : allId,
                    allSlot | (wide.isEmpty() ? 0 : DispatchLayout.HAS_RANGES));
            if (!wide.isEmpty()) {
                int[] ranges = new int[4 * wide.size()];
                for (int i = 0; i < wide.size(); i++) {
                    Member w = wide.get(i);
                    ranges[4 * i] = w.rule().ports().first();
                    ranges[4 * i + 1] = w.rule().ports().last();
                    ranges[4 * i + 2] = w.id();
                    ranges[4 * i + 3] = slot.applyAsInt(w.rule().listener());
                }
                summary = new Summary(allId, allSlot, ranges);
            }
        }
        return new Entries(Arrays.copyOf(ports, n), Arrays.copyOf(targets, n), port0, summary, flags);
    }

    /** The entries of one group that differ between {@code was} and {@code now}. */
    static void diff(Key base, Entries was, Entries now, Change change) {
        if (was == Entries.NONE) {                   // a new group: every entry is new
            for (int i = 0; i < now.ports.length; i++) {
                change.single(base.withPort(now.ports[i]), DispatchLayout.NO_TARGET, now.targets[i]);
            }
            change.single(base, DispatchLayout.NO_TARGET, now.port0);
            if (now.summary != null) {
                change.summaryKeys.add(base);
                change.summaryValues.add(new Summary[] {Summary.NONE, now.summary});
            }
            return;
        }
        Map<Integer, Long> old = new HashMap<>(2 * was.ports.length);
        for (int i = 0; i < was.ports.length; i++) {
            old.put(was.ports[i], was.targets[i]);
        }
        for (int i = 0; i < now.ports.length; i++) {
            Long o = old.remove(now.ports[i]);
            change.single(base.withPort(now.ports[i]), o == null ? DispatchLayout.NO_TARGET : o, now.targets[i]);
        }
        for (int i = 0; i < was.ports.length; i++) {
            if (old.containsKey(was.ports[i])) {
                change.single(base.withPort(was.ports[i]), was.targets[i], DispatchLayout.NO_TARGET);
            }
        }
        change.single(base, was.port0, now.port0);
        Summary a = was.summary == null ? Summary.NONE : was.summary;
        Summary b = now.summary == null ? Summary.NONE : now.summary;
        if (!a.equals(b)) {
            change.summaryKeys.add(base);
            change.summaryValues.add(new Summary[] {a, b});
        }
    }
}
