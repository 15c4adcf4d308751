package io.sksteer.bpf.internal;

import com.sun.jna.LastErrorException;
import io.sksteer.bpf.BpfException;
import io.sksteer.bpf.Errno;

/**
 * The {@code bpf()} system call: one method per command, each encoding its part of
 * {@code union bpf_attr} (offsets from {@code include/uapi/linux/bpf.h}) into a zeroed buffer.
 *
 * <p>Failures become {@link BpfException}s carrying the operation, the errno and a hint; expected
 * outcomes (a missing key, the end of an iteration) are return values instead.
 */
public final class Bpf {

    private Bpf() {
    }

    // ---- maps --------------------------------------------------------------------------------

    /** {@code BPF_MAP_CREATE}. The name is at most 15 ASCII characters. */
    public static Fd mapCreate(int type, int keySize, int valueSize, int maxEntries, int flags, String name,
            String operation) {
        NativeBuffer attr = attr(Command.BPF_MAP_CREATE)
                .putInt(0, type)
                .putInt(4, keySize)
                .putInt(8, valueSize)
                .putInt(12, maxEntries)
                .putInt(16, flags)
                .putBytes(28, objName(name));
        int fd;
        try {
            fd = (int) call(Command.BPF_MAP_CREATE, attr, operation);
        } catch (BpfException e) {
            if (e.errno() != Errno.EPERM.number() || !memlockRaised()) {
                throw e;
            }
            fd = (int) call(Command.BPF_MAP_CREATE, attr, operation);   // once more, with the higher limit
        }
        return Fd.adopt(fd, "bpf map '" + name + "'");
    }

    private static final System.Logger LOG = System.getLogger(Bpf.class.getName());

    /**
     * After an EPERM from map creation or program load: whether RLIMIT_MEMLOCK could be raised
     * (kernels before 5.11 charge BPF objects to it), so that one more try may succeed.
     */
    static synchronized boolean memlockRaised() {
        long[] change = Os.raiseMemlockLimit();
        if (change == null) {
            return false;
        }
        LOG.log(System.Logger.Level.INFO, "sksteer: raised RLIMIT_MEMLOCK from " + limit(change[0]) + " to " + limit(change[1])
                + " after EPERM and tried again: kernels before 5.11 charge BPF maps and programs to it");
        return true;
    }

    private static String limit(long bytes) {
        return bytes == -1L ? "unlimited" : bytes + " bytes";
    }

    /** {@code BPF_MAP_LOOKUP_ELEM}; fills {@code value} and returns true, or false on ENOENT. */
    public static boolean mapLookup(Fd map, NativeBuffer key, NativeBuffer value, String operation) {
        NativeBuffer attr = elemAttr(map, key, value, 0);
        return callOrAbsent(Command.BPF_MAP_LOOKUP_ELEM, attr, operation, Errno.ENOENT);
    }

    /** {@code BPF_MAP_UPDATE_ELEM} with {@code BPF_ANY}, {@code BPF_NOEXIST} or {@code BPF_EXIST}. */
    public static void mapUpdate(Fd map, NativeBuffer key, NativeBuffer value, long flags, String operation) {
        call(Command.BPF_MAP_UPDATE_ELEM, elemAttr(map, key, value, flags), operation);
    }

    /**
     * {@code BPF_MAP_UPDATE_BATCH} (Linux 5.6): {@code count} keys and values laid end to end.
     * Returns how many were written, or -1 when this kernel or map type has no batch updates.
     */
    public static int mapUpdateBatch(Fd map, NativeBuffer keys, NativeBuffer values, int count, long elemFlags,
            String operation) {
        NativeBuffer attr = attr(Command.BPF_MAP_UPDATE_BATCH)
                .putPointer(16, keys)
                .putPointer(24, values)
                .putInt(32, count)
                .putInt(36, map.get())
                .putLong(40, elemFlags);
        try {
            raw(Command.BPF_MAP_UPDATE_BATCH, attr);
            return attr.getInt(32);
        } catch (LastErrorException e) {
            int errno = e.getErrorCode();
            if (errno == Errno.EINVAL.number() || errno == Errno.ENOTSUPP.number() || errno == Errno.EOPNOTSUPP.number()) {
                if (attr.getInt(32) == 0) {
                    return -1;
                }
            }
            throw fail(operation, errno, Command.BPF_MAP_UPDATE_BATCH);
        }
    }

