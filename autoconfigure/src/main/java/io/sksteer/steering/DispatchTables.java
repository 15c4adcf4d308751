package io.sksteer.steering;

import static io.sksteer.steering.DispatchLayout.*;

import io.sksteer.bpf.sklookup.Protocol;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntUnaryOperator;
import java.util.function.ToIntFunction;

/**
 * The dispatcher's map contents for one rule set, computed without a kernel. The generated
 * program ({@link DispatcherProgram}) reads them; the layouts below are shared with it.
 *
 * <p>Lookups are split by "pf", the protocol-family index: tcp4 0, tcp6 1, udp4 2, udp6 3.
 *
 * <ul>
 *   <li><b>ports</b> (ARRAY, 65536 × u32), the port gate: {@link DispatchLayout#GATE_COVERED} {@code << pf}
 *       = some rule of pf covers this port; {@link DispatchLayout#GATE_SINGLE_PORTS} {@code << pf}
 *       = some single-port entry of pf has this port; {@link DispatchLayout#GATE_GLOBAL_LENGTHS}
 *       {@code << pf} = pf has prefixes too short for address buckets ("global" lengths). Misses on other ports stop here.</li>
 *   <li><b>buckets</b> (ARRAY, 4 × 2<sup>bits</sup> × u64), indexed {@code pf << bits | hash}:
 *       the length classes that have entries whose addresses fall in this bucket. A bucket is an
 *       IPv4 /24 or an IPv6 /64, hashed into two words ({@link #bucketProduct}); prefixes down to 8 bits shorter are
 *       entered in every bucket they cover, shorter ones are global. Collisions only cost probes.
 *       A lookup whose bucket is empty, with no global length, ends here.</li>
 *   <li><b>globals</b> (ARRAY, 2 generations × 4 pf × u64): the length classes of global
 *       lengths.</li>
 *   <li><b>lengths</b> (ARRAY, 2 generations × 4 pf × 33 × 32 bytes): the prefix lengths present,
 *       longest first: {@code u32 length + 1} (0 ends the list), {@code u32 class}, {@code u32
 *       flags} (1: has single-port entries, 2: has port-0 entries), {@code u32 0}, {@code u8
 *       mask[16]} in network byte order.</li>
 *   <li><b>table</b> (ARRAY of buckets, {@link DispatchLayout#TABLE_BUCKET} bytes each) and <b>singles</b>
 *       (HASH, for keys whose bucket is full): one entry per (prefix, port) of single-port rules
 *       and of narrow ranges, and a port-0 entry per prefix with an {@code all} rule or wide
 *       ranges, keyed by 20 bytes {@code u8 pf | 0x80, u8 length, u16 port, u8 address[16]}.
 *       Value: per generation {@code u32 rule, u32 slot} (rule {@link DispatchLayout#NO_RULE}: absent in that
 *       generation). A port-0 entry holds the {@code all} rule ({@link DispatchLayout#NO_ALL} if none) and
 *       {@link DispatchLayout#HAS_RANGES} in its slot when the prefix has wide ranges. A table lookup is
 *       inlined by the verifier; a HASH lookup is a call that costs about as much as the rest of a
 *       hit, so the hash only holds what does not fit.</li>
 *   <li><b>summaries</b> (HASH, the same key as the port-0 entry), one per prefix with wide
 *       ranges. Value: per generation {@code u32 all rule, u32 all slot, u32 range count, u32 0}
 *       and 16 ranges {@code u16 first, u16 last, u32 rule, u32 slot}, by first port.</li>
 * </ul>
 *
 * <p>Every value holds both generations, so a rule change rewrites only the entries it changes,
 * and the program reads the half of the generation in force.
 */
public final class DispatchTables {


    /** A singles or summaries key: protocol family, prefix length, port (0 for summaries), network. */
    public record Key(int pf, int length, int port, long hi, long lo) {

        static Key of(int pf, Prefix prefix, int port) {
            return new Key(pf, prefix.length(), port, prefix.half(0), prefix.half(1));
        }

        /** The same prefix with another port. */
        Key withPort(int other) {
            return new Key(pf, length, other, hi, lo);
        }

        public byte[] bytes() {
            ByteBuffer b = buffer(KEY_SIZE);
            writeTo(b);
            return b.array();
        }

