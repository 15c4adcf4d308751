package io.sksteer.bpf;

/**
 * A kernel call failed. The message names the operation, the errno and, where one is known, a hint
 * about what to change: {@code create map 'sockets': EPERM (needs CAP_BPF and CAP_NET_ADMIN)}.
 */
public class BpfException extends RuntimeException {

    private final String operation;
    private final int errno;
    private final String hint;

    /**
     * @param operation what was attempted, in words ({@code "load program 'dispatch'"})
     * @param errno the positive errno the kernel returned, or 0 when the failure is not an errno
     * @param hint what to check or change, or {@code null}
     */
    public BpfException(String operation, int errno, String hint) {
        this(operation, errno, hint, null);
    }

    public BpfException(String operation, int errno, String hint, Throwable cause) {
        super(format(operation, errno, hint), cause);
        this.operation = operation;
        this.errno = errno;
        this.hint = hint;
    }

    /** A failure detected before any kernel call (bad arguments, missing map), with no errno. */
    public static BpfException invalid(String operation, String problem) {
        return new BpfException(operation, 0, problem);
    }

    private static String format(String operation, int errno, String hint) {
        StringBuilder sb = new StringBuilder(operation).append(": ");
        if (errno != 0) {
            sb.append(Errno.nameOf(errno));
            if (hint != null && !hint.isEmpty()) {
                sb.append(" (").append(hint).append(')');
            }
        } else {
            sb.append(hint == null || hint.isEmpty() ? "failed" : hint);
        }
        return sb.toString();
    }

    /** What was attempted. */
    public String operation() {
        return operation;
    }

    /** The positive errno, or 0 when the failure was detected without a kernel call. */
    public int errno() {
        return errno;
    }

    /** The errno as an enum constant, or {@code null} if it is 0 or unknown to {@link Errno}. */
    public Errno errnoValue() {
        return errno == 0 ? null : Errno.of(errno);
    }

    /** The kernel name of the errno ({@code EPERM}), or {@code null} when there is no errno. */
    public String errnoName() {
        return errno == 0 ? null : Errno.nameOf(errno);
    }

    /** The hint shown in the message, or {@code null}. */
    public String hint() {
        return hint;
    }
}
