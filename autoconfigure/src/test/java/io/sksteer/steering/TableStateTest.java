package io.sksteer.steering;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sksteer.bpf.sklookup.Protocol;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Tables changed step by step equal the tables computed whole for the same rules, and rule sets
 * changed step by step hold the same rules in precedence order.
 */
class TableStateTest {

    private static final Map<String, Integer> SLOTS = Map.of("web", 0, "api", 1);

    @Test
    void aSequenceOfChangesEndsWithTheTablesOfTheRulesInForce() {
        Random random = new Random(20261201);
        TableState state = new TableState(4096);
        Map<String, TableState.Member> inForce = new LinkedHashMap<>();
        int nextId = 0;
        RuleSet merged = RuleSet.empty();
        for (int step = 0; step < 40; step++) {
            List<TableState.Member> removed = new ArrayList<>();
            for (TableState.Member m : inForce.values()) {
                if (random.nextInt(4) == 0) {
                    removed.add(m);
                }
            }
            List<SteeringRule> candidates = new ArrayList<>();
            inForce.values().stream().filter(m -> !removed.contains(m)).forEach(m -> candidates.add(m.rule()));
            int kept = candidates.size();
            for (int i = 0; i < 30; i++) {
                candidates.add(randomRule(random));
            }
            // Keep only additions that leave a valid rule set: no conflict, not already in force.
            List<SteeringRule> valid = new ArrayList<>(candidates.subList(0, kept));
            for (SteeringRule r : candidates.subList(kept, candidates.size())) {
                List<SteeringRule> attempt = new ArrayList<>(valid);
                attempt.add(r);
                if (valid.stream().noneMatch(r::sameAs) && tryOf(attempt)) {
                    valid.add(r);
                }
            }
            RuleSet next = RuleSet.of(valid);
            List<TableState.Member> added = new ArrayList<>();
            for (SteeringRule r : next.rules()) {
                if (!inForce.containsKey(r.describe()) || removed.contains(inForce.get(r.describe()))) {
                    added.add(new TableState.Member(r, nextId++));
                }
            }
            long[] before = state.buckets().clone();
            state.update(removed, added, SLOTS::get);
            Map<Integer, long[]> reported = new HashMap<>();
            state.forEachChangedWord((i, was, now) -> reported.put(i, new long[] {was, now}));
            for (int i = 0; i < before.length; i++) {
                if (before[i] != state.buckets()[i]) {
                    assertThat(reported).as("changed word %d reported after step %d", i, step).containsKey(i);
                }
                if (reported.containsKey(i)) {
                    assertThat(reported.get(i)).as("word %d before and after step %d", i, step)
                            .containsExactly(before[i], state.buckets()[i]);
                }
            }
            List<SteeringRule> gone = new ArrayList<>();
            removed.forEach(m -> gone.add(m.rule()));
            List<SteeringRule> fresh = new ArrayList<>();
            added.forEach(m -> fresh.add(m.rule()));
            merged = RuleSet.merged(merged, gone, fresh);
            assertThat(merged.rules()).as("merged rules after step %d", step).isSortedAccordingTo(SteeringRule.PRECEDENCE)
                    .usingElementComparator((x, y) -> x.sameAs(y) ? 0 : 1).containsExactlyInAnyOrderElementsOf(next.rules());
            removed.forEach(m -> inForce.remove(m.rule().describe()));
            added.forEach(m -> inForce.put(m.rule().describe(), m));

            DispatchTables whole = DispatchTables.compute(next, i -> inForce.get(next.rules().get(i).describe()).id(),
                    SLOTS::get, 4096);
            assertThat(state.singles()).as("single-port and port-0 entries after step %d", step)
                    .containsExactlyInAnyOrderEntriesOf(whole.singles());
            assertThat(state.summaries()).as("summaries after step %d", step)
                    .containsExactlyInAnyOrderEntriesOf(whole.summaries());
            assertThat(state.ports()).as("gates after step %d", step).isEqualTo(whole.ports());
            assertThat(state.buckets()).as("bucket words after step %d", step).isEqualTo(whole.buckets());
            assertThat(state.globals()).as("globals after step %d", step).isEqualTo(whole.globals());
            for (int pf = 0; pf < 4; pf++) {
                assertThat(state.lengths(pf)).as("lengths of %d after step %d", pf, step).isEqualTo(whole.lengths(pf));
            }
        }
        assertThat(inForce).as("the sequence kept some rules in force").isNotEmpty();
    }

