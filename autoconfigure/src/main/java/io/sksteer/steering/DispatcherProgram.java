package io.sksteer.steering;

import static io.sksteer.bpf.Asm.add;
import static io.sksteer.bpf.Asm.and;
import static io.sksteer.bpf.Asm.call;
import static io.sksteer.bpf.Asm.ja;
import static io.sksteer.bpf.Asm.jeq;
import static io.sksteer.bpf.Asm.jgt;
import static io.sksteer.bpf.Asm.jle;
import static io.sksteer.bpf.Asm.jlt;
import static io.sksteer.bpf.Asm.jne;
import static io.sksteer.bpf.Asm.jump32;
import static io.sksteer.bpf.Asm.label;
import static io.sksteer.bpf.Asm.ldImm64;
import static io.sksteer.bpf.Asm.ldMap;
import static io.sksteer.bpf.Asm.ldxdw;
import static io.sksteer.bpf.Asm.ldxh;
import static io.sksteer.bpf.Asm.ldxw;
import static io.sksteer.bpf.Asm.lsh;
import static io.sksteer.bpf.Asm.mov;
import static io.sksteer.bpf.Asm.mul;
import static io.sksteer.bpf.Asm.or;
import static io.sksteer.bpf.Asm.rsh;
import static io.sksteer.bpf.Asm.st;
import static io.sksteer.bpf.Asm.stx;
import static io.sksteer.bpf.Asm.sub;
import static io.sksteer.bpf.Asm.xor;
import static io.sksteer.bpf.Reg.R0;
import static io.sksteer.bpf.Reg.R1;
import static io.sksteer.bpf.Reg.R10;
import static io.sksteer.bpf.Reg.R2;
import static io.sksteer.bpf.Reg.R3;
import static io.sksteer.bpf.Reg.R4;
import static io.sksteer.bpf.Reg.R6;
import static io.sksteer.bpf.Reg.R7;
import static io.sksteer.bpf.Reg.R8;
import static io.sksteer.bpf.Reg.R9;
import static io.sksteer.bpf.sklookup.SkLookup.FAMILY;
import static io.sksteer.bpf.sklookup.SkLookup.LOCAL_IP4;
import static io.sksteer.bpf.sklookup.SkLookup.LOCAL_IP6;
import static io.sksteer.bpf.sklookup.SkLookup.LOCAL_PORT;
import static io.sksteer.bpf.sklookup.SkLookup.PROTOCOL;

import io.sksteer.bpf.Helper;
import io.sksteer.bpf.Insn;
import io.sksteer.bpf.JumpOp;
import io.sksteer.bpf.ProgramSpec;
import io.sksteer.bpf.Size;
import io.sksteer.bpf.Sockets;
import io.sksteer.bpf.sklookup.SkLookup;
import io.sksteer.bpf.sklookup.SkLookupProgram;
import io.sksteer.bpf.sklookup.Verdict;
import java.util.ArrayList;
import java.util.List;

/**
 * The generated dispatcher: one program for every rule set, driven by the maps of
 * {@link DispatchTables}, so rules change without reloading it.
 *
 * <p>The miss path (traffic outside every rule, which is most lookups of a namespace) costs two
 * inlined ARRAY lookups: the port gate and the address bucket. Then one HASH probe per prefix
 * length present in the bucket, longest first, stops at the first entry that has a rule for the
 * port; a single port or a narrow range is one probe, a wide range or {@code all} one more. A
 * matched rule counts in its per-CPU counters and assigns its listener's socket.
 */
public final class DispatcherProgram {

    public static final String NAME = "sksteer_steer";
    public static final String PORTS = "sks_ports";
    public static final String BUCKETS = "sks_buckets";
    public static final String STATE = "sks_state";
    public static final String GLOBALS = "sks_globals";
    public static final String LENGTHS = "sks_lengths";
    public static final String TABLE = "sks_table";
    public static final String SINGLES = "sks_singles";
    public static final String SUMMARIES = "sks_summaries";
    public static final String SOCKETS = "sks_sockets";
    public static final String COUNTERS = "sks_counters";

