package io.sksteer.steering;

import static io.sksteer.bpf.Asm.add;
import static io.sksteer.bpf.Asm.and;
import static io.sksteer.bpf.Asm.call;
import static io.sksteer.bpf.Asm.ja;
import static io.sksteer.bpf.Asm.jeq;
import static io.sksteer.bpf.Asm.jne;
import static io.sksteer.bpf.Asm.ldImm64;
import static io.sksteer.bpf.Asm.ldMap;
import static io.sksteer.bpf.Asm.ldxdw;
import static io.sksteer.bpf.Asm.ldxw;
import static io.sksteer.bpf.Asm.lsh;
import static io.sksteer.bpf.Asm.mov;
import static io.sksteer.bpf.Asm.mul;
import static io.sksteer.bpf.Asm.or;
import static io.sksteer.bpf.Asm.rsh;
import static io.sksteer.bpf.Asm.st;
import static io.sksteer.bpf.Asm.stx;
import static io.sksteer.bpf.Reg.R0;
import static io.sksteer.bpf.Reg.R1;
import static io.sksteer.bpf.Reg.R10;
import static io.sksteer.bpf.Reg.R2;
import static io.sksteer.bpf.Reg.R6;
import static io.sksteer.bpf.Reg.R7;
import static io.sksteer.bpf.Reg.R8;
import static io.sksteer.bpf.Reg.R9;
import static io.sksteer.bpf.sklookup.SkLookup.family;
import static io.sksteer.bpf.sklookup.SkLookup.ingressIfindex;
import static io.sksteer.bpf.sklookup.SkLookup.localIp4;
import static io.sksteer.bpf.sklookup.SkLookup.localIp6;
import static io.sksteer.bpf.sklookup.SkLookup.localPort;
import static io.sksteer.bpf.sklookup.SkLookup.protocol;
import static io.sksteer.steering.DispatchLayout.*;
import static io.sksteer.steering.ProgramFrame.*;