    @Test
    void theBucketProductFromTheAddressHalfIsTheProgramsProduct() {
        Random random = new Random(7);
        for (int i = 0; i < 1000; i++) {
            byte[] address = new byte[16];
            random.nextBytes(address);
            boolean v4 = random.nextBoolean();
            Prefix p = new Prefix(v4 ? java.util.Arrays.copyOf(address, 4) : address, v4 ? 32 : 128);
            assertThat(TableState.bucketProduct(p.half(0), v4)).isEqualTo(DispatchTables.bucketProduct(
                    java.util.Arrays.copyOf(p.address(), 16), v4));
        }
    }

    @Test
    void aChangeThatExceedsALimitChangesNothing() {
        TableState state = new TableState(1024);
        List<TableState.Member> first = new ArrayList<>();
        first.add(member(0, "tcp", "10.0.0.0/24", "80", "web"));
        state.update(List.of(), first, SLOTS::get);
        Map<DispatchTables.Key, Long> before = new HashMap<>(state.singles());
        int[] gates = state.ports().clone();
        List<TableState.Member> tooMany = new ArrayList<>();
        for (int i = 0; i <= DispatchLayout.MAX_RANGES_PER_ENTRY; i++) {
            tooMany.add(member(1 + i, "tcp", "10.0.0.0/24", (1000 + 100 * i) + "-" + (1050 + 100 * i), "web"));
        }
        assertThatThrownBy(() -> state.update(List.of(), tooMany, SLOTS::get))
                .isInstanceOf(InvalidRuleException.class).hasMessageContaining("more than 16 port ranges");
        assertThat(state.singles()).isEqualTo(before);
        assertThat(state.ports()).isEqualTo(gates);
        assertThat(state.summaries()).isEmpty();
    }

    @Test
    void removingARuleNotInForceIsRefused() {
        TableState state = new TableState(64);
        assertThatThrownBy(() -> state.update(List.of(member(0, "udp", "10.0.0.1", "53", "api")), List.of(), SLOTS::get))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not in force");
    }

    private static boolean tryOf(List<SteeringRule> rules) {
        try {
            RuleSet.of(rules);
            return true;
        } catch (InvalidRuleException e) {
            return false;
        }
    }

    private static TableState.Member member(int id, String protocol, String prefix, String ports, String listener) {
        return new TableState.Member(new SteeringRule(Protocol.valueOf(protocol.toUpperCase()), Prefix.parse(prefix, "test"),
                PortSpec.parse(ports, "test"), listener, "test"), id);
    }

    /** A rule over a small space, so that changes meet the same prefixes and buckets often. */
    private static SteeringRule randomRule(Random random) {
        boolean v4 = random.nextBoolean();
        int length = v4 ? new int[] {32, 24, 20, 16, 8}[random.nextInt(5)] : new int[] {128, 64, 60, 48}[random.nextInt(4)];
        String address = v4 ? "10." + random.nextInt(2) + "." + random.nextInt(3) + "." + random.nextInt(4)
                : "2001:db8:" + random.nextInt(2) + ":" + random.nextInt(3) + "::" + random.nextInt(4);
        Prefix prefix = new Prefix(Prefix.mask(Prefix.parse(address, "test").address(), length), length);
        String ports = switch (random.nextInt(6)) {
            case 0, 1 -> Integer.toString(1 + random.nextInt(40));
            case 2, 3 -> {
                int first = 1 + random.nextInt(40);
                yield first + "-" + (first + 1 + random.nextInt(6));
            }
            case 4 -> {
                int first = 100 + random.nextInt(400);
                yield first + "-" + (first + 20 + random.nextInt(100));
            }
            default -> "all";
        };
        return new SteeringRule(random.nextBoolean() ? Protocol.TCP : Protocol.UDP, prefix, PortSpec.parse(ports, "test"),
                random.nextBoolean() ? "web" : "api", "test");
    }
}
