package io.sksteer.steering;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sksteer.bpf.sklookup.Protocol;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The dispatcher's tables as computed in Java; the kernel side is DispatcherKernelTest. */
class DispatchTablesTest {

    private static final int WEB = 0;
    private static final int API = 1;

    private static RuleSet rules(String... specs) {
        List<SteeringRule> out = new ArrayList<>();
        for (String spec : specs) {
            String[] f = spec.split(" ");
            out.add(new SteeringRule(Protocol.valueOf(f[0].toUpperCase()), Prefix.parse(f[1], "test"),
                    PortSpec.parse(f[2], "test"), f[3], "test"));
        }
        return RuleSet.of(out);
    }

    private static DispatchTables compute(RuleSet rules, int maxRules) {
        return DispatchTables.compute(rules, i -> i, l -> l.equals("web") ? WEB : API, maxRules);
    }

    private static DispatchTables.Key key(String prefix, int port) {
        Prefix p = Prefix.parse(prefix, "test");
        return DispatchTables.Key.of(DispatchTables.pf(Protocol.TCP, p.isIpv4()), p, port);
    }

    @Test
    void theTableBucketOfAKeyIsTheSameFromItsFieldsAndFromItsBytes() {
        Random random = new Random(7);
        for (int i = 0; i < 2000; i++) {
            byte[] a = new byte[random.nextBoolean() ? 4 : 16];
            random.nextBytes(a);
            int length = random.nextInt(a.length * 8 + 1);
            Prefix p = new Prefix(Prefix.mask(a, length), length);
            DispatchTables.Key k = DispatchTables.Key.of(random.nextInt(4), p, random.nextInt(65536));
            for (int bits : new int[] {2, 12, 17, 24}) {
                assertThat(k.tableBucket(bits)).isEqualTo(DispatchTables.tableBucket(k.bytes(), bits));
            }
        }
    }

    @Test
    void keyBytesArePfWithTheMarkLengthPortAndTheNetwork() {
        byte[] b = key("10.1.2.0/24", 443).bytes();
        assertThat(b).hasSize(DispatchLayout.KEY_SIZE);
        assertThat(b[0] & 0xff).isEqualTo(DispatchLayout.KEY_MARK);
        assertThat(b[1]).isEqualTo((byte) 24);
        assertThat(java.nio.ByteBuffer.wrap(b, 2, 2).order(java.nio.ByteOrder.nativeOrder()).getShort() & 0xffff).isEqualTo(443);
        assertThat(java.util.Arrays.copyOfRange(b, 4, 8)).containsExactly(10, 1, 2, 0);
        assertThat(java.util.Arrays.copyOfRange(b, 8, 20)).containsOnly(0);
        Prefix v6 = Prefix.parse("2001:db8:1:2:3:4:5:0/112", "test");
        assertThat(java.util.Arrays.copyOfRange(key("2001:db8:1:2:3:4:5:0/112", 80).bytes(), 4, 20)).containsExactly(v6.address());
    }

    @Test
    void narrowRangesBecomeSinglePortsButNotOverSinglesOrUnderAnEarlierWideRange() {
        RuleSet r = rules("tcp 10.0.0.0/24 8000-8003 web", "tcp 10.0.0.0/24 8001 api",
                "tcp 10.0.0.0/24 7000-7999 web", "tcp 10.0.0.0/24 7500-7502 web");
        DispatchTables t = compute(r, 64);
        // 8000, 8002, 8003 from the range; 8001 is api's single port; 7500-7502 lie under 7000-7999.
        assertThat(t.singles().get(key("10.0.0.0/24", 8001)) & 0xffffffffL).isEqualTo(API);
        assertThat(t.singles().get(key("10.0.0.0/24", 8000)) & 0xffffffffL).isEqualTo(WEB);
        assertThat(t.singles()).doesNotContainKey(key("10.0.0.0/24", 7500));
        DispatchTables.Summary s = t.summaries().get(key("10.0.0.0/24", 0));
        assertThat(s.ranges()).hasSize(2 * 4);
        assertThat(s.ranges()[0]).isEqualTo(7000);
        assertThat(s.ranges()[4]).isEqualTo(7500);
        long portZero = t.singles().get(key("10.0.0.0/24", 0));
        assertThat((int) (portZero >>> 32)).isEqualTo(DispatchLayout.NO_ALL);
        assertThat((int) portZero & DispatchLayout.HAS_RANGES).isNotZero();
        assertThat(t.ports()[8002] & 1 << 4).as("8002 is singly named for tcp4").isNotZero();
        assertThat(t.ports()[7500] & 1 << 4).isZero();
    }

