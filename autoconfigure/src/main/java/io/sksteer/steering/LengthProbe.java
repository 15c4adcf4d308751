package io.sksteer.steering;

import static io.sksteer.bpf.Asm.add;
import static io.sksteer.bpf.Asm.and;
import static io.sksteer.bpf.Asm.ja;
import static io.sksteer.bpf.Asm.jeq;
import static io.sksteer.bpf.Asm.jgt;
import static io.sksteer.bpf.Asm.jle;
import static io.sksteer.bpf.Asm.jlt;
import static io.sksteer.bpf.Asm.jne;
import static io.sksteer.bpf.Asm.jump32;
import static io.sksteer.bpf.Asm.ldImm64;
import static io.sksteer.bpf.Asm.ldxdw;
import static io.sksteer.bpf.Asm.ldxh;
import static io.sksteer.bpf.Asm.ldxw;
import static io.sksteer.bpf.Asm.lsh;
import static io.sksteer.bpf.Asm.mov;
import static io.sksteer.bpf.Asm.mul;
import static io.sksteer.bpf.Asm.or;
import static io.sksteer.bpf.Asm.rsh;
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
import static io.sksteer.bpf.sklookup.SkLookup.localIp4;
import static io.sksteer.bpf.sklookup.SkLookup.localIp6;
import static io.sksteer.steering.DispatchLayout.*;
import static io.sksteer.steering.DispatcherProgram.LENGTHS;
import static io.sksteer.steering.DispatcherProgram.SINGLES;
import static io.sksteer.steering.DispatcherProgram.SUMMARIES;
import static io.sksteer.steering.DispatcherProgram.TABLE;
import static io.sksteer.steering.ProgramFrame.*;

import io.sksteer.bpf.JumpOp;
import io.sksteer.bpf.Size;
/**
 * One prefix length of the dispatcher program, unrolled {@link DispatchLayout#MAX_LENGTHS} times:
 * the destination masked to the length, then its single-port entry (table, then singles hash),
 * then its port-0 entry and wide ranges (summaries hash). A match jumps to {@link
 * ProgramFrame#FOUND}; the end of the length list to {@link ProgramFrame#PASS}.
 */
final class LengthProbe {

    private LengthProbe() {
    }

    /** One prefix length: the {@code k}-th of the generation's list for pf. */
    static void lengthSlot(Listing p, int k, int tableBits) {
        Label next = Label.of("next_length", k);
        Label summary = Label.of("summary", k);
        Label keyV6 = Label.of("key_v6", k);
        Label keyDone = Label.of("key_done", k);
        Label singleRule = Label.of("single_rule", k);
        Label restorePf = Label.of("restore_pf", k);
        Label prefixRule = Label.of("prefix_rule", k);
        Label restorePf2 = Label.of("restore_pf2", k);
        Label all = Label.of("all", k);
        Label summaryHalf = Label.of("summary_half", k);
        p.emit(ldxw(R1, R10, BASE),
                add(R1, k),
                stx(Size.W, R10, INDEX, R1));
        p.emit(arrayLookup(LENGTHS, PASS));
        p.emit(ldxw(R1, R0, LENGTH_PLUS_ONE),       // length + 1, or 0 at the end of the list
                jeq(R1, 0, PASS.name()),
                ldxw(R2, R0, LENGTH_CLASS),         // its class
                ldxdw(R3, R10, MASK),
                rsh(R3, R2),
                and(R3, 1),
                jeq(R3, 0, next.name()),            // no entry of this length for the address
                ldxw(R2, R0, LENGTH_FLAGS),
                stx(Size.W, R10, FLAGS, R2));
        // key word 0 without the port: pf | mark | length << 8
        p.emit(sub(R1, 1),
                lsh(R1, 8),
                or(R1, R8),
                or(R1, KEY_MARK),
                stx(Size.W, R10, WORD0, R1));
        // key address: the destination masked to this length
        p.emit(mov(R1, R8),
                and(R1, 1),
                jne(R1, 0, keyV6.name()),
                localIp4(R6, R1),
                ldxw(R2, R0, LENGTH_MASK),
                and(R1, R2),
                stx(Size.W, R10, KEY + 4, R1),
                ja(keyDone.name()));
        p.label(keyV6);
        for (int w = 0; w < 4; w++) {
            p.emit(localIp6(R6, w, R1),
                    ldxw(R2, R0, LENGTH_MASK + 4 * w),
                    and(R1, R2),
                    stx(Size.W, R10, KEY + 4 + 4 * w, R1));
        }
        p.label(keyDone);

        // single port: probed when the length has single-port entries and one has this port
        p.emit(ldxw(R1, R10, FLAGS),
                and(R1, FLAG_SINGLES),
                jeq(R1, 0, summary.name()),
                ldxw(R1, R10, GATE),
                and(R1, GATE_SINGLE_PORTS),
                jeq(R1, 0, summary.name()),
                mov(R1, R7),
                lsh(R1, 16),
                ldxw(R2, R10, WORD0),
                or(R1, R2),
                stx(Size.W, R10, KEY, R1));
        tableProbe(p, Label.of("single", k), tableBits, singleRule, summary);
        p.label(singleRule);
        p.emit(jump32(JumpOp.JEQ, R8, NO_RULE, restorePf.name()),
                ja(FOUND.name()));
        p.label(restorePf);
        p.emit(ldxw(R8, R10, PF_SLOT));

        // the prefix's entry for port 0: its 'all' rule, and whether it has wide ranges
        p.label(summary);
        p.emit(ldxw(R1, R10, FLAGS),
                and(R1, FLAG_SUMMARIES),
                jeq(R1, 0, next.name()),
                ldxw(R1, R10, WORD0),
                stx(Size.W, R10, KEY, R1));
        tableProbe(p, Label.of("prefix", k), tableBits, prefixRule, next);
        p.label(prefixRule);
        p.emit(jump32(JumpOp.JEQ, R8, NO_RULE, restorePf2.name()),
                stx(Size.W, R10, ALL_RULE, R8),
                stx(Size.W, R10, ALL_SLOT, R9),
                mov(R1, R9),
                and(R1, HAS_RANGES),
                jeq(R1, 0, all.name()));
        // wide ranges: the summaries hash, by the same key
        p.emit(hashLookup(SUMMARIES));
        halfInForce(p, all, summaryHalf, SUMMARY_HALF);
        p.emit(ldxw(R4, R0, SUMMARY_RANGE_COUNT));
        for (int j = 0; j < MAX_RANGES_PER_ENTRY; j++) {
            Label skip = Label.of("range_skip", k, j);
            int at = SUMMARY_HEADER + j * RANGE_RECORD;
            p.emit(jle(R4, j, all.name()),          // count <= j: no more ranges
                    ldxh(R1, R0, at + RANGE_FIRST),
                    jgt(R1, R7, skip.name()),       // first > port
                    ldxh(R1, R0, at + RANGE_LAST),
                    jlt(R1, R7, skip.name()),       // last < port
                    ldxw(R8, R0, at + RANGE_RULE),
                    ldxw(R9, R0, at + RANGE_SLOT),
                    ja(FOUND.name()));
            p.label(skip);
        }
        p.label(all);
        p.emit(ldxw(R8, R10, ALL_RULE),
                jump32(JumpOp.JEQ, R8, NO_ALL, restorePf2.name()),
                ldxw(R9, R10, ALL_SLOT),
                and(R9, ~HAS_RANGES),
                ja(FOUND.name()));
        p.label(restorePf2);
        p.emit(ldxw(R8, R10, PF_SLOT));
        p.label(next);
    }

