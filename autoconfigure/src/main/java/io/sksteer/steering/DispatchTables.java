package io.sksteer.steering;

import io.sksteer.bpf.sklookup.Protocol;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.function.ToIntFunction;

/**
 * The dispatcher's map contents for one rule set, computed without a kernel. The generated
 * program ({@link DispatcherProgram}) reads them; the layouts below are shared with it.
 *
 * <p>Lookups are split by "pf", the protocol-family index: tcp4 0, tcp6 1, udp4 2, udp6 3.
 *
 * <ul>
 *   <li><b>ports</b> (ARRAY, 65536 × u32): bit pf = some rule of pf covers this port; bit 4+pf =
 *       some rule of pf names this port singly. Misses on other ports stop here.</li>
 *   <li><b>buckets</b> (ARRAY, 4 × 65536 × u64), indexed {@code pf * 65536 + bucket}: which
 *       prefix-length classes have entries whose addresses fall in this bucket. The bucket of an
 *       IPv4 address is its first two bytes, of an IPv6 address its first two 16-bit groups XORed
 *       (both read as little-endian u16). The class of a length is the length for IPv4, half of it
 *       (at most 63) for IPv6. A zero mask ends the lookup.</li>
 *   <li><b>lengths</b> (ARRAY, 2 generations × 4 pf × 33 × 24 bytes): the prefix lengths present,
 *       longest first: {@code u32 length + 1} (0 ends the list), {@code u32 class}, {@code u32
 *       mask[4]} in network byte order.</li>
 *   <li><b>entries</b> (HASH, 24-byte key: {@code u8 generation, u8 pf, u8 length, u8 kind, u32
 *       port, u8 address[16]}): kind 0 with a port → the rule of that single port; kind 1 with
 *       port 0 → the entry's ranges and its {@code all} rule. Value: {@code u32 rule, u32 slot, u32
 *       range count, u32 first range index}.</li>
 *   <li><b>ranges</b> (ARRAY, 2 generations × capacity × 16 bytes): {@code u32 first, u32 last,
 *       u32 rule, u32 slot}, sorted by first port within an entry.</li>
 * </ul>
 */
public final class DispatchTables {

    public static final int PORT_ENTRIES = 65536;
    public static final int BUCKETS_PER_PF = 65536;
    /**
     * Distinct prefix lengths per protocol and family (every IPv4 length fits). The program is
     * unrolled over them: with 33 lengths and 16 ranges it verifies in about 54,000 steps, also
     * for a process holding only CAP_BPF and CAP_NET_ADMIN.
     */
    public static final int MAX_LENGTHS = 33;
    public static final int MAX_RANGES_PER_ENTRY = 16;
    public static final int LENGTH_RECORD = 24;
    public static final int KEY_SIZE = 24;
    public static final int VALUE_SIZE = 16;
    public static final int RANGE_RECORD = 16;
    public static final int NO_RULE = 0xffffffff;
    static final int KIND_SINGLE = 0;
    static final int KIND_SUMMARY = 1;

    /** An entries-map element: key and value bytes without the generation byte set. */
    public record Entry(byte[] key, byte[] value) {
    }

    /** A ranges-array element at {@code index} within a generation's region. */
    public record RangeRecord(int index, byte[] value) {
    }

    private final int[] ports = new int[PORT_ENTRIES];
    private final long[] buckets = new long[4 * BUCKETS_PER_PF];
    private final List<List<Integer>> lengths = new ArrayList<>();
    private final List<Entry> entries = new ArrayList<>();
    private final List<RangeRecord> ranges = new ArrayList<>();

    private DispatchTables() {
        for (int pf = 0; pf < 4; pf++) {
            lengths.add(new ArrayList<>());
        }
    }

    /** The protocol-family index of the generated program. */
    public static int pf(Protocol protocol, boolean ipv4) {
        return (protocol == Protocol.UDP ? 2 : 0) + (ipv4 ? 0 : 1);
    }

