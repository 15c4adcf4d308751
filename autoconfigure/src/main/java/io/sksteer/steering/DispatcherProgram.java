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
 * port. A matched rule counts in its per-CPU counters and assigns its listener's socket.
 */
public final class DispatcherProgram {

    public static final String NAME = "sksteer_steer";
    public static final String PORTS = "sks_ports";
    public static final String BUCKETS = "sks_buckets";
    public static final String STATE = "sks_state";
    public static final String LENGTHS = "sks_lengths";
    public static final String ENTRIES = "sks_entries";
    public static final String RANGES = "sks_ranges";
    public static final String SOCKETS = "sks_sockets";
    public static final String COUNTERS = "sks_counters";

    /** Counter offsets within a rule's per-CPU value. */
    public static final int LOOKUPS = 0;
    public static final int STEERED = 8;
    public static final int MISSING = 16;
    public static final int ERRORS = 24;

    // Stack layout (offsets from R10).
    private static final int MASK = -8;          // u64 bucket mask
    private static final int GEN = -12;          // u32 generation
    private static final int SINGLES = -16;      // u32: this port is named singly somewhere
    private static final int INDEX = -20;        // u32 key for ARRAY lookups
    private static final int KEY = -48;          // 24-byte entries key: word0, port, address[16]
    private static final int BASE = -56;         // u32 first lengths index of (generation, pf)
    private static final int ALL_RULE = -60;     // u32 the summary's 'all' rule
    private static final int ALL_SLOT = -64;     // u32 and its slot
    private static final int RANGE_FIRST = -68;  // u32
    private static final int RANGE_COUNT = -72;  // u32
    private static final int PF_SLOT = -84;      // u32

    private DispatcherProgram() {
    }

