package io.sksteer.bpf.sklookup;

import static io.sksteer.bpf.Asm.call;
import static io.sksteer.bpf.Asm.exit;
import static io.sksteer.bpf.Asm.jeq;
import static io.sksteer.bpf.Asm.jne;
import static io.sksteer.bpf.Asm.label;
import static io.sksteer.bpf.Asm.ldMap;
import static io.sksteer.bpf.Asm.ldx;
import static io.sksteer.bpf.Asm.ldxdw;
import static io.sksteer.bpf.Asm.ldxh;
import static io.sksteer.bpf.Asm.ldxw;
import static io.sksteer.bpf.Asm.add;
import static io.sksteer.bpf.Asm.be16;
import static io.sksteer.bpf.Asm.mov;
import static io.sksteer.bpf.Asm.st;

import io.sksteer.bpf.Helper;
import io.sksteer.bpf.Insn;
import io.sksteer.bpf.Reg;
import io.sksteer.bpf.Size;
import java.util.ArrayList;
import java.util.List;

/**
 * The sk_lookup vocabulary: reading {@code struct bpf_sk_lookup}, calling sk_assign and
 * sk_release, and the usual patterns. Each method returns instructions to splice into a body.
 *
 * <p>Every context read is a load of the width the kernel allows for that field (8 bytes for
 * {@code sk}, 4 for the u32 fields; wider loads are rejected by the verifier).
 */
public final class SkLookup {

    /** Offset of {@code sk} (u64, a socket pointer for programs; the cookie in test-run output). */
    public static final int SK = 0;
    /** Offset of {@code family} (u32): AF_INET 2, AF_INET6 10. */
    public static final int FAMILY = 8;
    /** Offset of {@code protocol} (u32): TCP 6, UDP 17. */
    public static final int PROTOCOL = 12;
    /** Offset of {@code remote_ip4} (u32, network order). */
    public static final int REMOTE_IP4 = 16;
    /** Offset of {@code remote_ip6} (u32[4], network order). */
    public static final int REMOTE_IP6 = 20;
    /** Offset of {@code remote_port} (be16 plus 2 bytes of padding). */
    public static final int REMOTE_PORT = 36;
    /** Offset of {@code local_ip4} (u32, network order). */
    public static final int LOCAL_IP4 = 40;
    /** Offset of {@code local_ip6} (u32[4], network order). */
    public static final int LOCAL_IP6 = 44;
    /** Offset of {@code local_port} (u32, host order). */
    public static final int LOCAL_PORT = 60;
    /** Offset of {@code ingress_ifindex} (u32, Linux 5.17). */
    public static final int INGRESS_IFINDEX = 64;
    /** Size of {@code struct bpf_sk_lookup}. */
    public static final int CONTEXT_SIZE = 72;

    /** {@code BPF_SK_LOOKUP_F_REPLACE}: override a socket selected earlier (by this or another program). */
    public static final int F_REPLACE = 1;
    /** {@code BPF_SK_LOOKUP_F_NO_REUSEPORT}: take the socket as is, skipping reuseport group selection. */
    public static final int F_NO_REUSEPORT = 2;

    private SkLookup() {
    }

    // ---- context -----------------------------------------------------------------------------

    /** Saves the context (R1 at entry) in a callee-saved register so it survives helper calls. */
    public static List<Insn> prologue(Reg ctx) {
        requireCalleeSaved(ctx, "context");
        return List.of(mov(ctx, Reg.R1));
    }

    /** {@code dst = ctx->local_port}, host order. */
    public static Insn localPort(Reg ctx, Reg dst) {
        return ldxw(dst, ctx, LOCAL_PORT);
    }

    /** {@code dst = ctx->remote_port} converted to host order. */
    public static List<Insn> remotePort(Reg ctx, Reg dst) {
        return List.of(ldxh(dst, ctx, REMOTE_PORT), be16(dst));
    }

    /** {@code dst = ctx->remote_port} as stored: network order in the low 16 bits. */
    public static Insn remotePortNetworkOrder(Reg ctx, Reg dst) {
        return ldxh(dst, ctx, REMOTE_PORT);
    }

    /** {@code dst = ctx->protocol}. */
    public static Insn protocol(Reg ctx, Reg dst) {
        return ldxw(dst, ctx, PROTOCOL);
    }

    /** {@code dst = ctx->family}. */
    public static Insn family(Reg ctx, Reg dst) {
        return ldxw(dst, ctx, FAMILY);
    }

    /**
     * {@code dst = ctx->local_ip4}: the address bytes in network order, read as a host u32 (on
     * little-endian, 127.0.0.1 reads as {@code 0x0100007f}).
     */
    public static Insn localIp4(Reg ctx, Reg dst) {
        return ldxw(dst, ctx, LOCAL_IP4);
    }

    /** {@code dst = ctx->remote_ip4}, bytes in network order as {@link #localIp4}. */
    public static Insn remoteIp4(Reg ctx, Reg dst) {
        return ldxw(dst, ctx, REMOTE_IP4);
    }

    /** {@code dst = ctx->local_ip6[word]} (word 0–3), bytes in network order. */
    public static Insn localIp6(Reg ctx, int word, Reg dst) {
        return ldxw(dst, ctx, LOCAL_IP6 + 4 * checkWord(word));
    }

    /** {@code dst = ctx->remote_ip6[word]} (word 0–3), bytes in network order. */
    public static Insn remoteIp6(Reg ctx, int word, Reg dst) {
        return ldxw(dst, ctx, REMOTE_IP6 + 4 * checkWord(word));
    }

