package io.sksteer.steering;

import static org.assertj.core.api.Assertions.assertThat;

import io.sksteer.bpf.Sockets;
import io.sksteer.bpf.sklookup.Protocol;
import io.sksteer.bpf.sklookup.SkLookupContext;
import io.sksteer.bpf.sklookup.SkLookupTestRun;
import io.sksteer.bpf.sklookup.Verdict;
import io.sksteer.testkit.KernelTest;
import io.sksteer.testkit.TestNetns;
import io.sksteer.testkit.TestSockets;
import java.io.Closeable;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.nio.channels.NetworkChannel;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The generated dispatcher, run by the kernel through PROG_TEST_RUN on its real maps, decides
 * like the reference {@link RuleSet#resolve} for edge and random tuples, before and after a live
 * rule change.
 */
@KernelTest
class DispatcherKernelTest {

    @RegisterExtension
    static final TestNetns ns = TestNetns.perClass();
    private static final Map<String, NetworkChannel> sockets = new LinkedHashMap<>();
    private static final Map<Long, String> listenerByCookie = new HashMap<>();
    private static final Map<String, Integer> slots = new LinkedHashMap<>();

    @BeforeAll
    static void listeners() {
        int slot = 0;
        for (String name : List.of("web", "api", "dns", "quic")) {
            boolean udp = name.equals("dns") || name.equals("quic");
            NetworkChannel ch = udp ? TestSockets.udpSocket(ns, StandardProtocolFamily.INET6, "::ffff:127.0.0.1", 0)
                    : TestSockets.tcpListener(ns, StandardProtocolFamily.INET6, "::ffff:127.0.0.1", 0);
            sockets.put(name, ch);
            listenerByCookie.put(Sockets.cookie(TestSockets.fd(ch)), name);
            slots.put(name, slot++);
        }
    }

    @AfterAll
    static void close() throws IOException {
        for (NetworkChannel ch : sockets.values()) {
            ((Closeable) ch).close();
        }
    }

    static RuleSet firstRules() {
        List<SteeringRule> r = new ArrayList<>();
        rule(r, "web", Protocol.TCP, "127.77.0.0/16", "80", "443", "8000-8999");
        rule(r, "api", Protocol.TCP, "127.77.1.0/24", "8000-8099", "9000");
        rule(r, "api", Protocol.TCP, "127.77.1.2", "all");
        rule(r, "web", Protocol.TCP, "fd00:77::/64", "443");
        rule(r, "api", Protocol.TCP, "fd00:77::1", "443-444");
        rule(r, "web", Protocol.TCP, "fd00::/8", "all");
        rule(r, "dns", Protocol.UDP, "127.77.0.0/16", "53");
        rule(r, "dns", Protocol.UDP, "fd00:77::/64", "53");
        rule(r, "quic", Protocol.UDP, "127.77.0.0/16", "443");
        rule(r, "quic", Protocol.UDP, "127.0.0.0/8", "5353", "6000-6010");
        rule(r, "quic", Protocol.UDP, "10.0.0.0/8", "all");
        return RuleSet.of(r);
    }

    static RuleSet secondRules() {
        List<SteeringRule> r = new ArrayList<>();
        rule(r, "api", Protocol.TCP, "127.77.0.0/16", "80");
        rule(r, "web", Protocol.TCP, "127.77.2.0/23", "all");
        rule(r, "web", Protocol.TCP, "2001:db8:1::/48", "8443", "1-1024");
        rule(r, "dns", Protocol.UDP, "127.77.0.0/16", "53");
        return RuleSet.of(r);
    }

    /**
     * Narrow ranges beside single ports and wide ranges, a prefix with every kind of port spec,
     * prefixes just long enough for the address buckets and just too short for them.
     */
    static RuleSet thirdRules() {
        List<SteeringRule> r = new ArrayList<>();
        rule(r, "web", Protocol.TCP, "127.88.0.0/24", "7000-7003", "7000-7100", "7050-7052");
        rule(r, "api", Protocol.TCP, "127.88.0.0/24", "7001", "7200-7203");
        rule(r, "api", Protocol.TCP, "127.88.1.0/24", "all", "3000-3002");
        rule(r, "web", Protocol.TCP, "127.88.1.0/24", "22", "5000-6000", "2999");
        rule(r, "web", Protocol.TCP, "127.88.1.7", "3001");
        rule(r, "api", Protocol.TCP, "127.89.0.0/17", "80-81");
        rule(r, "web", Protocol.TCP, "127.90.0.0/15", "80-81");
        rule(r, "web", Protocol.TCP, "fd00:88::/56", "443");
        rule(r, "api", Protocol.TCP, "fd00:88::/55", "443-445");
        rule(r, "api", Protocol.TCP, "fd00:88:0:1::/64", "all");
        rule(r, "dns", Protocol.UDP, "2001:db8::/32", "53");
        rule(r, "quic", Protocol.UDP, "2001:db8:0:1::/64", "53", "443");
        rule(r, "quic", Protocol.UDP, "127.0.0.0/8", "5353", "6000-6010");
        return RuleSet.of(r);
    }

    private static void rule(List<SteeringRule> out, String listener, Protocol protocol, String prefix, String... ports) {
        for (String p : ports) {
            out.add(new SteeringRule(protocol, Prefix.parse(prefix, "test"), PortSpec.parse(p, "test"), listener, "test"));
        }
    }

    @Test
    void decidesLikeTheReferenceForEdgeAndRandomTuples() throws Exception {
        RuleSet rules = firstRules();
        try (Dispatcher d = Dispatcher.create(rules, 1024, slots, true)) {
            putSockets(d);
            assertAgrees(d, rules, 3000);
        }
    }

    @Test
    void aLiveRuleChangeTakesEffectWithoutReloadingTheProgram() throws Exception {
        RuleSet first = firstRules();
        RuleSet second = secondRules();
        try (Dispatcher d = Dispatcher.create(first, 1024, slots, true)) {
            putSockets(d);
            int programId = d.program().id();
            d.apply(second);
            assertThat(d.program().id()).isEqualTo(programId);
            assertAgrees(d, second, 2000);
            d.apply(first);
            assertAgrees(d, first, 2000);
        }
    }

    @Test
    void everyGenerationOfASequenceOfChangesDecidesLikeItsRules() throws Exception {
        List<RuleSet> sequence = List.of(thirdRules(), secondRules(), thirdRules(), firstRules(), thirdRules());
        try (Dispatcher d = Dispatcher.create(firstRules(), 1024, slots, true)) {
            putSockets(d);
            for (RuleSet rules : sequence) {
                d.apply(rules);
                assertAgrees(d, rules, 1000);
            }
        }
    }

    @Test
    void narrowRangesBeyondTheSinglesBudgetStayRanges() throws Exception {
        List<SteeringRule> r = new ArrayList<>();
        rule(r, "web", Protocol.TCP, "127.77.1.0/24", "1000-1007", "2000-2007", "3000-3007");
        rule(r, "api", Protocol.TCP, "127.77.1.0/24", "2004", "all");
        RuleSet rules = RuleSet.of(r);
        // Capacity 8: 16 single-port entries at most. Port 2004 takes one, 1000-1007 eight more;
        // the other two ranges do not fit and stay in the prefix's summary with 'all'.
        try (Dispatcher d = Dispatcher.create(rules, 8, slots, true)) {
            putSockets(d);
            assertAgrees(d, rules, 500);
            DispatchTables t = DispatchTables.compute(rules, x -> 0, x -> 0, 8);
            // 2004, 1000-1007, and the prefix's port-0 entry ('all', and a mark for its ranges)
            assertThat(t.singles()).hasSize(10);
            assertThat(t.summaries()).hasSize(1);
            assertThat(t.summaries().values().iterator().next().ranges()).hasSize(2 * 4);
        }
    }

    @Test
    void aSmallChangeWritesOnlyWhatItChanges() throws Exception {
        List<SteeringRule> base = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            rule(base, "web", Protocol.TCP, "10.1." + (i / 250) + "." + (i % 250), "443");
        }
        List<SteeringRule> changed = new ArrayList<>(base.subList(1, base.size()));
        rule(changed, "api", Protocol.TCP, "10.2.0.1", "443");
        try (Dispatcher d = Dispatcher.create(RuleSet.of(base), 2048, slots, true)) {
            putSockets(d);
            Dispatcher.ApplyStats created = d.lastApply();
            assertThat(created.entriesWritten()).as("table buckets and overflow entries").isBetween(1, 1000);
            assertThat(created.gateWords()).isEqualTo(1);
            d.apply(RuleSet.of(changed));
            Dispatcher.ApplyStats stats = d.lastApply();
            // One entry added and one removed: each written (its bucket, or itself if its bucket is
            // full) before the flip, then settled after it; at most one first write of a bucket.
            assertThat(stats.entriesWritten() + stats.entriesDeleted()).isBetween(2, 5);
            assertThat(stats.gateWords()).isZero();
            assertThat(stats.bucketWords()).isBetween(1, 4);
            assertAgrees(d, RuleSet.of(changed), 200);
        }
    }

    @Test
    void singlePortEntriesOfAFullTableBucketAreFoundInTheHash() throws Exception {
        int maxRules = 64;
        int bits = DispatchTables.tableBits(maxRules);
        Prefix host = Prefix.parse("127.77.5.5", "test");
        int bucket = DispatchTables.tableBucket(DispatchTables.Key.of(0, host, 1000).bytes(), bits);
        List<Integer> ports = new ArrayList<>();
        for (int port = 1000; ports.size() < DispatchLayout.WAYS + 2; port++) {
            if (DispatchTables.tableBucket(DispatchTables.Key.of(0, host, port).bytes(), bits) == bucket) {
                ports.add(port);
            }
        }
        List<SteeringRule> r = new ArrayList<>();
        for (int i = 0; i < ports.size(); i++) {
            rule(r, i % 2 == 0 ? "web" : "api", Protocol.TCP, "127.77.5.5", Integer.toString(ports.get(i)));
        }
        rule(r, "web", Protocol.TCP, "127.77.5.0/24", "all");
        RuleSet full = RuleSet.of(r);
        try (Dispatcher d = Dispatcher.create(full, maxRules, slots, true)) {
            putSockets(d);
            assertThat(d.lastApply().overflowing()).isEqualTo(2);
            assertAgrees(d, full, 300);
            // Ways go to entries in precedence order: the first four ports are in the bucket, the
            // last two in the hash. Drop one of each, then bring them back.
            List<SteeringRule> fewer = new ArrayList<>(r);
            fewer.remove(ports.size() - 1);
            fewer.remove(0);
            RuleSet less = RuleSet.of(fewer);
            d.apply(less);
            assertThat(d.lastApply().overflowing()).isEqualTo(1);
            assertAgrees(d, less, 300);
            d.apply(full);
            assertThat(d.lastApply().overflowing()).isEqualTo(2);
            assertAgrees(d, full, 300);
        }
    }

    @Test
    void changesGivenAsRulesRemovedAndAddedDecideLikeTheRulesTheyLeave() throws Exception {
        // Each step goes from one rule set of the sequence to the next as a delta: what the
        // first lacks is added, what the second lacks removed.
        List<RuleSet> sequence = List.of(thirdRules(), secondRules(), firstRules(), thirdRules(), firstRules());
        try (Dispatcher d = Dispatcher.create(firstRules(), 1024, slots, true)) {
            putSockets(d);
            int programId = d.program().id();
            for (RuleSet target : sequence) {
                List<SteeringRule> remove = new ArrayList<>();
                List<SteeringRule> add = new ArrayList<>();
                d.rules().rules().stream().filter(r -> target.rules().stream().noneMatch(r::sameAs)).forEach(remove::add);
                target.rules().stream().filter(r -> d.rules().rules().stream().noneMatch(r::sameAs)).forEach(add::add);
                d.change(remove, add);
                assertThat(d.rules().rules()).as("the rule set in force, in precedence order")
                        .usingElementComparator((x, y) -> x.sameAs(y) ? 0 : 1).containsExactlyElementsOf(target.rules());
                assertAgrees(d, target, 1000);
            }
            assertThat(d.program().id()).isEqualTo(programId);
        }
    }

    @Test
    void aRefusedChangeLeavesTheRulesInForce() throws Exception {
        RuleSet first = firstRules();
        try (Dispatcher d = Dispatcher.create(first, 1024, slots, true)) {
            putSockets(d);
            List<SteeringRule> absent = new ArrayList<>();
            rule(absent, "web", Protocol.TCP, "127.99.0.0/16", "80");
            List<SteeringRule> conflicting = new ArrayList<>();
            // 127.77.1.2 'all' belongs to api.
            rule(conflicting, "web", Protocol.TCP, "127.77.1.2", "all");
            List<SteeringRule> unknown = new ArrayList<>();
            rule(unknown, "nobody", Protocol.TCP, "127.98.0.1", "80");
            List<SteeringRule> fine = new ArrayList<>();
            rule(fine, "web", Protocol.TCP, "127.97.0.1", "80");
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> d.change(absent, fine))
                    .isInstanceOf(InvalidRuleException.class).hasMessageContaining("no such rule is in force");
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> d.change(List.of(), conflicting))
                    .isInstanceOf(InvalidRuleException.class).hasMessageContaining("conflicts with");
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> d.change(List.of(), unknown))
                    .isInstanceOf(InvalidRuleException.class).hasMessageContaining("no listener named 'nobody'");
            assertThat(d.rules()).isSameAs(first);
            assertAgrees(d, first, 500);
            // The ids the refused changes took are back: the change after them is whole.
            d.change(List.of(), fine);
            List<SteeringRule> all = new ArrayList<>(first.rules());
            all.addAll(fine);
            assertAgrees(d, RuleSet.of(all), 500);
        }
    }

    @Test
    void aMatchedRuleWithoutSocketDropsOrPassesAsConfigured() throws Exception {
        RuleSet rules = firstRules();
        SkLookupContext toWeb = new SkLookupContext(Protocol.TCP, new InetSocketAddress("127.77.9.9", 80),
                new InetSocketAddress("127.0.0.1", 40000));
        try (Dispatcher drop = Dispatcher.create(rules, 1024, slots, true)) {
            SkLookupTestRun r = SkLookupTestRun.run(drop.program(), toWeb, 1);
            assertThat(r.verdict()).isEqualTo(Verdict.DROP);
            assertThat(r.selected()).isEmpty();
            SteeringRule matched = rules.resolve(Protocol.TCP, InetAddress.getByName("127.77.9.9").getAddress(), 80).orElseThrow();
            assertThat(drop.counters(matched)).as("test runs (explain) do not count as traffic").isEqualTo(RuleCounters.ZERO);
        }
        try (Dispatcher pass = Dispatcher.create(rules, 1024, slots, false)) {
            SkLookupTestRun r = SkLookupTestRun.run(pass.program(), toWeb, 1);
            assertThat(r.verdict()).isEqualTo(Verdict.PASS);
            assertThat(r.selected()).isEmpty();
        }
    }

    private static void putSockets(Dispatcher d) {
        sockets.forEach((name, ch) -> d.sockets().put(slots.get(name), TestSockets.fd(ch)));
    }

    private static void assertAgrees(Dispatcher d, RuleSet rules, int randomTuples) throws Exception {
        long seed = System.nanoTime();
        System.out.println("[sksteer] DispatcherKernelTest seed " + seed);
        Random random = new Random(seed);
        List<Object[]> tuples = new ArrayList<>();
        for (SteeringRule r : rules.rules()) {
            byte[] net = r.prefix().address();
            for (byte[] addr : List.of(net, lastAddress(r.prefix()), outsideBelow(r.prefix()))) {
                for (int port : List.of(r.ports().first(), r.ports().last(), Math.max(1, r.ports().first() - 1),
                        Math.min(65535, r.ports().last() + 1))) {
                    tuples.add(new Object[] {r.protocol(), addr, port});
                    tuples.add(new Object[] {r.protocol() == Protocol.TCP ? Protocol.UDP : Protocol.TCP, addr, port});
                }
            }
        }
        for (int i = 0; i < randomTuples; i++) {
            SteeringRule r = rules.rules().get(random.nextInt(rules.size()));
            byte[] addr = r.prefix().address();
            int flip = random.nextInt(addr.length * 8);
            addr[flip / 8] ^= (byte) (0x80 >> (flip % 8));
            Protocol proto = random.nextInt(4) == 0 ? Protocol.UDP : r.protocol();
            int port = random.nextInt(3) == 0 ? 1 + random.nextInt(65535)
                    : Math.min(65535, Math.max(1, r.ports().first() + random.nextInt(3) - 1));
            tuples.add(new Object[] {proto, addr, port});
        }
        for (Object[] t : tuples) {
            Protocol proto = (Protocol) t[0];
            byte[] addr = (byte[]) t[1];
            int port = (Integer) t[2];
            InetAddress ip = InetAddress.getByAddress(addr);
            InetAddress remote = InetAddress.getByName(addr.length == 4 ? "127.0.0.1" : "::1");
            SkLookupTestRun run = SkLookupTestRun.run(d.program(),
                    new SkLookupContext(proto, new InetSocketAddress(ip, port), new InetSocketAddress(remote, 40000)), 1);
            Optional<SteeringRule> expected = rules.resolve(proto, addr, port);
            String actual = run.selected().isPresent() ? listenerByCookie.get(run.cookie()) : null;
            assertThat(actual)
                    .as("%s %s port %d: expected %s", proto, ip.getHostAddress(), port, expected.map(SteeringRule::describe).orElse("no rule"))
                    .isEqualTo(expected.map(SteeringRule::listener).orElse(null));
            assertThat(run.verdict()).isEqualTo(Verdict.PASS);
        }
    }

    private static byte[] lastAddress(Prefix p) {
        byte[] a = p.address();
        for (int bit = p.length(); bit < a.length * 8; bit++) {
            a[bit / 8] |= (byte) (0x80 >> (bit % 8));
        }
        return a;
    }

    private static byte[] outsideBelow(Prefix p) {
        byte[] a = p.address();
        for (int i = a.length - 1; i >= 0; i--) {
            if (a[i] != 0) {
                a[i]--;
                for (int j = i + 1; j < a.length; j++) {
                    a[j] = (byte) 0xff;
                }
                return a;
            }
        }
        return a;
    }
}