    /**
     * {@code BPF_MAP_DELETE_BATCH} (Linux 5.6): deletes {@code count} keys laid end to end.
     * Returns how many were deleted, or -1 when this kernel or map type has no batch deletes.
     * ENOENT for a missing key stops the batch: the count says how far it got.
     */
    public static int mapDeleteBatch(Fd map, NativeBuffer keys, int count, String operation) {
        NativeBuffer attr = attr(Command.BPF_MAP_DELETE_BATCH)
                .putPointer(16, keys)
                .putInt(32, count)
                .putInt(36, map.get());
        try {
            raw(Command.BPF_MAP_DELETE_BATCH, attr);
            return attr.getInt(32);
        } catch (LastErrorException e) {
            int errno = e.getErrorCode();
            if (errno == Errno.ENOENT.number()) {
                return attr.getInt(32);
            }
            if ((errno == Errno.EINVAL.number() || errno == Errno.ENOTSUPP.number() || errno == Errno.EOPNOTSUPP.number())
                    && attr.getInt(32) == 0) {
                return -1;
            }
            throw fail(operation, errno, Command.BPF_MAP_DELETE_BATCH);
        }
    }

    /** {@code BPF_MAP_DELETE_ELEM}; false when the key was absent (ENOENT). */
    public static boolean mapDelete(Fd map, NativeBuffer key, String operation) {
        return callOrAbsent(Command.BPF_MAP_DELETE_ELEM, elemAttr(map, key, null, 0), operation, Errno.ENOENT);
    }

    /**
     * {@code BPF_MAP_GET_NEXT_KEY}: the key after {@code key} ({@code null} for the first) into
     * {@code next}; false at the end.
     */
    public static boolean mapNextKey(Fd map, NativeBuffer key, NativeBuffer next, String operation) {
        return callOrAbsent(Command.BPF_MAP_GET_NEXT_KEY, elemAttr(map, key, next, 0), operation, Errno.ENOENT);
    }

    private static NativeBuffer elemAttr(Fd map, NativeBuffer key, NativeBuffer value, long flags) {
        return attr(Command.BPF_MAP_LOOKUP_ELEM)
                .putInt(0, map.get())
                .putPointer(8, key)
                .putPointer(16, value)
                .putLong(24, flags);
    }

    // ---- programs ----------------------------------------------------------------------------

    /** The result of {@code BPF_PROG_LOAD}: the program, or the errno and whatever log was written. */
    public record LoadResult(Fd program, int errno, String log, int logTrueSize) {
    }

    /**
     * {@code BPF_PROG_LOAD}. Does not throw on rejection: the caller decides whether to retry with a
     * (larger) log. {@code log} may be {@code null} for no log.
     */
    public static LoadResult progLoad(int type, int expectedAttachType, byte[] instructions, String license,
            String name, int logLevel, NativeBuffer log) {
        NativeBuffer insns = NativeBuffer.of(instructions);
        NativeBuffer lic = NativeBuffer.cString(license);
        NativeBuffer attr = attr(Command.BPF_PROG_LOAD)
                .putInt(0, type)
                .putInt(4, instructions.length / 8)
                .putPointer(8, insns)
                .putPointer(16, lic)
                .putBytes(48, objName(name))
                .putInt(68, expectedAttachType);
        if (log != null) {
            attr.putInt(24, logLevel).putInt(28, (int) log.size()).putPointer(32, log);
        }
        try {
            long fd;
            try {
                fd = LibC.syscall(Arch.require().bpf, Command.BPF_PROG_LOAD.number, attr.address(), Command.BPF_PROG_LOAD.attrSize);
            } catch (LastErrorException e) {
                if (e.getErrorCode() != Errno.EPERM.number() || !memlockRaised()) {
                    throw e;
                }
                fd = LibC.syscall(Arch.require().bpf, Command.BPF_PROG_LOAD.number, attr.address(), Command.BPF_PROG_LOAD.attrSize);
            }
            String text = log == null ? "" : log.getCString(0, (int) log.size());
            return new LoadResult(Fd.adopt((int) fd, "bpf program '" + name + "'"), 0, text, attr.getInt(140));
        } catch (LastErrorException e) {
            String text = log == null ? "" : log.getCString(0, (int) log.size());
            return new LoadResult(null, e.getErrorCode(), text, attr.getInt(140));
        }
    }