    /** Counter offsets within a rule's per-CPU value. */
    public static final int LOOKUPS = 0;
    public static final int STEERED = 8;
    public static final int MISSING = 16;
    public static final int ERRORS = 24;

    // Stack layout (offsets from R10).
    private static final int MASK = -8;          // u64 length classes to probe
    private static final int GEN = -12;          // u32 generation
    private static final int GATE = -16;         // u32 port gate word, shifted right by pf
    private static final int INDEX = -20;        // u32 key for ARRAY lookups
    private static final int KEY = -40;          // 20-byte key: pf, length, port, address[16]
    private static final int WORD0 = -44;        // u32 pf | length << 8, the key's first word without port
    private static final int FLAGS = -48;        // u32 the length's flags
    private static final int BASE = -52;         // u32 first lengths index of (generation, pf)
    private static final int PF_SLOT = -56;      // u32
    private static final int ALL_RULE = -60;     // u32 the prefix's 'all' rule
    private static final int ALL_SLOT = -64;     // u32 its slot, with HAS_RANGES
    private static final int PRODUCT = -72;      // u64 the address hash product

    private DispatcherProgram() {
    }

    /**
     * The program.
     *
     * @param bucketBits buckets per protocol family, as a power of two
     * @param tableBits buckets of the singles table, as a power of two
     * @param dropOnMissing what a matched rule with no socket returns
     * @param testRunCounter where test runs count instead of the matched rule, or -1 to count
     *     them like traffic. A test run has {@code ingress_ifindex} 0, real traffic never has
     *     (loopback is 1); reading the field needs Linux 5.17.
     */
    public static ProgramSpec spec(int bucketBits, int tableBits, boolean dropOnMissing, int testRunCounter) {
        List<Insn> p = new ArrayList<>();

        // --- protocol and family → pf in R8 (tcp4 0, tcp6 1, udp4 2, udp6 3); others pass ---
        p.add(ldxw(R7, R6, PROTOCOL));
        p.add(mov(R8, 0));
        p.add(jeq(R7, Sockets.IPPROTO_TCP, "protocol_known"));
        p.add(mov(R8, 2));
        p.add(jne(R7, Sockets.IPPROTO_UDP, "pass"));
        p.add(label("protocol_known"));
        p.add(ldxw(R7, R6, FAMILY));
        p.add(jeq(R7, Sockets.AF_INET, "family_known"));
        p.add(jne(R7, Sockets.AF_INET6, "pass"));
        p.add(add(R8, 1));
        p.add(label("family_known"));
        // Round-trip pf through a 4-byte stack slot: the verifier then knows it only as a number,
        // and checks the rest once for all four values instead of once per value (half the work).
        p.add(stx(Size.W, R10, PF_SLOT, R8));
        p.add(ldxw(R8, R10, PF_SLOT));

        // --- port gate: is this port covered for pf at all? ---
        p.add(ldxw(R7, R6, LOCAL_PORT));             // R7 = local port, kept to the end
        p.add(stx(Size.W, R10, INDEX, R7));
        p.addAll(arrayLookup(PORTS, "pass"));
        p.add(ldxw(R1, R0, 0));
        p.add(rsh(R1, R8));                          // bit 0 covered, 4 singly named, 8 global lengths
        p.add(mov(R2, R1));
        p.add(and(R2, 1));
        p.add(jeq(R2, 0, "pass"));
        p.add(stx(Size.W, R10, GATE, R1));

        // --- address bucket: which length classes may hold this address? ---
        p.add(mov(R1, R8));
        p.add(and(R1, 1));
        p.add(jne(R1, 0, "bucket_v6"));
        p.add(ldxw(R1, R6, LOCAL_IP4));
        p.add(and(R1, DispatchTables.nativeMask24()));
        p.add(ja("bucket_known"));
        p.add(label("bucket_v6"));
        p.add(ldxw(R1, R6, LOCAL_IP6));
        p.add(lsh(R1, 32));
        p.add(ldxw(R2, R6, LOCAL_IP6 + 4));
        p.add(or(R1, R2));
        p.add(label("bucket_known"));
        p.add(ldImm64(R2, DispatchTables.HASH_MULTIPLIER));
        p.add(mul(R1, R2));
        p.add(stx(Size.DW, R10, PRODUCT, R1));
        p.add(rsh(R1, 64 - bucketBits));             // first word: the top bits
        p.add(mov(R2, R8));
        p.add(lsh(R2, bucketBits));
        p.add(or(R1, R2));                           // pf << bits | hash
        p.add(stx(Size.W, R10, INDEX, R1));
        p.addAll(arrayLookup(BUCKETS, "pass"));
        p.add(ldxdw(R1, R0, 0));
        p.add(stx(Size.DW, R10, MASK, R1));
        p.add(jeq(R1, 0, "no_bucket"));
        p.add(ldxdw(R1, R10, PRODUCT));              // second word: the bits below them
        p.add(rsh(R1, 64 - 2 * bucketBits));
        p.add(and(R1, (1 << bucketBits) - 1));
        p.add(mov(R2, R8));
        p.add(lsh(R2, bucketBits));
        p.add(or(R1, R2));
        p.add(stx(Size.W, R10, INDEX, R1));
        p.addAll(arrayLookup(BUCKETS, "pass"));
        p.add(ldxdw(R1, R0, 0));
        p.add(ldxdw(R2, R10, MASK));
        p.add(and(R1, R2));                          // classes present in both words
        p.add(stx(Size.DW, R10, MASK, R1));
        p.add(jne(R1, 0, "candidates"));
        p.add(label("no_bucket"));
        p.add(ldxw(R1, R10, GATE));
        p.add(and(R1, 1 << 8));
        p.add(jeq(R1, 0, "pass"));                   // nothing in the bucket, no global length
        p.add(label("candidates"));

        // --- generation in force, its global lengths, and where its lengths for pf start ---
        p.add(st(Size.W, R10, INDEX, 0));
        p.addAll(arrayLookup(STATE, "pass"));
        p.add(ldxw(R1, R0, 0));
        p.add(and(R1, 1));
        p.add(stx(Size.W, R10, GEN, R1));
        p.add(lsh(R1, 2));
        p.add(add(R1, R8));                          // generation * 4 + pf
        p.add(stx(Size.W, R10, INDEX, R1));
        p.add(mul(R1, DispatchTables.MAX_LENGTHS));
        p.add(stx(Size.W, R10, BASE, R1));
        p.add(ldxw(R1, R10, GATE));
        p.add(and(R1, 1 << 8));
        p.add(jeq(R1, 0, "masked"));
        p.addAll(arrayLookup(GLOBALS, "pass"));
        p.add(ldxdw(R1, R0, 0));
        p.add(ldxdw(R2, R10, MASK));
        p.add(or(R1, R2));
        p.add(stx(Size.DW, R10, MASK, R1));
        p.add(label("masked"));

        // --- for each prefix length present, longest first ---
        // Unrolled at generation time: no loop for the verifier to bound, and every path is short
        // enough for programs loaded with CAP_BPF alone, where the verifier also walks speculative
        // branches. Every path reaches each slot with the same stack shape (scalars only), so
        // the verifier prunes instead of walking every combination.
        for (int off = KEY; off < KEY + DispatchTables.KEY_SIZE; off += 4) {
            p.add(st(Size.W, R10, off, 0));
        }
        for (int k = 0; k < DispatchTables.MAX_LENGTHS; k++) {
            lengthSlot(p, k, tableBits);
        }
        p.add(ja("pass"));

        // --- a rule matched: R8 = rule, R9 = listener slot ---
        p.add(label("found"));
        if (testRunCounter >= 0) {
            // Explaining a decision (PROG_TEST_RUN) must not move the rule's counters.
            p.add(ldxw(R1, R6, SkLookup.INGRESS_IFINDEX));
            p.add(jne(R1, 0, "count"));
            p.add(mov(R8, testRunCounter));
            p.add(label("count"));
        }
        p.add(stx(Size.W, R10, INDEX, R8));
        p.addAll(arrayLookup(COUNTERS, "pass"));     // an unknown rule id fails open
        p.add(mov(R7, R0));                          // R7 = this rule's counters on this CPU
        p.addAll(increment(LOOKUPS));
        p.add(stx(Size.W, R10, INDEX, R9));
        p.add(ldMap(R1, SOCKETS));
        p.add(mov(R2, R10));
        p.add(add(R2, INDEX));
        p.add(call(Helper.MAP_LOOKUP_ELEM));         // a socket reference, or NULL
        p.add(jne(R0, 0, "have_socket"));
        p.addAll(increment(MISSING));
        p.add(ja("policy"));
        p.add(label("have_socket"));
        p.add(mov(R9, R0));
        // F_REPLACE: a later sksteer instance of the same rules (a rolling restart) takes the
        // traffic from an earlier one as soon as it is attached; see docs/operations.md.
        p.addAll(SkLookup.skAssign(R6, R9, SkLookup.F_REPLACE));
        p.add(mov(R8, R0));
        p.addAll(SkLookup.skRelease(R9));             // released whether the assign worked or not
        p.add(jeq(R8, 0, "steered"));
        p.addAll(increment(ERRORS));
        p.add(ja("policy"));
        p.add(label("steered"));
        p.addAll(increment(STEERED));
        p.add(ja("pass"));

        p.add(label("policy"));
        p.addAll(SkLookup.verdict(dropOnMissing ? Verdict.DROP : Verdict.PASS));
        p.add(label("pass"));
        return SkLookupProgram.builder(NAME).ctx(R6).body(p).defaultAction(Verdict.PASS).build();
    }