    /** {@code dst = ctx->ingress_ifindex} (Linux 5.17; loopback is 1). */
    public static Insn ingressIfindex(Reg ctx, Reg dst) {
        return ldxw(dst, ctx, INGRESS_IFINDEX);
    }

    /** {@code dst = ctx->sk}: the socket selected so far, or NULL (an 8-byte load, the only one allowed). */
    public static Insn sk(Reg ctx, Reg dst) {
        return ldxdw(dst, ctx, SK);
    }

    /** A load of {@code size} bytes from the context at {@code offset}, for fields not named above. */
    public static Insn field(Reg ctx, Size size, int offset, Reg dst) {
        return ldx(size, dst, ctx, offset);
    }

    private static int checkWord(int word) {
        if (word < 0 || word > 3) {
            throw new IllegalArgumentException("an IPv6 address has words 0 to 3, not " + word);
        }
        return word;
    }

    // ---- helpers -----------------------------------------------------------------------------

    /**
     * {@code R0 = bpf_sk_assign(ctx, sk, flags)}: selects {@code sk} (may be a register holding
     * NULL, which with {@link #F_REPLACE} clears a selection). R0 is 0 or a negative errno:
     * -EAFNOSUPPORT, -EPROTOTYPE, -ESOCKTNOSUPPORT, -EEXIST, -EINVAL.
     */
    public static List<Insn> skAssign(Reg ctx, Reg sk, int flags) {
        if ((flags & ~(F_REPLACE | F_NO_REUSEPORT)) != 0) {
            throw new IllegalArgumentException("sk_assign flags are F_REPLACE (1) and F_NO_REUSEPORT (2), not " + flags);
        }
        return List.of(mov(Reg.R1, ctx), mov(Reg.R2, sk), mov(Reg.R3, flags), call(Helper.SK_ASSIGN));
    }

    /** {@code bpf_sk_release(sk)}: drops the reference a SOCKMAP/SOCKHASH lookup took. */
    public static List<Insn> skRelease(Reg sk) {
        return List.of(mov(Reg.R1, sk), call(Helper.SK_RELEASE));
    }

    // ---- patterns ----------------------------------------------------------------------------

    /** Jumps to {@code target} when the local port equals {@code port}; {@code tmp} is overwritten. */
    public static List<Insn> checkPort(Reg ctx, Reg tmp, int port, String target) {
        return List.of(localPort(ctx, tmp), jeq(tmp, port, target));
    }

    /** Jumps to {@code target} when the protocol is {@code protocol}; {@code tmp} is overwritten. */
    public static List<Insn> checkProtocol(Reg ctx, Reg tmp, Protocol protocol, String target) {
        return List.of(protocol(ctx, tmp), jeq(tmp, protocol.number(), target));
    }

    /**
     * Looks up slot {@code slot} of the SOCKMAP named {@code map}; when a socket is there, assigns
     * it and, if that succeeds, returns SK_PASS. The socket reference is released on every path.
     *
     * <p>Otherwise control continues after the block with {@code result} = 0 when the slot was
     * empty, or the negative errno of the failed assign. {@code sk} and {@code result} must be
     * callee-saved and distinct from {@code ctx}; {@code name} makes the block's one label unique.
     * Uses 4 bytes of stack at {@code R10 - 4}.
     */
    public static List<Insn> assignAndPass(String name, Reg ctx, String map, int slot, int flags, Reg sk, Reg result) {
        requireCalleeSaved(ctx, "context");
        requireCalleeSaved(sk, "socket");
        requireCalleeSaved(result, "result");
        if (ctx == sk || ctx == result || sk == result) {
            throw new IllegalArgumentException("assignAndPass needs three distinct registers, got " + ctx + ", " + sk + ", " + result);
        }
        String end = name + ".end";
        List<Insn> out = new ArrayList<>();
        out.add(st(Size.W, Reg.R10, -4, slot));           // key on the stack: the map needs a pointer
        out.add(mov(Reg.R2, Reg.R10));
        out.add(add(Reg.R2, -4));
        out.add(ldMap(Reg.R1, map));
        out.add(call(Helper.MAP_LOOKUP_ELEM));            // R0 = referenced socket or NULL
        out.add(mov(result, 0));
        out.add(jeq(Reg.R0, 0, end));                     // empty slot: nothing to release
        out.add(mov(sk, Reg.R0));
        out.addAll(skAssign(ctx, sk, flags));
        out.add(mov(result, Reg.R0));
        out.addAll(skRelease(sk));                        // released whether assign worked or not
        out.add(jne(result, 0, end));
        out.addAll(pass());
        out.add(label(end));
        return out;
    }

    // ---- returns -----------------------------------------------------------------------------

    /** {@code return SK_PASS}. */
    public static List<Insn> pass() {
        return List.of(mov(Reg.R0, Verdict.PASS.code()), exit());
    }

    /** {@code return SK_DROP}. */
    public static List<Insn> drop() {
        return List.of(mov(Reg.R0, Verdict.DROP.code()), exit());
    }

    /** {@code return verdict}. */
    public static List<Insn> verdict(Verdict verdict) {
        return verdict == Verdict.PASS ? pass() : drop();
    }

    static void requireCalleeSaved(Reg reg, String role) {
        if (!reg.calleeSaved()) {
            throw new IllegalArgumentException("the " + role + " register must be one of R6-R9 (kept across calls), not " + reg);
        }
    }
}
