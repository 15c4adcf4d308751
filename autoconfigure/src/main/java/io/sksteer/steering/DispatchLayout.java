package io.sksteer.steering;

/**
 * The byte and bit layout of the dispatcher's maps, defined once: the tables ({@link
 * DispatchTables}, {@link TableState}, {@link TablePlacement}) write what the program ({@link
 * DispatcherProgram}) reads by these names. {@link DispatchTables} describes the maps.
 */
public final class DispatchLayout {

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

    /** A rule and slot of a singles entry, as one value ({@link #target}): absent. */
    static final long NO_TARGET = target(NO_RULE, 0);

    // --- the port gate word (ports map), read by the program after a right shift by pf ---
    /** Gate bit (shifted left by pf): some rule of pf covers this port. */
    public static final int GATE_COVERED = 1;
    /** Gate bit (shifted left by pf): some single-port entry of pf has this port. */
    public static final int GATE_SINGLE_PORTS = 1 << 4;
    /** Gate bit (shifted left by pf): pf has prefixes too short for address buckets (global lengths). */
    public static final int GATE_GLOBAL_LENGTHS = 1 << 8;

    // --- a length record (lengths map, {@link #LENGTH_RECORD} bytes) ---
    /** u32 length + 1; 0 ends the list. */
    public static final int LENGTH_PLUS_ONE = 0;
    /** u32 the length's class bit in a bucket mask. */
    public static final int LENGTH_CLASS = 4;
    /** u32 {@link #FLAG_SINGLES} and {@link #FLAG_SUMMARIES}. */
    public static final int LENGTH_FLAGS = 8;
    /** u8[16] the length's mask, network order. */
    public static final int LENGTH_MASK = 16;

    // --- a table bucket and a summary half ---
    /** u32 in a table bucket's header: non-zero when some key of the bucket is in the singles hash. */
    public static final int TABLE_OVERFLOW = 0;
    /** u32 in a summary half: how many range records follow the header. */
    public static final int SUMMARY_RANGE_COUNT = 8;
    /** In a range record: u16 first port, u16 last port, u32 rule, u32 slot. */
    public static final int RANGE_FIRST = 0;
    public static final int RANGE_LAST = 2;
    public static final int RANGE_RULE = 4;
    public static final int RANGE_SLOT = 8;
    /** In a singles half: u32 rule, u32 slot. */
    public static final int HALF_RULE = 0;
    public static final int HALF_SLOT = 4;

    // --- a rule's per-CPU counters (counters map, {@link #COUNTERS_VALUE} bytes) ---
    public static final int LOOKUPS = 0;
    public static final int STEERED = 8;
    public static final int MISSING = 16;
    public static final int ERRORS = 24;
    public static final int COUNTERS_VALUE = 32;

    private DispatchLayout() {
    }

    /** A rule and its listener's slot as one value. */
    static long target(int rule, int slot) {
        return (long) rule << 32 | (slot & 0xffffffffL);
    }
}