import io.sksteer.bpf.Helper;
import io.sksteer.bpf.Insn;
import io.sksteer.bpf.ProgramSpec;
import io.sksteer.bpf.Size;
import io.sksteer.bpf.Sockets;
import io.sksteer.bpf.sklookup.SkLookup;
import io.sksteer.bpf.sklookup.SkLookupProgram;
import io.sksteer.bpf.sklookup.Verdict;
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
 *
 * <p>This class writes the steps before and after the prefix lengths; {@link LengthProbe} writes
 * one length, and {@link ProgramFrame} holds the stack frame and labels they share.
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
        Listing p = new Listing();

        // --- protocol and family → pf in R8 (tcp4 0, tcp6 1, udp4 2, udp6 3); others pass ---
        p.emit(protocol(R6, R7),
                mov(R8, 0),
                jeq(R7, Sockets.IPPROTO_TCP, PROTOCOL_KNOWN.name()),
                mov(R8, 2),
                jne(R7, Sockets.IPPROTO_UDP, PASS.name()));
        p.label(PROTOCOL_KNOWN);
        p.emit(family(R6, R7),
                jeq(R7, Sockets.AF_INET, FAMILY_KNOWN.name()),
                jne(R7, Sockets.AF_INET6, PASS.name()),
                add(R8, 1));
        p.label(FAMILY_KNOWN);
        // Round-trip pf through a 4-byte stack slot: the verifier then knows it only as a number,
        // and checks the rest once for all four values instead of once per value (half the work).
        p.emit(stx(Size.W, R10, PF_SLOT, R8),
                ldxw(R8, R10, PF_SLOT));

        // --- port gate: is this port covered for pf at all? ---
        p.emit(localPort(R6, R7),                   // R7 = local port, kept to the end
                stx(Size.W, R10, INDEX, R7));
        p.emit(arrayLookup(PORTS, PASS));
        p.emit(ldxw(R1, R0, 0),
                rsh(R1, R8),                        // the gate bits of pf (DispatchLayout.GATE_*)
                mov(R2, R1),
                and(R2, GATE_COVERED),
                jeq(R2, 0, PASS.name()),
                stx(Size.W, R10, GATE, R1));

        // --- address bucket: which length classes may hold this address? ---
        p.emit(mov(R1, R8),
                and(R1, 1),
                jne(R1, 0, BUCKET_V6.name()),
                localIp4(R6, R1),
                and(R1, DispatchTables.nativeMask24()),
                ja(BUCKET_KNOWN.name()));
        p.label(BUCKET_V6);
        p.emit(localIp6(R6, 0, R1),
                lsh(R1, 32),
                localIp6(R6, 1, R2),
                or(R1, R2));
        p.label(BUCKET_KNOWN);
        p.emit(ldImm64(R2, HASH_MULTIPLIER),
                mul(R1, R2),
                stx(Size.DW, R10, PRODUCT, R1),
                rsh(R1, 64 - bucketBits),           // first word: the top bits
                mov(R2, R8),
                lsh(R2, bucketBits),
                or(R1, R2),                         // pf << bits | hash
                stx(Size.W, R10, INDEX, R1));
        p.emit(arrayLookup(BUCKETS, PASS));
        p.emit(ldxdw(R1, R0, 0),
                stx(Size.DW, R10, MASK, R1),
                jeq(R1, 0, NO_BUCKET.name()),
                ldxdw(R1, R10, PRODUCT),            // second word: the bits below them
                rsh(R1, 64 - 2 * bucketBits),
                and(R1, (1 << bucketBits) - 1),
                mov(R2, R8),
                lsh(R2, bucketBits),
                or(R1, R2),
                stx(Size.W, R10, INDEX, R1));
        p.emit(arrayLookup(BUCKETS, PASS));
        p.emit(ldxdw(R1, R0, 0),
                ldxdw(R2, R10, MASK),
                and(R1, R2),                        // classes present in both words
                stx(Size.DW, R10, MASK, R1),
                jne(R1, 0, CANDIDATES.name()));
        p.label(NO_BUCKET);
        p.emit(ldxw(R1, R10, GATE),
                and(R1, GATE_GLOBAL_LENGTHS),
                jeq(R1, 0, PASS.name()));           // nothing in the bucket, no global length
        p.label(CANDIDATES);

        // --- generation in force, its global lengths, and where its lengths for pf start ---
        p.emit(st(Size.W, R10, INDEX, 0));
        p.emit(arrayLookup(STATE, PASS));
        p.emit(ldxw(R1, R0, 0),
                and(R1, 1),
                stx(Size.W, R10, GEN, R1),
                lsh(R1, 2),
                add(R1, R8),                        // generation * 4 + pf
                stx(Size.W, R10, INDEX, R1),
                mul(R1, MAX_LENGTHS),
                stx(Size.W, R10, BASE, R1),
                ldxw(R1, R10, GATE),
                and(R1, GATE_GLOBAL_LENGTHS),
                jeq(R1, 0, MASKED.name()));
        p.emit(arrayLookup(GLOBALS, PASS));
        p.emit(ldxdw(R1, R0, 0),
                ldxdw(R2, R10, MASK),
                or(R1, R2),
                stx(Size.DW, R10, MASK, R1));
        p.label(MASKED);

        // --- for each prefix length present, longest first ---
        // Unrolled at generation time: no loop for the verifier to bound, and every path is short
        // enough for programs loaded with CAP_BPF alone, where the verifier also walks speculative
        // branches. Every path reaches each slot with the same stack shape (scalars only), so
        // the verifier prunes instead of walking every combination.
        for (int off = KEY; off < KEY + KEY_SIZE; off += 4) {
            p.emit(st(Size.W, R10, off, 0));
        }
        for (int k = 0; k < MAX_LENGTHS; k++) {
            LengthProbe.lengthSlot(p, k, tableBits);
        }
        p.emit(ja(PASS.name()));

        // --- a rule matched: R8 = rule, R9 = listener slot ---
        p.label(FOUND);
        if (testRunCounter >= 0) {
            // Explaining a decision (PROG_TEST_RUN) must not move the rule's counters.
            p.emit(ingressIfindex(R6, R1),
                    jne(R1, 0, COUNT.name()),
                    mov(R8, testRunCounter));
            p.label(COUNT);
        }
        p.emit(stx(Size.W, R10, INDEX, R8));
        p.emit(arrayLookup(COUNTERS, PASS));        // an unknown rule id fails open
        p.emit(mov(R7, R0));                        // R7 = this rule's counters on this CPU
        p.emit(increment(LOOKUPS));
        p.emit(stx(Size.W, R10, INDEX, R9),
                ldMap(R1, SOCKETS),
                mov(R2, R10),
                add(R2, INDEX),
                call(Helper.MAP_LOOKUP_ELEM),       // a socket reference, or NULL
                jne(R0, 0, HAVE_SOCKET.name()));
        p.emit(increment(MISSING));
        p.emit(ja(POLICY.name()));
        p.label(HAVE_SOCKET);
        p.emit(mov(R9, R0));
        // F_REPLACE: a later sksteer instance of the same rules (a rolling restart) takes the
        // traffic from an earlier one as soon as it is attached; see docs/operations.md.
        p.emit(SkLookup.skAssign(R6, R9, SkLookup.F_REPLACE));
        p.emit(mov(R8, R0));
        p.emit(SkLookup.skRelease(R9));             // released whether the assign worked or not
        p.emit(jeq(R8, 0, STEERED_DONE.name()));
        p.emit(increment(ERRORS));
        p.emit(ja(POLICY.name()));
        p.label(STEERED_DONE);
        p.emit(increment(STEERED));
        p.emit(ja(PASS.name()));

        p.label(POLICY);
        p.emit(SkLookup.verdict(dropOnMissing ? Verdict.DROP : Verdict.PASS));
        p.label(PASS);
        return SkLookupProgram.builder(NAME).ctx(R6).body(p.insns).defaultAction(Verdict.PASS).build();
    }

    /** {@code R7->counter += 1} (per-CPU memory: no atomics needed). */
    private static List<Insn> increment(int counter) {
        return List.of(ldxdw(R1, R7, counter), add(R1, 1), stx(Size.DW, R7, counter, R1));
    }

    // The program's labels. Those of the unrolled slots name the place and the slot (and way or
    // range) it belongs to, e.g. way_next_single_3_1: slot 3's single-port probe, after way 1.
    private static final Label PROTOCOL_KNOWN = Label.of("protocol_known");
    private static final Label FAMILY_KNOWN = Label.of("family_known");
    private static final Label BUCKET_V6 = Label.of("bucket_v6");
    private static final Label BUCKET_KNOWN = Label.of("bucket_known");
    private static final Label NO_BUCKET = Label.of("no_bucket");
    private static final Label CANDIDATES = Label.of("candidates");
    private static final Label MASKED = Label.of("masked");
    private static final Label COUNT = Label.of("count");
    private static final Label HAVE_SOCKET = Label.of("have_socket");
    private static final Label STEERED_DONE = Label.of("steered");
    private static final Label POLICY = Label.of("policy");
}
