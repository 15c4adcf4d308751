package io.sksteer.bpf;

import static io.sksteer.bpf.Asm.exit;
import static io.sksteer.bpf.Asm.ldxw;
import static io.sksteer.bpf.Asm.mov;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * What this kernel and these privileges allow, found by creating tiny maps and loading tiny
 * programs (never by parsing {@code uname}). Each answer is probed once and cached.
 */
public final class BpfFeatures {

    private static final Feature BPF_SYSCALL = new Feature("bpf() with this process's privileges", "4.4",
            attempt(() -> {
                try (BpfMap<Integer, Integer> m = BpfMap.create(MapSpec.of("sksteer_probe", MapType.ARRAY, 4, 4, 1),
                        Codec.u32(), Codec.u32())) {
                    m.lookup(0);
                }
            }));

    private static final Feature SK_LOOKUP = new Feature("sk_lookup programs", "5.9",
            requires(BPF_SYSCALL, () -> loadAndClose(List.of(mov(Reg.R0, 1), exit()))));

    private static final Feature SOCKMAP = new Feature("SOCKMAP maps", "4.14",
            requires(BPF_SYSCALL, () -> SocketMap.createSockMap(MapSpec.sockMap("sksteer_probe", 1)).close()));

    private static final Feature SK_LOOKUP_TEST_RUN = new Feature("BPF_PROG_TEST_RUN for sk_lookup", "5.13",
            requires(SK_LOOKUP, () -> {
                try (BpfProgram p = BpfProgram.load(ProgramSpec.skLookup("sksteer_probe", List.of(mov(Reg.R0, 1), exit())),
                        List.of())) {
                    // struct bpf_sk_lookup with family AF_INET and protocol TCP, everything else 0.
                    byte[] ctx = ByteBuffer.allocate(72).order(ByteOrder.nativeOrder())
                            .putInt(8, Sockets.AF_INET).putInt(12, Sockets.IPPROTO_TCP).array();
                    int verdict = p.testRun(ctx, 1).retval();
                    if (verdict != 1) {
                        throw new IllegalStateException("probe program returned " + verdict + " instead of SK_PASS");
                    }
                }
            }));

    private static final Feature INGRESS_IFINDEX = new Feature("sk_lookup ingress_ifindex context field", "5.17",
            requires(SK_LOOKUP, () -> loadAndClose(List.of(ldxw(Reg.R0, Reg.R1, 64), mov(Reg.R0, 1), exit()))));

    private BpfFeatures() {
    }

    /** Whether bpf() works for this process at all (privileges, {@code unprivileged_bpf_disabled}). */
    public static Feature bpfSyscall() {
        return BPF_SYSCALL;
    }

    /** {@code BPF_PROG_TYPE_SK_LOOKUP} programs can be loaded. */
    public static Feature skLookup() {
        return SK_LOOKUP;
    }

    /** SOCKMAPs can be created (needs CAP_NET_ADMIN). */
    public static Feature sockMap() {
        return SOCKMAP;
    }

    /** sk_lookup programs can be run with {@code BPF_PROG_TEST_RUN}. */
    public static Feature skLookupTestRun() {
        return SK_LOOKUP_TEST_RUN;
    }

    /** sk_lookup programs can read {@code ingress_ifindex}. */
    public static Feature ingressIfindex() {
        return INGRESS_IFINDEX;
    }

    /** All of them, for reports. */
    public static List<Feature> all() {
        return List.of(BPF_SYSCALL, SK_LOOKUP, SOCKMAP, SK_LOOKUP_TEST_RUN, INGRESS_IFINDEX);
    }

    private static void loadAndClose(List<Insn> insns) {
        BpfProgram.load(ProgramSpec.skLookup("sksteer_probe", insns), List.of()).close();
    }

    private interface Attempt {
        void run() throws Exception;
    }

    private static Supplier<Optional<Throwable>> attempt(Attempt attempt) {
        return () -> {
            try {
                attempt.run();
                return Optional.empty();
            } catch (Exception | LinkageError e) {
                // LinkageError: JNA or libc missing (not Linux, wrong architecture).
                return Optional.of(e);
            }
        };
    }

    private static Supplier<Optional<Throwable>> requires(Feature base, Attempt attempt) {
        Supplier<Optional<Throwable>> own = attempt(attempt);
        return () -> base.isAvailable() ? own.get() : Optional.of(base.unavailabilityCause());
    }
}