        /** Puts {@link #bytes()} at the buffer's position (a native-order buffer), advancing it. */
        void writeTo(ByteBuffer b) {
            b.put((byte) (pf | KEY_MARK)).put((byte) length).putShort((short) port);
            b.order(ByteOrder.BIG_ENDIAN).putLong(hi).putLong(lo).order(ByteOrder.nativeOrder());
        }

        /** Word {@code i} (0–4) of {@link #bytes()} as a native-order load reads it. */
        int word(int i) {
            boolean little = ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN;
            if (i == 0) {
                return little ? (pf | KEY_MARK) | length << 8 | port << 16 : (pf | KEY_MARK) << 24 | length << 16 | port;
            }
            int big = (int) ((i < 3 ? hi : lo) >>> ((i % 2 == 1) ? 32 : 0));
            return little ? Integer.reverseBytes(big) : big;
        }

        /** Its bucket of the singles table ({@link #tableBucket(byte[], int)}), without the bytes. */
        public int tableBucket(int bits) {
            long high = (word(1) ^ word(3)) & 0xffffffffL;
            long low = (word(2) ^ word(4) ^ word(0)) & 0xffffffffL;
            return (int) (((high << 32 | low) * HASH_MULTIPLIER) >>> (64 - bits));
        }
    }

    /** A prefix's ranges and its {@code all} rule: {@code ranges} holds first, last, rule, slot per range. */
    public record Summary(int allRule, int allSlot, int[] ranges) {

        static final Summary NONE = new Summary(NO_RULE, 0, new int[0]);

        @Override
        public boolean equals(Object o) {
            return o instanceof Summary s && s.allRule == allRule && s.allSlot == allSlot && Arrays.equals(s.ranges, ranges);
        }

        @Override
        public int hashCode() {
            return 31 * (31 * allRule + allSlot) + Arrays.hashCode(ranges);
        }

        void encode(ByteBuffer b) {
            int start = b.position();
            b.putInt(allRule).putInt(allSlot).putInt(start + SUMMARY_RANGE_COUNT, ranges.length / 4);
            for (int i = 0; i < ranges.length; i += 4) {
                int at = start + SUMMARY_HEADER + i / 4 * RANGE_RECORD;
                b.putShort(at + RANGE_FIRST, (short) ranges[i]).putShort(at + RANGE_LAST, (short) ranges[i + 1])
                        .putInt(at + RANGE_RULE, ranges[i + 2]).putInt(at + RANGE_SLOT, ranges[i + 3]);
            }
            b.position(start + SUMMARY_HALF);
        }
    }

    /** A prefix length present for a protocol family, with what kinds of entries it has. */
    public record Length(int length, int flags) {
    }

    private final int bucketBits;
    private final int[] ports;
    private final long[] buckets;
    private final long[] globals;
    private final List<List<Length>> lengths = new ArrayList<>();
    // In rule precedence order, so that table ways go to the most specific entries first.
    private final Map<Key, Long> singles;
    private final Map<Key, Summary> summaries;

    /** A copy of what {@code state} holds. */
    private DispatchTables(TableState state) {
        this.bucketBits = state.bucketBits();
        this.ports = state.ports().clone();
        this.buckets = state.buckets().clone();
        this.globals = state.globals().clone();
        for (int pf = 0; pf < 4; pf++) {
            lengths.add(state.lengths(pf));
        }
        this.singles = state.singles();
        this.summaries = state.summaries();
    }

    /** The protocol-family index of the generated program. */
    public static int pf(Protocol protocol, boolean ipv4) {
        return (protocol == Protocol.UDP ? 2 : 0) + (ipv4 ? 0 : 1);
    }

    /** Buckets per protocol family, as a power of two, for a dispatcher of {@code maxRules}. */
    public static int bucketBits(int maxRules) {
        // At least 8 buckets per rule, so that an address near rules but in none of their
        // prefixes rarely finds its bucket taken (each taken bucket costs such a miss a probe).
        long wanted = 8L * Math.max(1, maxRules);
        int bits = 64 - Long.numberOfLeadingZeros(wanted - 1);
        return Math.max(12, Math.min(19, bits));
    }