    /** One prefix length: the {@code k}-th of the generation's list for pf. */
    private static void lengthSlot(List<Insn> p, int k, int tableBits) {
        String next = "next_length_" + k;
        String summary = "summary_" + k;
        p.add(ldxw(R1, R10, BASE));
        p.add(add(R1, k));
        p.add(stx(Size.W, R10, INDEX, R1));
        p.addAll(arrayLookup(LENGTHS, "pass"));
        p.add(ldxw(R1, R0, 0));                      // length + 1, or 0 at the end of the list
        p.add(jeq(R1, 0, "pass"));
        p.add(ldxw(R2, R0, 4));                      // its class
        p.add(ldxdw(R3, R10, MASK));
        p.add(rsh(R3, R2));
        p.add(and(R3, 1));
        p.add(jeq(R3, 0, next));                     // no entry of this length for the address
        p.add(ldxw(R2, R0, 8));
        p.add(stx(Size.W, R10, FLAGS, R2));
        // key word 0 without the port: pf | mark | length << 8
        p.add(sub(R1, 1));
        p.add(lsh(R1, 8));
        p.add(or(R1, R8));
        p.add(or(R1, DispatchTables.KEY_MARK));
        p.add(stx(Size.W, R10, WORD0, R1));
        // key address: the destination masked to this length
        p.add(mov(R1, R8));
        p.add(and(R1, 1));
        p.add(jne(R1, 0, "key_v6_" + k));
        p.add(ldxw(R1, R6, LOCAL_IP4));
        p.add(ldxw(R2, R0, 16));
        p.add(and(R1, R2));
        p.add(stx(Size.W, R10, KEY + 4, R1));
        p.add(ja("key_done_" + k));
        p.add(label("key_v6_" + k));
        for (int w = 0; w < 4; w++) {
            p.add(ldxw(R1, R6, LOCAL_IP6 + 4 * w));
            p.add(ldxw(R2, R0, 16 + 4 * w));
            p.add(and(R1, R2));
            p.add(stx(Size.W, R10, KEY + 4 + 4 * w, R1));
        }
        p.add(label("key_done_" + k));

        // single port: probed when the length has single-port entries and one has this port
        p.add(ldxw(R1, R10, FLAGS));
        p.add(and(R1, DispatchTables.FLAG_SINGLES));
        p.add(jeq(R1, 0, summary));
        p.add(ldxw(R1, R10, GATE));
        p.add(and(R1, 1 << 4));
        p.add(jeq(R1, 0, summary));
        p.add(mov(R1, R7));
        p.add(lsh(R1, 16));
        p.add(ldxw(R2, R10, WORD0));
        p.add(or(R1, R2));
        p.add(stx(Size.W, R10, KEY, R1));
        tableProbe(p, "single_" + k, tableBits, "single_rule_" + k, summary);
        p.add(label("single_rule_" + k));
        p.add(jump32(JumpOp.JEQ, R8, DispatchTables.NO_RULE, "restore_pf_" + k));
        p.add(ja("found"));
        p.add(label("restore_pf_" + k));
        p.add(ldxw(R8, R10, PF_SLOT));

        // the prefix's entry for port 0: its 'all' rule, and whether it has wide ranges
        p.add(label(summary));
        p.add(ldxw(R1, R10, FLAGS));
        p.add(and(R1, DispatchTables.FLAG_SUMMARIES));
        p.add(jeq(R1, 0, next));
        p.add(ldxw(R1, R10, WORD0));
        p.add(stx(Size.W, R10, KEY, R1));
        tableProbe(p, "prefix_" + k, tableBits, "prefix_rule_" + k, next);
        p.add(label("prefix_rule_" + k));
        p.add(jump32(JumpOp.JEQ, R8, DispatchTables.NO_RULE, "restore_pf2_" + k));
        p.add(stx(Size.W, R10, ALL_RULE, R8));
        p.add(stx(Size.W, R10, ALL_SLOT, R9));
        p.add(mov(R1, R9));
        p.add(and(R1, DispatchTables.HAS_RANGES));
        p.add(jeq(R1, 0, "all_" + k));
        // wide ranges: the summaries hash, by the same key
        p.addAll(hashLookup(SUMMARIES));
        p.add(jeq(R0, 0, "all_" + k));
        p.add(ldxw(R1, R10, GEN));
        p.add(jeq(R1, 0, "summary_half_" + k));
        p.add(add(R0, DispatchTables.SUMMARY_HALF));
        p.add(label("summary_half_" + k));
        p.add(ldxw(R4, R0, 8));                      // range count
        String rangesDone = "all_" + k;
        for (int j = 0; j < DispatchTables.MAX_RANGES_PER_ENTRY; j++) {
            String skip = "range_skip_" + k + "_" + j;
            int at = DispatchTables.SUMMARY_HEADER + j * DispatchTables.RANGE_RECORD;
            p.add(jle(R4, j, rangesDone));           // count <= j: no more ranges
            p.add(ldxh(R1, R0, at));
            p.add(jgt(R1, R7, skip));                // first > port
            p.add(ldxh(R1, R0, at + 2));
            p.add(jlt(R1, R7, skip));                // last < port
            p.add(ldxw(R8, R0, at + 4));
            p.add(ldxw(R9, R0, at + 8));
            p.add(ja("found"));
            p.add(label(skip));
        }
        p.add(label("all_" + k));
        p.add(ldxw(R8, R10, ALL_RULE));
        p.add(jump32(JumpOp.JEQ, R8, DispatchTables.NO_ALL, "restore_pf2_" + k));
        p.add(ldxw(R9, R10, ALL_SLOT));
        p.add(and(R9, ~DispatchTables.HAS_RANGES));
        p.add(ja("found"));
        p.add(label("restore_pf2_" + k));
        p.add(ldxw(R8, R10, PF_SLOT));
        p.add(label(next));
    }