    /**
     * Looks up the key at {@code R10 + KEY} in the singles table, then, if its bucket overflowed,
     * in the singles hash. Found: {@code R8} = rule, {@code R9} = slot of the generation in force
     * (rule {@link DispatchLayout#NO_RULE}: absent in it), and a jump to {@code found}; else a
     * jump to {@code absent}. Clobbers R0–R5.
     */
    private static void tableProbe(Listing p, Label probe, int tableBits, Label found, Label absent) {
        // the bucket: ((a0 ^ a2) << 32 | (a1 ^ a3 ^ k0)) * multiplier, top bits
        p.emit(ldxw(R1, R10, KEY),
                ldxw(R2, R10, KEY + 8),
                xor(R1, R2),
                ldxw(R2, R10, KEY + 16),
                xor(R1, R2),                        // a1 ^ a3 ^ k0 (zero-extended words)
                ldxw(R2, R10, KEY + 4),
                ldxw(R3, R10, KEY + 12),
                xor(R2, R3),
                lsh(R2, 32),
                or(R1, R2),
                ldImm64(R2, HASH_MULTIPLIER),
                mul(R1, R2),
                rsh(R1, 64 - tableBits),
                stx(Size.W, R10, INDEX, R1));
        p.emit(arrayLookup(TABLE, absent));
        for (int w = 0; w < WAYS; w++) {
            Label other = Label.of("way_next", probe, w);
            Label gen1 = Label.of("way_gen1", probe, w);
            int at = TABLE_HEADER + w * WAY_SIZE;
            for (int word = 0; word < KEY_SIZE / 4; word++) {
                p.emit(ldxw(R1, R0, at + 4 * word),
                        ldxw(R2, R10, KEY + 4 * word),
                        jne(R1, R2, other.name()));
            }
            p.emit(ldxw(R1, R10, GEN),
                    jne(R1, 0, gen1.name()),
                    ldxw(R8, R0, at + KEY_SIZE + HALF_RULE),
                    ldxw(R9, R0, at + KEY_SIZE + HALF_SLOT),
                    ja(found.name()));
            p.label(gen1);
            p.emit(ldxw(R8, R0, at + KEY_SIZE + SINGLE_HALF + HALF_RULE),
                    ldxw(R9, R0, at + KEY_SIZE + SINGLE_HALF + HALF_SLOT),
                    ja(found.name()));
            p.label(other);
        }
        // not in the bucket: in the singles hash only if the bucket overflowed
        Label hashHalf = Label.of("hash_half", probe);
        p.emit(ldxw(R1, R0, TABLE_OVERFLOW),
                jeq(R1, 0, absent.name()));
        p.emit(hashLookup(SINGLES));
        halfInForce(p, absent, hashHalf, SINGLE_HALF);
        p.emit(ldxw(R8, R0, HALF_RULE),
                ldxw(R9, R0, HALF_SLOT),
                ja(found.name()));
    }

    /**
     * {@code R0} (a hash value holding both generations, or NULL: a jump to {@code absent}) moved
     * to the half of the generation in force; {@code half} is placed after the move.
     */
    private static void halfInForce(Listing p, Label absent, Label half, int halfSize) {
        p.emit(jeq(R0, 0, absent.name()),
                ldxw(R1, R10, GEN),
                jeq(R1, 0, half.name()),
                add(R0, halfSize));
        p.label(half);
    }
}