    @Test
    void anAllRuleSitsInThePortZeroEntryAndNeedsNoSummary() {
        DispatchTables t = compute(rules("tcp 10.0.0.7 all api", "tcp 10.0.0.7 22 web"), 8);
        long portZero = t.singles().get(key("10.0.0.7", 0));
        assertThat((int) portZero & DispatchLayout.HAS_RANGES).isZero();
        assertThat((int) portZero).isEqualTo(API);
        assertThat(t.summaries()).isEmpty();
        assertThat(t.lengths(0)).containsExactly(new DispatchTables.Length(32,
                DispatchLayout.FLAG_SINGLES | DispatchLayout.FLAG_SUMMARIES));
        assertThat(java.util.stream.IntStream.range(1, 65536).filter(port -> (t.ports()[port] & 1) == 0).count())
                .as("ports 1-65535 not covered for tcp4").isZero();
    }

    @Test
    void theSinglesBudgetLeavesFurtherNarrowRangesInTheSummary() {
        // max-rules 4: a budget of 8 single-port entries.
        DispatchTables t = compute(rules("tcp 10.0.0.0/24 1000-1005 web", "tcp 10.0.0.0/24 2000-2005 web"), 4);
        assertThat(t.singles().keySet().stream().filter(k -> k.port() != 0)).hasSize(6);
        assertThat(t.summaries().get(key("10.0.0.0/24", 0)).ranges()).containsExactly(2000, 2005, 1, WEB);
    }

    @Test
    void prefixesEightBitsShorterThanABucketAreExpandedAndShorterOnesAreGlobal() {
        DispatchTables t = compute(rules("tcp 10.1.0.0/16 80 web", "tcp 10.0.0.0/15 80 web", "tcp fd00::/56 80 web",
                "tcp fd00::/55 80 web"), 64);
        int bits = t.bucketBits();
        long[] b = t.buckets();
        // A /16 is 256 /24 buckets, two words each (words may coincide).
        long v4Words = java.util.stream.IntStream.range(0, 1 << bits).filter(i -> (b[i] & 1L << 16) != 0).count();
        assertThat(v4Words).isBetween(256L, 512L);
        assertThat(t.globals()[0]).isEqualTo(1L << 15);
        assertThat(t.globals()[1]).isEqualTo(1L << DispatchTables.lengthClass(55, false));
        assertThat(t.ports()[80] & 1 << 8).as("tcp4 has global lengths").isNotZero();
        assertThat(t.ports()[80] & 1 << 9).as("tcp6 has global lengths").isNotZero();
        assertThat(t.ports()[80] & 1 << 10).as("udp4 has none").isZero();
    }

    @Test
    void addressesFindTheirPrefixesClassInBothWords() {
        DispatchTables t = compute(rules("tcp 10.9.8.0/24 80 web", "tcp 2001:db8:1:2::/64 80 web"), 64);
        int bits = t.bucketBits();
        for (String a : new String[] {"10.9.8.200", "2001:db8:1:2:ffff::1"}) {
            byte[] addr = Prefix.parse(a, "test").address();
            boolean v4 = addr.length == 4;
            long product = DispatchTables.bucketProduct(java.util.Arrays.copyOf(addr, 16), v4);
            int pf = v4 ? 0 : 1;
            long both = t.buckets()[pf << bits | DispatchTables.firstBucket(product, bits)]
                    & t.buckets()[pf << bits | DispatchTables.secondBucket(product, bits)];
            assertThat(both).isEqualTo(1L << DispatchTables.lengthClass(v4 ? 24 : 64, v4));
        }
    }

    @Test
    void onlyWideRangesCountTowardsTheRangeLimit() {
        List<String> specs = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            specs.add("tcp 10.0.0.0/24 " + (1000 + 20 * i) + "-" + (1003 + 20 * i) + " web");
        }
        DispatchTables.checkLimits(rules(specs.toArray(String[]::new)));
        List<String> wide = new ArrayList<>();
        for (int i = 0; i < 17; i++) {
            wide.add("tcp 10.0.0.0/24 " + (1000 + 100 * i) + "-" + (1050 + 100 * i) + " web");
        }
        assertThatThrownBy(() -> DispatchTables.checkLimits(rules(wide.toArray(String[]::new))))
                .isInstanceOf(InvalidRuleException.class).hasMessageContaining("more than 16 port ranges wider than 16 ports");
    }
}