    /** Buckets of the singles table, as a power of two: one per rule of capacity (four ways each). */
    public static int tableBits(int maxRules) {
        int bits = 32 - Integer.numberOfLeadingZeros(Math.max(1, maxRules - 1));
        return Math.max(2, Math.min(24, bits));
    }

    /**
     * The singles-table bucket of a key, as the program computes it from the key's five native
     * words k0 (pf, length, port) and a0–a3 (the address): {@code ((a0 ^ a2) << 32 | (a1 ^ a3 ^
     * k0)) * HASH_MULTIPLIER}, top {@code bits} bits.
     */
    public static int tableBucket(byte[] key, int bits) {
        ByteBuffer b = ByteBuffer.wrap(key).order(ByteOrder.nativeOrder());
        long hi = (b.getInt(4) ^ b.getInt(12)) & 0xffffffffL;
        long lo = (b.getInt(8) ^ b.getInt(16) ^ b.getInt(0)) & 0xffffffffL;
        return (int) (((hi << 32 | lo) * HASH_MULTIPLIER) >>> (64 - bits));
    }

    /** Single-port entries one rule set may have: narrow ranges stay ranges beyond it. */
    public static int singlesBudget(int maxRules) {
        return 2 * maxRules;
    }

    /**
     * Checks the limits the generated program has — distinct prefix lengths per protocol and
     * family, wide ranges per prefix — without building any table, so configurations can be
     * validated cheaply before anything is created.
     *
     * @throws InvalidRuleException naming a rule that exceeds a limit
     */
    public static void checkLimits(RuleSet rules) {
        record EntryId(int pf, Prefix prefix) {
        }
        List<BitSet> lengths = new ArrayList<>();
        for (int pf = 0; pf < 4; pf++) {
            lengths.add(new BitSet(129));
        }
        Map<EntryId, List<SteeringRule>> ranges = new HashMap<>();
        for (SteeringRule r : rules.rules()) {
            int pf = pf(r.protocol(), r.prefix().isIpv4());
            lengths.get(pf).set(r.prefix().length());
            if (r.ports().rank() == 1 && width(r.ports()) > NARROW_RANGE) {
                ranges.computeIfAbsent(new EntryId(pf, r.prefix()), id -> new ArrayList<>()).add(r);
            }
        }
        for (int pf = 0; pf < 4; pf++) {
            if (lengths.get(pf).cardinality() > MAX_LENGTHS) {
                throw tooManyLengths(pf);
            }
        }
        for (List<SteeringRule> list : ranges.values()) {
            if (list.size() > MAX_RANGES_PER_ENTRY) {
                throw tooManyRanges(list.get(MAX_RANGES_PER_ENTRY));
            }
        }
    }

    static InvalidRuleException tooManyLengths(int pf) {
        return new InvalidRuleException(null, null, "more than " + MAX_LENGTHS
                + " distinct prefix lengths for " + pfName(pf) + "; use fewer lengths");
    }

    static InvalidRuleException tooManyRanges(SteeringRule r) {
        return new InvalidRuleException(r.origin(), r.ports().toString(), "more than " + MAX_RANGES_PER_ENTRY
                + " port ranges wider than " + NARROW_RANGE + " ports for " + r.protocol().name().toLowerCase() + " "
                + r.prefix() + "; merge ranges or split the prefix");
    }

    private static int width(PortSpec p) {
        return p.last() - p.first() + 1;
    }

    /**
     * Computes the tables of a whole rule set, as {@link TableState} does for a dispatcher change
     * by change.
     *
     * @param rules the rules, in precedence order
     * @param ruleId the counter index of the rule at each position of {@code rules.rules()}
     * @param slot the SOCKMAP slot of each listener
     * @param maxRules the dispatcher's capacity, which sizes the buckets and the singles budget
     * @throws InvalidRuleException when a limit is exceeded, naming a rule that exceeds it
     */
    public static DispatchTables compute(RuleSet rules, IntUnaryOperator ruleId,
            ToIntFunction<String> slot, int maxRules) {
        checkLimits(rules);
        List<TableState.Member> members = new ArrayList<>(rules.size());
        for (int i = 0; i < rules.size(); i++) {
            members.add(new TableState.Member(rules.rules().get(i), ruleId.applyAsInt(i)));
        }
        TableState state = new TableState(maxRules);
        state.update(List.of(), members, slot);
        return new DispatchTables(state);
    }