    /**
     * Checks the limits the generated program has — distinct prefix lengths per protocol and
     * family, ranges per prefix — without building any table, so configurations can be validated
     * cheaply before anything is created.
     *
     * @throws InvalidRuleException naming a rule that exceeds a limit
     */
    public static void checkLimits(RuleSet rules) {
        record EntryId(int pf, Prefix prefix) {
        }
        List<java.util.Set<Integer>> lengths = new ArrayList<>();
        for (int pf = 0; pf < 4; pf++) {
            lengths.add(new java.util.HashSet<>());
        }
        Map<EntryId, List<SteeringRule>> ranges = new HashMap<>();
        for (SteeringRule r : rules.rules()) {
            int pf = pf(r.protocol(), r.prefix().isIpv4());
            lengths.get(pf).add(r.prefix().length());
            if (r.ports().rank() == 1) {
                ranges.computeIfAbsent(new EntryId(pf, r.prefix()), id -> new ArrayList<>()).add(r);
            }
        }
        for (int pf = 0; pf < 4; pf++) {
            if (lengths.get(pf).size() > MAX_LENGTHS) {
                throw new InvalidRuleException("sksteer.listeners", null, "more than " + MAX_LENGTHS
                        + " distinct prefix lengths for " + pfName(pf) + "; use fewer lengths");
            }
        }
        for (List<SteeringRule> list : ranges.values()) {
            if (list.size() > MAX_RANGES_PER_ENTRY) {
                list.sort((a, b) -> Integer.compare(a.ports().first(), b.ports().first()));
                SteeringRule r = list.get(MAX_RANGES_PER_ENTRY);
                throw new InvalidRuleException(r.origin(), r.ports().toString(), "more than " + MAX_RANGES_PER_ENTRY
                        + " port ranges for " + r.protocol().name().toLowerCase() + " " + r.prefix()
                        + "; merge ranges or split the prefix");
            }
        }
    }

    /**
     * Computes the tables.
     *
     * @param rules the rules, in precedence order
     * @param ruleId the counter index of each rule
     * @param slot the SOCKMAP slot of each listener
     * @param rangeCapacity ranges one generation may hold
     * @throws InvalidRuleException when a limit is exceeded, naming a rule that exceeds it
     */
    public static DispatchTables compute(RuleSet rules, ToIntFunction<SteeringRule> ruleId,
            ToIntFunction<String> slot, int rangeCapacity) {
        checkLimits(rules);
        DispatchTables t = new DispatchTables();
        record EntryId(int pf, Prefix prefix) {
            int length() {
                return prefix.length();
            }
        }
        class Spec {
            final List<SteeringRule> singles = new ArrayList<>();
            final List<SteeringRule> ranges = new ArrayList<>();
            SteeringRule all;
            byte[] address;
        }
        Map<EntryId, Spec> specs = new LinkedHashMap<>();
        List<TreeSet<Integer>> lengthSets = new ArrayList<>();
        for (int pf = 0; pf < 4; pf++) {
            lengthSets.add(new TreeSet<>(Collections.reverseOrder()));
        }
        // Port coverage per pf as a difference array: +1 at a spec's first port, -1 after its last.
        int[][] coverage = new int[4][PORT_ENTRIES + 1];
        for (SteeringRule r : rules.rules()) {
            int pf = pf(r.protocol(), r.prefix().isIpv4());
            byte[] address = r.prefix().address();
            Spec s = specs.computeIfAbsent(new EntryId(pf, r.prefix()), id -> new Spec());
            s.address = address;
            switch (r.ports().rank()) {
                case 0 -> s.singles.add(r);
                case 1 -> s.ranges.add(r);
                default -> {
                    if (s.all == null) {
                        s.all = r;
                    }
                }
            }
            lengthSets.get(pf).add(r.prefix().length());
            coverage[pf][r.ports().first()]++;
            coverage[pf][r.ports().last() + 1]--;
            if (r.ports().rank() == 0) {
                t.ports[r.ports().first()] |= 1 << (4 + pf);
            }
        }
        for (int pf = 0; pf < 4; pf++) {
            int depth = 0;
            for (int p = 0; p < PORT_ENTRIES; p++) {
                depth += coverage[pf][p];
                if (depth > 0) {
                    t.ports[p] |= 1 << pf;
                }
            }
        }
        for (int pf = 0; pf < 4; pf++) {
            t.lengths.get(pf).addAll(lengthSets.get(pf));
        }
        int rangeIndex = 0;
        for (Map.Entry<EntryId, Spec> e : specs.entrySet()) {
            EntryId id = e.getKey();
            Spec s = e.getValue();
            boolean v4 = id.pf() % 2 == 0;
            for (int bucket : bucketsOf(s.address, id.length(), v4)) {
                t.buckets[id.pf() * BUCKETS_PER_PF + bucket] |= 1L << lengthClass(id.length(), v4);
            }
            Map<Integer, SteeringRule> singlesByPort = new HashMap<>();
            for (SteeringRule r : s.singles) {
                singlesByPort.putIfAbsent(r.ports().first(), r);
            }
            for (SteeringRule r : singlesByPort.values()) {
                t.entries.add(new Entry(key(id.pf(), id.length(), KIND_SINGLE, r.ports().first(), s.address),
                        value(ruleId.applyAsInt(r), slot.applyAsInt(r.listener()), 0, 0)));
            }
            if (s.ranges.isEmpty() && s.all == null) {
                continue;
            }
            List<SteeringRule> sorted = new ArrayList<>(s.ranges);
            sorted.sort((a, b) -> Integer.compare(a.ports().first(), b.ports().first()));
            if (rangeIndex + sorted.size() > rangeCapacity) {
                SteeringRule r = sorted.get(0);
                throw new InvalidRuleException(r.origin(), null, "more port ranges than the dispatcher holds ("
                        + rangeCapacity + "); raise sksteer.max-rules");
            }
            int first = rangeIndex;
            for (SteeringRule r : sorted) {
                ByteBuffer b = buffer(RANGE_RECORD);
                b.putInt(r.ports().first()).putInt(r.ports().last()).putInt(ruleId.applyAsInt(r)).putInt(slot.applyAsInt(r.listener()));
                t.ranges.add(new RangeRecord(rangeIndex++, b.array()));
            }
            int allRule = s.all == null ? NO_RULE : ruleId.applyAsInt(s.all);
            int allSlot = s.all == null ? 0 : slot.applyAsInt(s.all.listener());
            t.entries.add(new Entry(key(id.pf(), id.length(), KIND_SUMMARY, 0, s.address),
                    value(allRule, allSlot, sorted.size(), first)));
        }
        return t;
    }