    /**
     * The program.
     *
     * @param dropOnMissing what a matched rule with no socket returns
     * @param testRunCounter where test runs count instead of the matched rule, or -1 to count
     *     them like traffic. A test run has {@code ingress_ifindex} 0, real traffic never has
     *     (loopback is 1); reading the field needs Linux 5.17.
     */
    public static ProgramSpec spec(boolean dropOnMissing, int testRunCounter) {
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
        p.add(mov(R2, R1));
        p.add(rsh(R2, R8));
        p.add(and(R2, 1));
        p.add(jeq(R2, 0, "pass"));
        p.add(rsh(R1, 4));                           // singly-named bit for pf
        p.add(rsh(R1, R8));
        p.add(and(R1, 1));
        p.add(stx(Size.W, R10, SINGLES, R1));

        // --- address bucket: which prefix-length classes may hold this address? ---
        p.add(mov(R1, R8));
        p.add(and(R1, 1));
        p.add(jne(R1, 0, "bucket_v6"));
        p.add(ldxh(R1, R6, LOCAL_IP4));
        p.add(ja("bucket_known"));
        p.add(label("bucket_v6"));
        p.add(ldxh(R1, R6, LOCAL_IP6));
        p.add(ldxh(R2, R6, LOCAL_IP6 + 2));
        p.add(xor(R1, R2));
        p.add(label("bucket_known"));
        p.add(mov(R2, R8));
        p.add(lsh(R2, 16));
        p.add(add(R1, R2));                          // pf * 65536 + bucket
        p.add(stx(Size.W, R10, INDEX, R1));
        p.addAll(arrayLookup(BUCKETS, "pass"));
        p.add(ldxdw(R1, R0, 0));
        p.add(jeq(R1, 0, "pass"));
        p.add(stx(Size.DW, R10, MASK, R1));

        // --- generation in force, and where its lengths for pf start ---
        p.add(st(Size.W, R10, INDEX, 0));
        p.addAll(arrayLookup(STATE, "pass"));
        p.add(ldxw(R1, R0, 0));
        p.add(and(R1, 1));
        p.add(stx(Size.W, R10, GEN, R1));
        p.add(lsh(R1, 2));
        p.add(add(R1, R8));
        p.add(mul(R1, DispatchTables.MAX_LENGTHS));  // (generation * 4 + pf) * MAX_LENGTHS
        p.add(stx(Size.W, R10, BASE, R1));

        // --- for each prefix length present, longest first ---
        // Unrolled at generation time: no loop for the verifier to bound, and every path is short
        // enough for programs loaded with CAP_BPF alone, where the verifier also walks speculative
        // branches. Every path reaches each slot with the same stack shape (scalars only), so
        // the verifier prunes instead of walking every combination.
        for (int off = KEY; off < KEY + DispatchTables.KEY_SIZE; off += 4) {
            p.add(st(Size.W, R10, off, 0));
        }
        for (int off : new int[] {ALL_RULE, ALL_SLOT, RANGE_FIRST, RANGE_COUNT}) {
            p.add(st(Size.W, R10, off, 0));
        }
        for (int k = 0; k < DispatchTables.MAX_LENGTHS; k++) {
            lengthSlot(p, k);
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
        p.addAll(SkLookup.skAssign(R6, R9, 0));
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
    private static void lengthSlot(List<Insn> p, int k) {
        String next = "next_length_" + k;
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
        p.add(jeq(R3, 0, next));                     // no entry of this length in the bucket
        // key word 0: generation | pf << 8 | length << 16 (kind 0: single port)
        p.add(sub(R1, 1));
        p.add(lsh(R1, 16));
        p.add(mov(R2, R8));
        p.add(lsh(R2, 8));
        p.add(or(R1, R2));
        p.add(ldxw(R2, R10, GEN));
        p.add(or(R1, R2));
        p.add(stx(Size.W, R10, KEY, R1));
        // key address: the destination masked to this length
        p.add(mov(R1, R8));
        p.add(and(R1, 1));
        p.add(jne(R1, 0, "key_v6_" + k));
        p.add(ldxw(R1, R6, LOCAL_IP4));
        p.add(ldxw(R2, R0, 8));
        p.add(and(R1, R2));
        p.add(stx(Size.W, R10, KEY + 8, R1));
        p.add(ja("key_done_" + k));
        p.add(label("key_v6_" + k));
        for (int w = 0; w < 4; w++) {
            p.add(ldxw(R1, R6, LOCAL_IP6 + 4 * w));
            p.add(ldxw(R2, R0, 8 + 4 * w));
            p.add(and(R1, R2));
            p.add(stx(Size.W, R10, KEY + 8 + 4 * w, R1));
        }
        p.add(label("key_done_" + k));

        // single port: only probed when some rule names this port singly
        p.add(ldxw(R1, R10, SINGLES));
        p.add(jeq(R1, 0, "summary_" + k));
        p.add(stx(Size.W, R10, KEY + 4, R7));
        p.addAll(hashLookup());
        p.add(jeq(R0, 0, "summary_" + k));
        p.add(ldxw(R8, R0, 0));                      // rule
        p.add(ldxw(R9, R0, 4));                      // slot
        p.add(ja("found"));

        // summary: the entry's ranges, then its 'all' rule
        p.add(label("summary_" + k));
        p.add(ldxw(R1, R10, KEY));
        p.add(or(R1, DispatchTables.KIND_SUMMARY << 24));
        p.add(stx(Size.W, R10, KEY, R1));
        p.add(st(Size.W, R10, KEY + 4, 0));
        p.addAll(hashLookup());
        p.add(jeq(R0, 0, next));
        p.add(ldxw(R1, R0, 0));
        p.add(stx(Size.W, R10, ALL_RULE, R1));
        p.add(ldxw(R1, R0, 4));
        p.add(stx(Size.W, R10, ALL_SLOT, R1));
        p.add(ldxw(R1, R0, 8));
        p.add(stx(Size.W, R10, RANGE_COUNT, R1));
        p.add(ldxw(R1, R0, 12));
        p.add(stx(Size.W, R10, RANGE_FIRST, R1));
        String rangesDone = "ranges_done_" + k;
        for (int j = 0; j < DispatchTables.MAX_RANGES_PER_ENTRY; j++) {
            String skip = "range_skip_" + k + "_" + j;
            p.add(ldxw(R1, R10, RANGE_COUNT));
            p.add(jle(R1, j, rangesDone));           // count <= j: no more ranges
            p.add(ldxw(R1, R10, RANGE_FIRST));
            p.add(add(R1, j));
            p.add(stx(Size.W, R10, INDEX, R1));
            p.addAll(arrayLookup(RANGES, rangesDone));
            p.add(ldxw(R1, R0, 0));
            p.add(jgt(R1, R7, skip));                // first > port
            p.add(ldxw(R1, R0, 4));
            p.add(jlt(R1, R7, skip));                // last < port
            p.add(ldxw(R8, R0, 8));
            p.add(ldxw(R9, R0, 12));
            p.add(ja("found"));
            p.add(label(skip));
        }
        p.add(label(rangesDone));
        p.add(ldxw(R1, R10, ALL_RULE));
        p.add(jump32(JumpOp.JEQ, R1, DispatchTables.NO_RULE, next));
        p.add(mov(R8, R1));
        p.add(ldxw(R9, R10, ALL_SLOT));
        p.add(ja("found"));
        p.add(label(next));
    }

    /** {@code R0 = &map[*(u32 *)(R10 + INDEX)]}, or jump to {@code onNull}. Clobbers R1–R5. */
    private static List<Insn> arrayLookup(String map, String onNull) {
        return List.of(ldMap(R1, map), mov(R2, R10), add(R2, INDEX), call(Helper.MAP_LOOKUP_ELEM), jeq(R0, 0, onNull));
    }

    /** {@code R0 = entries[key at R10 + KEY]} (may be NULL). Clobbers R1–R5. */
    private static List<Insn> hashLookup() {
        return List.of(ldMap(R1, ENTRIES), mov(R2, R10), add(R2, KEY), call(Helper.MAP_LOOKUP_ELEM));
    }

    /** {@code R7->counter += 1} (per-CPU memory: no atomics needed). */
    private static List<Insn> increment(int counter) {
        return List.of(ldxdw(R1, R7, counter), add(R1, 1), stx(Size.DW, R7, counter, R1));
    }
}