    /** Output of {@code BPF_PROG_TEST_RUN}. */
    public record TestRun(int retval, int durationNs, byte[] ctxOut) {
    }

    /** {@code BPF_PROG_TEST_RUN} with a context in and out, no packet data. */
    public static TestRun progTestRun(Fd program, byte[] ctxIn, int repeat, String operation) {
        NativeBuffer in = NativeBuffer.of(ctxIn);
        NativeBuffer out = NativeBuffer.allocate(ctxIn.length);
        NativeBuffer attr = attr(Command.BPF_PROG_TEST_RUN)
                .putInt(0, program.get())
                .putInt(32, repeat)
                .putInt(40, ctxIn.length)
                .putInt(44, ctxIn.length)
                .putPointer(48, in)
                .putPointer(56, out);
        call(Command.BPF_PROG_TEST_RUN, attr, operation);
        return new TestRun(attr.getInt(4), attr.getInt(36), out.getBytes(0, ctxIn.length));
    }

    // ---- objects and ids -----------------------------------------------------------------------

    /** {@code BPF_OBJ_GET_INFO_BY_FD} into a zeroed buffer of {@code size} bytes. */
    public static NativeBuffer objInfo(Fd object, int size, String operation) {
        NativeBuffer info = NativeBuffer.allocate(size);
        NativeBuffer attr = attr(Command.BPF_OBJ_GET_INFO_BY_FD)
                .putInt(0, object.get())
                .putInt(4, size)
                .putPointer(8, info);
        call(Command.BPF_OBJ_GET_INFO_BY_FD, attr, operation);
        return info;
    }

    /** Like {@link #objInfo} for a program, also fetching the ids of the maps it uses. */
    public static NativeBuffer progInfoWithMaps(Fd program, int size, int maxMaps, String operation) {
        NativeBuffer ids = NativeBuffer.allocate(4L * maxMaps);
        NativeBuffer info = NativeBuffer.allocate(size).putInt(52, maxMaps).putPointer(56, ids);
        NativeBuffer attr = attr(Command.BPF_OBJ_GET_INFO_BY_FD)
                .putInt(0, program.get())
                .putInt(4, size)
                .putPointer(8, info);
        call(Command.BPF_OBJ_GET_INFO_BY_FD, attr, operation);
        int count = Math.min(info.getInt(52), maxMaps);
        NativeBuffer copy = NativeBuffer.allocate(size + 4L * count);
        copy.putBytes(0, info.getBytes(0, size));
        copy.putBytes(size, ids.getBytes(0, 4 * count));
        return copy;
    }

    /** {@code BPF_PROG_GET_NEXT_ID}: the id after {@code startId}, or 0 at the end. */
    public static int progNextId(int startId) {
        return nextId(Command.BPF_PROG_GET_NEXT_ID, startId, "list programs");
    }

    /** {@code BPF_MAP_GET_NEXT_ID}: the id after {@code startId}, or 0 at the end. */
    public static int mapNextId(int startId) {
        return nextId(Command.BPF_MAP_GET_NEXT_ID, startId, "list maps");
    }

    private static int nextId(Command command, int startId, String operation) {
        NativeBuffer attr = attr(command).putInt(0, startId);
        if (!callOrAbsent(command, attr, operation, Errno.ENOENT)) {
            return 0;
        }
        return attr.getInt(4);
    }

    /** {@code BPF_PROG_GET_FD_BY_ID}, or {@code null} if no such program exists (any more). */
    public static Fd progFdById(int id) {
        return fdById(Command.BPF_PROG_GET_FD_BY_ID, id, "bpf program id " + id);
    }