    /** The class bit of a prefix length in a bucket mask. */
    public static int lengthClass(int length, boolean ipv4) {
        return ipv4 ? length : Math.min(length >> 1, 63);
    }

    /**
     * The address hash of the buckets (4 or 16 address bytes; extra bytes ignored), as the program
     * computes it: the address cut to the bucket length, read as the program's loads read it,
     * multiplied by {@link #HASH_MULTIPLIER}. An address's classes are entered in two words, the
     * product's top {@code bits} bits and the {@code bits} below them, and a lookup takes the
     * classes both words have: a bucket taken by other rules then costs a probe only when both of
     * its words are (about the square of the share of words taken).
     */
    public static long bucketProduct(byte[] address, boolean ipv4) {
        ByteBuffer b = ByteBuffer.wrap(address).order(ByteOrder.nativeOrder());
        long x;
        if (ipv4) {
            x = b.getInt(0) & 0xffffffffL & Integer.toUnsignedLong(NATIVE_MASK_24);
        } else {
            x = (b.getInt(0) & 0xffffffffL) << 32 | (b.getInt(4) & 0xffffffffL);
        }
        return x * HASH_MULTIPLIER;
    }

    public static int firstBucket(long product, int bits) {
        return (int) (product >>> (64 - bits));
    }

    public static int secondBucket(long product, int bits) {
        return (int) (product >>> (64 - 2 * bits)) & ((1 << bits) - 1);
    }

    /** The first three address bytes of a native-order u32 load. */
    static int nativeMask24() {
        return NATIVE_MASK_24;
    }

    private static final int NATIVE_MASK_24 = ByteBuffer.wrap(new byte[] {-1, -1, -1, 0}).order(ByteOrder.nativeOrder()).getInt();

    /** The bytes of a length record for {@code length} and its flags, or the end marker for null. */
    public static byte[] lengthRecord(Length length, boolean ipv4) {
        ByteBuffer b = buffer(LENGTH_RECORD);
        if (length == null) {
            return b.array();
        }
        b.putInt(LENGTH_PLUS_ONE, length.length() + 1).putInt(LENGTH_CLASS, lengthClass(length.length(), ipv4))
                .putInt(LENGTH_FLAGS, length.flags()).position(LENGTH_MASK);
        byte[] ones = new byte[16];
        Arrays.fill(ones, (byte) -1);
        byte[] mask = Prefix.mask(ones, ipv4 ? Math.min(length.length(), 32) : length.length());
        if (ipv4) {
            Arrays.fill(mask, 4, 16, (byte) 0);
        }
        b.put(mask);
        return b.array();
    }

    /** A singles value: the target in each generation ({@link DispatchLayout#NO_TARGET} where absent). */
    static byte[] singleValue(long gen0, long gen1) {
        return buffer(2 * SINGLE_HALF).putInt((int) (gen0 >>> 32)).putInt((int) gen0)
                .putInt((int) (gen1 >>> 32)).putInt((int) gen1).array();
    }

    /** A summaries value: the summary in each generation ({@link Summary#NONE} where absent). */
    static byte[] summaryValue(Summary gen0, Summary gen1) {
        ByteBuffer b = buffer(2 * SUMMARY_HALF);
        gen0.encode(b);
        gen1.encode(b);
        return b.array();
    }

    static ByteBuffer buffer(int size) {
        return ByteBuffer.allocate(size).order(ByteOrder.nativeOrder());
    }

    static String pfName(int pf) {
        return new String[] {"tcp over IPv4", "tcp over IPv6", "udp over IPv4", "udp over IPv6"}[pf];
    }

    public int bucketBits() {
        return bucketBits;
    }

    public int[] ports() {
        return ports;
    }

    public long[] buckets() {
        return buckets;
    }

    /** The class mask of global lengths per protocol family. */
    public long[] globals() {
        return globals;
    }

    /** Prefix lengths of {@code pf}, longest first. */
    public List<Length> lengths(int pf) {
        return lengths.get(pf);
    }

    /** Single-port entries and their targets ({@link DispatchLayout#target} encoding). */
    public Map<Key, Long> singles() {
        return singles;
    }

    public Map<Key, Summary> summaries() {
        return summaries;
    }
}
