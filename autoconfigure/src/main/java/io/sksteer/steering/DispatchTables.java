package io.sksteer.steering;

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
 *   <li><b>ports</b> (ARRAY, 65536 × u32), the port gate: bit pf = some rule of pf covers this
 *       port; bit 4+pf = some single-port entry of pf has this port; bit 8+pf = pf has prefixes
 *       too short for address buckets ("global" lengths). Misses on other ports stop here.</li>
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
 *   <li><b>table</b> (ARRAY of buckets, {@link #TABLE_BUCKET} bytes each) and <b>singles</b>
 *       (HASH, for keys whose bucket is full): one entry per (prefix, port) of single-port rules
 *       and of narrow ranges, and a port-0 entry per prefix with an {@code all} rule or wide
 *       ranges, keyed by 20 bytes {@code u8 pf | 0x80, u8 length, u16 port, u8 address[16]}.
 *       Value: per generation {@code u32 rule, u32 slot} (rule {@link #NO_RULE}: absent in that
 *       generation). A port-0 entry holds the {@code all} rule ({@link #NO_ALL} if none) and
 *       {@link #HAS_RANGES} in its slot when the prefix has wide ranges. A table lookup is
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

    public static final int PORT_ENTRIES = 65536;
    /**
     * Distinct prefix lengths per protocol and family (every IPv4 length fits). The program is
     * unrolled over them, which keeps every path short enough for a process holding only CAP_BPF
     * and CAP_NET_ADMIN.
     */
    public static final int MAX_LENGTHS = 33;
    /** Ranges wider than {@link #NARROW_RANGE} ports that one prefix may have per protocol. */
    public static final int MAX_RANGES_PER_ENTRY = 16;
    /** Ranges of at most this many ports become single-port entries: one probe, like a port. */
    public static final int NARROW_RANGE = 16;
    public static final int LENGTH_RECORD = 32;
    public static final int KEY_SIZE = 20;
    public static final int SINGLE_HALF = 8;
    /**
     * The singles table (ARRAY): buckets of {@link #WAYS} ways, each way {@code u8 key[20]} (as a
     * singles key) and per generation {@code u32 rule, u32 slot}; the bucket starts with {@code
     * u32 overflow} (non-zero: some key of this bucket is in the singles hash instead).
     */
    public static final int WAYS = 4;
    /** Set in every key's first byte, so that a zeroed (free) way never matches a lookup. */
    public static final int KEY_MARK = 0x80;
    public static final int WAY_SIZE = KEY_SIZE + 2 * SINGLE_HALF;
    public static final int TABLE_HEADER = 8;
    public static final int TABLE_BUCKET = TABLE_HEADER + WAYS * WAY_SIZE;
    public static final int RANGE_RECORD = 12;
    public static final int SUMMARY_HEADER = 16;
    public static final int SUMMARY_HALF = SUMMARY_HEADER + MAX_RANGES_PER_ENTRY * RANGE_RECORD;
    public static final int NO_RULE = 0xffffffff;
    /** The rule of a prefix's port-0 entry when the prefix has wide ranges but no {@code all} rule. */
    public static final int NO_ALL = 0xfffffffe;
    /** Set in the slot of a prefix's port-0 entry when the prefix has wide ranges (summaries hash). */
    public static final int HAS_RANGES = 0x40000000;
    public static final int FLAG_SINGLES = 1;
    public static final int FLAG_SUMMARIES = 2;
    /** Bucket granularity: an IPv4 /24, an IPv6 /64. */
    public static final int V4_BUCKET_LENGTH = 24;
    public static final int V6_BUCKET_LENGTH = 64;
    /** Prefixes up to this many bits shorter than a bucket are entered in each bucket they cover. */
    public static final int EXPAND_BITS = 8;
    /** The multiplier of the bucket hash (2^64 divided by the golden ratio). */
    public static final long HASH_MULTIPLIER = 0x9E3779B97F4A7C15L;

    static final long NO_TARGET = target(NO_RULE, 0);

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
            b.putInt(allRule).putInt(allSlot).putInt(ranges.length / 4).putInt(0);
            for (int i = 0; i < ranges.length; i += 4) {
                b.putShort((short) ranges[i]).putShort((short) ranges[i + 1]).putInt(ranges[i + 2]).putInt(ranges[i + 3]);
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

    /** A rule and its listener's slot as one value. */
    static long target(int rule, int slot) {
        return (long) rule << 32 | (slot & 0xffffffffL);
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
        b.putInt(length.length() + 1).putInt(lengthClass(length.length(), ipv4)).putInt(length.flags()).putInt(0);
        byte[] ones = new byte[16];
        Arrays.fill(ones, (byte) -1);
        byte[] mask = Prefix.mask(ones, ipv4 ? Math.min(length.length(), 32) : length.length());
        if (ipv4) {
            Arrays.fill(mask, 4, 16, (byte) 0);
        }
        b.put(mask);
        return b.array();
    }

    /** A singles value: the target in each generation ({@link #NO_TARGET} where absent). */
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

    /** Single-port entries and their targets ({@link #target} encoding). */
    public Map<Key, Long> singles() {
        return singles;
    }

    public Map<Key, Summary> summaries() {
        return summaries;
    }
}