    /** {@code BPF_MAP_GET_FD_BY_ID}, or {@code null} if no such map exists (any more). */
    public static Fd mapFdById(int id) {
        return fdById(Command.BPF_MAP_GET_FD_BY_ID, id, "bpf map id " + id);
    }

    private static Fd fdById(Command command, int id, String what) {
        NativeBuffer attr = attr(command).putInt(0, id);
        try {
            return Fd.adopt((int) raw(command, attr), what);
        } catch (LastErrorException e) {
            if (e.getErrorCode() == Errno.ENOENT.number()) {
                return null;
            }
            throw fail("open " + what, e.getErrorCode(), command);
        }
    }

    /** {@code BPF_PROG_QUERY}: ids of programs attached to {@code target} for {@code attachType}, in run order. */
    public static int[] progQuery(Fd target, int attachType, int maxPrograms, String operation) {
        NativeBuffer ids = NativeBuffer.allocate(4L * maxPrograms);
        NativeBuffer attr = attr(Command.BPF_PROG_QUERY)
                .putInt(0, target.get())
                .putInt(4, attachType)
                .putPointer(16, ids)
                .putInt(24, maxPrograms);
        call(Command.BPF_PROG_QUERY, attr, operation);
        int count = Math.min(attr.getInt(24), maxPrograms);
        int[] result = new int[count];
        for (int i = 0; i < count; i++) {
            result[i] = ids.getInt(4L * i);
        }
        return result;
    }

    // ---- links ---------------------------------------------------------------------------------

    /** {@code BPF_LINK_CREATE}. */
    public static Fd linkCreate(Fd program, Fd target, int attachType, String description, String operation) {
        NativeBuffer attr = attr(Command.BPF_LINK_CREATE)
                .putInt(0, program.get())
                .putInt(4, target.get())
                .putInt(8, attachType);
        return Fd.adopt((int) call(Command.BPF_LINK_CREATE, attr, operation), description);
    }

    /** {@code BPF_LINK_UPDATE}: swaps the link's program atomically. */
    public static void linkUpdate(Fd link, Fd newProgram, String operation) {
        NativeBuffer attr = attr(Command.BPF_LINK_UPDATE)
                .putInt(0, link.get())
                .putInt(4, newProgram.get());
        call(Command.BPF_LINK_UPDATE, attr, operation);
    }

    /** {@code BPF_LINK_DETACH}: detaches while the descriptor stays open. */
    public static void linkDetach(Fd link, String operation) {
        call(Command.BPF_LINK_DETACH, attr(Command.BPF_LINK_DETACH).putInt(0, link.get()), operation);
    }

    // ---- plumbing ------------------------------------------------------------------------------

    private static NativeBuffer attr(Command command) {
        return NativeBuffer.allocate(command.attrSize);
    }

    private static long raw(Command command, NativeBuffer attr) throws LastErrorException {
        return LibC.syscall(Arch.require().bpf, command.number, attr.address(), command.attrSize);
    }

    private static long call(Command command, NativeBuffer attr, String operation) {
        try {
            return raw(command, attr);
        } catch (LastErrorException e) {
            throw fail(operation, e.getErrorCode(), command);
        }
    }

    private static boolean callOrAbsent(Command command, NativeBuffer attr, String operation, Errno absent) {
        try {
            raw(command, attr);
            return true;
        } catch (LastErrorException e) {
            if (e.getErrorCode() == absent.number()) {
                return false;
            }
            throw fail(operation, e.getErrorCode(), command);
        }
    }

    static BpfException fail(String operation, int errno, Command command) {
        return new BpfException(operation, errno, Hints.forBpf(command, errno));
    }

    /** The 16-byte, NUL-padded {@code char[BPF_OBJ_NAME_LEN]} for a name of at most 15 characters. */
    static byte[] objName(String name) {
        byte[] out = new byte[16];
        byte[] chars = name.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        System.arraycopy(chars, 0, out, 0, Math.min(chars.length, 15));
        return out;
    }
}
