package io.sksteer.bpf;

import java.util.HashMap;
import java.util.Map;

/**
 * The Linux errno values the kernel layer meets, with their kernel spelling.
 *
 * <p>Numbers are the generic Linux ones (x86_64 and aarch64 share them).
 */
public enum Errno {
    EPERM(1), ENOENT(2), ESRCH(3), EINTR(4), EIO(5), ENXIO(6), E2BIG(7), ENOEXEC(8), EBADF(9),
    ECHILD(10), EAGAIN(11), ENOMEM(12), EACCES(13), EFAULT(14), EBUSY(16), EEXIST(17), EXDEV(18),
    ENODEV(19), ENOTDIR(20), EISDIR(21), EINVAL(22), ENFILE(23), EMFILE(24), ENOTTY(25), EFBIG(27),
    ENOSPC(28), ESPIPE(29), EROFS(30), EMLINK(31), EPIPE(32), EDOM(33), ERANGE(34), EDEADLK(35),
    ENAMETOOLONG(36), ENOLCK(37), ENOSYS(38), ENOTEMPTY(39), ELOOP(40), ENOMSG(42), ENODATA(61), ENOLINK(67),
    EOVERFLOW(75), EBADFD(77), ENOTSOCK(88), EDESTADDRREQ(89), EMSGSIZE(90), EPROTOTYPE(91),
    ENOPROTOOPT(92), EPROTONOSUPPORT(93), ESOCKTNOSUPPORT(94), EOPNOTSUPP(95), EPFNOSUPPORT(96),
    EAFNOSUPPORT(97), EADDRINUSE(98), EADDRNOTAVAIL(99), ENETDOWN(100), ENETUNREACH(101),
    ECONNABORTED(103), ECONNRESET(104), ENOBUFS(105), EISCONN(106), ENOTCONN(107), ETIMEDOUT(110),
    ECONNREFUSED(111), EHOSTUNREACH(113), EALREADY(114), EINPROGRESS(115),
    /** Kernel-internal "not supported" that some bpf() paths leak to user space. */
    ENOTSUPP(524);

    private static final Map<Integer, Errno> BY_NUMBER = new HashMap<>();

    static {
        for (Errno e : values()) {
            BY_NUMBER.put(e.number, e);
        }
    }

    private final int number;

    Errno(int number) {
        this.number = number;
    }

    /** The positive errno number. */
    public int number() {
        return number;
    }

    /** The errno for {@code number} (sign ignored), or {@code null} when this table lacks it. */
    public static Errno of(int number) {
        return BY_NUMBER.get(Math.abs(number));
    }

    /** The kernel name of {@code number} (sign ignored), e.g. {@code EPERM}, or {@code errno N}. */
    public static String nameOf(int number) {
        Errno e = of(number);
        return e != null ? e.name() : "errno " + Math.abs(number);
    }
}