    /** The class bit of a prefix length in a bucket mask. */
    public static int lengthClass(int length, boolean ipv4) {
        return ipv4 ? length : Math.min(length >> 1, 63);
    }

    /** The bucket of an address as the program computes it. */
    public static int bucketOf(byte[] address) {
        int b0 = address[0] & 0xff;
        int b1 = address[1] & 0xff;
        if (address.length == 4) {
            return b0 | b1 << 8;
        }
        return (b0 | b1 << 8) ^ ((address[2] & 0xff) | (address[3] & 0xff) << 8);
    }

    /** Every bucket an address of the prefix may fall in. */
    static int[] bucketsOf(byte[] network, int length, boolean ipv4) {
        int fixedBits = ipv4 ? 16 : 32;
        if (length >= fixedBits) {
            return new int[] {bucketOf(network)};
        }
        if (!ipv4 && length <= 16) {
            int[] all = new int[BUCKETS_PER_PF];
            Arrays.setAll(all, i -> i);
            return all;
        }
        int free = fixedBits - length;
        int base = ipv4 ? ((network[0] & 0xff) << 8 | (network[1] & 0xff))
                : ByteBuffer.wrap(network, 0, 4).getInt();
        int[] out = new int[1 << free];
        byte[] a = network.clone();
        for (int v = 0; v < out.length; v++) {
            int word = base | v;
            if (ipv4) {
                a[0] = (byte) (word >> 8);
                a[1] = (byte) word;
            } else {
                a[0] = (byte) (word >> 24);
                a[1] = (byte) (word >> 16);
                a[2] = (byte) (word >> 8);
                a[3] = (byte) word;
            }
            out[v] = bucketOf(a);
        }
        return out;
    }

    static byte[] key(int pf, int length, int kind, int port, byte[] address) {
        ByteBuffer b = buffer(KEY_SIZE);
        b.put((byte) 0).put((byte) pf).put((byte) length).put((byte) kind).putInt(port);
        b.put(address);
        return b.array();
    }

    private static byte[] value(int rule, int slot, int rangeCount, int firstRange) {
        return buffer(VALUE_SIZE).putInt(rule).putInt(slot).putInt(rangeCount).putInt(firstRange).array();
    }

    /** A length record for {@code length} in family {@code ipv4}, or the end marker for -1. */
    public static byte[] lengthRecord(int length, boolean ipv4) {
        ByteBuffer b = buffer(LENGTH_RECORD);
        if (length < 0) {
            return b.array();
        }
        b.putInt(length + 1).putInt(lengthClass(length, ipv4));
        byte[] mask = Prefix.mask(new byte[] {-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1},
                ipv4 ? Math.min(length, 32) : length);
        if (ipv4) {
            Arrays.fill(mask, 4, 16, (byte) 0);
        }
        b.put(mask);
        return b.array();
    }

    static ByteBuffer buffer(int size) {
        return ByteBuffer.allocate(size).order(ByteOrder.nativeOrder());
    }

    private static String pfName(int pf) {
        return new String[] {"tcp over IPv4", "tcp over IPv6", "udp over IPv4", "udp over IPv6"}[pf];
    }

    public int[] ports() {
        return ports;
    }

    public long[] buckets() {
        return buckets;
    }

    /** Prefix lengths of {@code pf}, longest first. */
    public List<Integer> lengths(int pf) {
        return lengths.get(pf);
    }

    public List<Entry> entries() {
        return entries;
    }

    public List<RangeRecord> ranges() {
        return ranges;
    }
}
