package io.sksteer.bpf;

import io.sksteer.bpf.internal.Bpf;
import io.sksteer.bpf.internal.Fd;
import io.sksteer.bpf.internal.NativeBuffer;
import io.sksteer.bpf.internal.Os;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** A loaded, verified program: one kernel object, one file descriptor. */
public final class BpfProgram implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(BpfProgram.class.getName());
    private static final int FIRST_LOG_BYTES = 64 * 1024;
    private static final int MAX_LOG_BYTES = 64 * 1024 * 1024;
    private static final int INFO_BYTES = 232;

    private final ProgramSpec spec;
    private final Fd fd;
    private final int id;
    private final String tag;

    private BpfProgram(ProgramSpec spec, Fd fd) {
        this.spec = spec;
        this.fd = fd;
        ProgramInfo info = readInfo(fd, "read info of program '" + spec.name() + "'");
        this.id = info.id();
        this.tag = info.tag();
    }

    /**
     * Loads {@code spec}, binding each map it names to the map of that name in {@code maps}.
     *
     * @throws VerifierException when the verifier rejects the program (with its whole log and the
     *     program's listing; both are also logged at DEBUG by this class's logger)
     * @throws BpfException for any other refusal (EPERM names the capabilities)
     */
    public static BpfProgram load(ProgramSpec spec, Collection<? extends KernelMap> maps) {
        String operation = "load program '" + spec.name() + "'";
        byte[] code = relocate(spec, maps, operation);
        int type = spec.type().number();
        int attach = spec.expectedAttachType() == null ? 0 : spec.expectedAttachType().number();

        // First without a log: fast, and what succeeds almost always. On failure, load again with
        // a log (growing it while the kernel says ENOSPC) to explain the refusal.
        Bpf.LoadResult result = Bpf.progLoad(type, attach, code, spec.license(), spec.name(), 0, null);
        if (result.program() == null && result.errno() != Errno.EPERM.number()) {
            int size = FIRST_LOG_BYTES;
            while (true) {
                result = Bpf.progLoad(type, attach, code, spec.license(), spec.name(), 1, NativeBuffer.allocate(size));
                boolean logTooSmall = result.errno() == Errno.ENOSPC.number();
                if (!logTooSmall || size >= MAX_LOG_BYTES) {
                    break;
                }
                size = Math.min(MAX_LOG_BYTES, Math.max(size * 4, result.logTrueSize() + 1));
            }
        }
        if (result.program() == null) {
            if (!result.log().isBlank()) {
                // The message stays a summary; the whole log and the listing to read it against
                // are in the exception, and in the log for whoever turns this logger to DEBUG.
                VerifierException rejected = new VerifierException(operation, result.errno(), result.log(),
                        Disassembler.listing(spec));
                LOG.log(System.Logger.Level.DEBUG, () -> rejected.getMessage() + "\n"
                        + rejected.logWithListing());
                throw rejected;
            }
            throw new BpfException(operation, result.errno(), switch (Errno.nameOf(result.errno())) {
                case "EPERM" -> Capabilities.NEEDED + "; this process has " + Capabilities.current();
                case "EINVAL" -> spec.type().kernelName() + " with expected attach type "
                        + (spec.expectedAttachType() == null ? "none" : spec.expectedAttachType().kernelName())
                        + " is not supported by this kernel (sk_lookup needs Linux 5.9)";
                case "E2BIG" -> "program too large for this kernel";
                default -> null;
            });
        }
        try {
            return new BpfProgram(spec, result.program());
        } catch (RuntimeException e) {
            result.program().close();
            throw e;
        }
    }

    private static byte[] relocate(ProgramSpec spec, Collection<? extends KernelMap> maps, String operation) {
        Map<String, KernelMap> byName = new LinkedHashMap<>();
        for (KernelMap m : maps) {
            byName.put(m.name(), m);
        }
        ByteBuffer code = ByteBuffer.wrap(spec.bytecode().code()).order(ByteOrder.LITTLE_ENDIAN);
        for (Bytecode.MapReference ref : spec.bytecode().maps()) {
            KernelMap map = byName.get(ref.map());
            if (map == null) {
                throw BpfException.invalid(operation, "the program uses map '" + ref.map()
                        + "' but none of that name was given (given: " + byName.keySet() + ")");
            }
            code.putInt(ref.slot() * 8 + 4, map.fd().get());
        }
        return code.array();
    }

    public ProgramSpec spec() {
        return spec;
    }

    public String name() {
        return spec.name();
    }

    /** The kernel-wide program id. */
    public int id() {
        return id;
    }

    /** The program tag (hash of its instructions) in hex, as bpftool shows it. */
    public String tag() {
        return tag;
    }

    /** What the kernel reports about this program now. */
    public ProgramInfo info() {
        return readInfo(fd, "read info of program '" + spec.name() + "'");
    }

    /** Output of one {@code BPF_PROG_TEST_RUN}. */
    public record TestRunResult(int retval, int nsPerRun, byte[] contextOut) {
    }

    /**
     * Runs the program {@code repeat} times in the kernel on a context (no packet data), on the
     * real maps. See {@link io.sksteer.bpf.sklookup.SkLookupTestRun} for the sk_lookup form.
     */
    public TestRunResult testRun(byte[] context, int repeat) {
        Bpf.TestRun r = Bpf.progTestRun(fd, context, repeat, "test run of program '" + spec.name() + "'");
        return new TestRunResult(r.retval(), r.durationNs(), r.ctxOut());
    }

    /** For links: the descriptor to attach. */
    Fd fd() {
        return fd;
    }

    public boolean isOpen() {
        return fd.isOpen();
    }

    /**
     * Closes this process's descriptor. The kernel frees the program (and drops its references to
     * its maps) once no link or other descriptor holds it: an attached link keeps it running.
     * Idempotent.
     */
    @Override
    public void close() {
        fd.close();
    }

    @Override
    public String toString() {
        return "BpfProgram[" + spec.name() + ", id " + id + ", tag " + tag + "]";
    }

    /**
     * Returns once every BPF program run that began before the call has ended: programs run in
     * RCU read-side sections, and this waits for a grace period ({@code membarrier}). After it,
     * no run still holds values it read from maps before the call.
     */
    public static void awaitRunsInFlight() {
        Os.rcuBarrier();
    }

    // ---- other programs on the system --------------------------------------------------------

    /** Ids of every program loaded on the system (needs CAP_SYS_ADMIN on most kernels). */
    public static List<Integer> allIds() {
        List<Integer> ids = new ArrayList<>();
        for (int id = Bpf.progNextId(0); id != 0; id = Bpf.progNextId(id)) {
            ids.add(id);
        }
        return ids;
    }

    /**
     * What the kernel reports about program {@code id}, or empty if it no longer exists. Opening a
     * program by id needs CAP_SYS_ADMIN.
     */
    public static Optional<ProgramInfo> describe(int id) {
        try (Fd fd = Bpf.progFdById(id)) {
            return fd == null ? Optional.empty() : Optional.of(readInfo(fd, "read info of program id " + id));
        }
    }

    /**
     * The processes that hold a descriptor of program {@code id} or of a link running it, as
     * {@code /proc/PID/fdinfo} shows ({@code prog_id:}); where visible (other users' processes
     * need CAP_SYS_PTRACE or root), at most 100,000 descriptors read.
     */
    public static List<Long> holders(int id) {
        return io.sksteer.bpf.internal.Procs.withFdinfoLine("prog_id:\t" + id);
    }

    private static ProgramInfo readInfo(Fd fd, String operation) {
        int maxMaps = 64;
        NativeBuffer info = Bpf.progInfoWithMaps(fd, INFO_BYTES, maxMaps, operation);
        int mapCount = Math.min(info.getInt(52), maxMaps);
        List<Integer> mapIds = new ArrayList<>(mapCount);
        for (int i = 0; i < mapCount; i++) {
            mapIds.add(info.getInt(INFO_BYTES + 4L * i));
        }
        return new ProgramInfo(info.getInt(4), info.getInt(0), info.getCString(64, 16),
                HexFormat.of().formatHex(info.getBytes(8, 8)), info.getLong(200), info.getLong(192),
                info.getInt(216), mapIds);
    }
}