    /**
     * Looks up the key at {@code R10 + KEY} in the singles table, then, if its bucket overflowed,
     * in the singles hash. Found: {@code R8} = rule, {@code R9} = slot of the generation in force
     * (rule {@link DispatchTables#NO_RULE}: absent in it), and a jump to {@code found}; else a
     * jump to {@code absent}. Clobbers R0–R5.
     */
    private static void tableProbe(List<Insn> p, String tag, int tableBits, String found, String absent) {
        // the bucket: ((a0 ^ a2) << 32 | (a1 ^ a3 ^ k0)) * multiplier, top bits
        p.add(ldxw(R1, R10, KEY));
        p.add(ldxw(R2, R10, KEY + 8));
        p.add(xor(R1, R2));
        p.add(ldxw(R2, R10, KEY + 16));
        p.add(xor(R1, R2));                          // a1 ^ a3 ^ k0 (zero-extended words)
        p.add(ldxw(R2, R10, KEY + 4));
        p.add(ldxw(R3, R10, KEY + 12));
        p.add(xor(R2, R3));
        p.add(lsh(R2, 32));
        p.add(or(R1, R2));
        p.add(ldImm64(R2, DispatchTables.HASH_MULTIPLIER));
        p.add(mul(R1, R2));
        p.add(rsh(R1, 64 - tableBits));
        p.add(stx(Size.W, R10, INDEX, R1));
        p.addAll(arrayLookup(TABLE, absent));
        for (int w = 0; w < DispatchTables.WAYS; w++) {
            String other = "way_next_" + tag + "_" + w;
            int at = DispatchTables.TABLE_HEADER + w * DispatchTables.WAY_SIZE;
            for (int word = 0; word < 5; word++) {
                p.add(ldxw(R1, R0, at + 4 * word));
                p.add(ldxw(R2, R10, KEY + 4 * word));
                p.add(jne(R1, R2, other));
            }
            p.add(ldxw(R1, R10, GEN));
            p.add(jne(R1, 0, "way_gen1_" + tag + "_" + w));
            p.add(ldxw(R8, R0, at + DispatchTables.KEY_SIZE));
            p.add(ldxw(R9, R0, at + DispatchTables.KEY_SIZE + 4));
            p.add(ja(found));
            p.add(label("way_gen1_" + tag + "_" + w));
            p.add(ldxw(R8, R0, at + DispatchTables.KEY_SIZE + DispatchTables.SINGLE_HALF));
            p.add(ldxw(R9, R0, at + DispatchTables.KEY_SIZE + DispatchTables.SINGLE_HALF + 4));
            p.add(ja(found));
            p.add(label(other));
        }
        // not in the bucket: in the singles hash only if the bucket overflowed
        p.add(ldxw(R1, R0, 0));
        p.add(jeq(R1, 0, absent));
        p.addAll(hashLookup(SINGLES));
        p.add(jeq(R0, 0, absent));
        p.add(ldxw(R1, R10, GEN));
        p.add(jeq(R1, 0, "hash_half_" + tag));
        p.add(add(R0, DispatchTables.SINGLE_HALF));
        p.add(label("hash_half_" + tag));
        p.add(ldxw(R8, R0, 0));
        p.add(ldxw(R9, R0, 4));
        p.add(ja(found));
    }

    /** {@code R0 = &map[*(u32 *)(R10 + INDEX)]}, or jump to {@code onNull}. Clobbers R1–R5. */
    private static List<Insn> arrayLookup(String map, String onNull) {
        return List.of(ldMap(R1, map), mov(R2, R10), add(R2, INDEX), call(Helper.MAP_LOOKUP_ELEM), jeq(R0, 0, onNull));
    }

    /** {@code R0 = map[key at R10 + KEY]} (may be NULL). Clobbers R1–R5. */
    private static List<Insn> hashLookup(String map) {
        return List.of(ldMap(R1, map), mov(R2, R10), add(R2, KEY), call(Helper.MAP_LOOKUP_ELEM));
    }

    /** {@code R7->counter += 1} (per-CPU memory: no atomics needed). */
    private static List<Insn> increment(int counter) {
        return List.of(ldxdw(R1, R7, counter), add(R1, 1), stx(Size.DW, R7, counter, R1));
    }
}
