package io.sksteer.bpf.internal;

import com.sun.jna.LastErrorException;
import io.sksteer.bpf.BpfException;
import io.sksteer.bpf.Errno;
import java.nio.charset.StandardCharsets;

/**
 * The service manager's notification protocol ({@code sd_notify}): one datagram of
 * {@code KEY=VALUE} lines to the AF_UNIX socket named by {@code $NOTIFY_SOCKET}, with descriptors
 * attached as an {@code SCM_RIGHTS} control message when the message stores them.
 *
 * <p>Layouts (LP64): {@code struct sockaddr_un} is a 2-byte family and 108 bytes of path (a path
 * starting with {@code @} names an abstract socket: a leading NUL, no terminating one);
 * {@code struct msghdr} and {@code struct cmsghdr} as in {@link RecvMsg}.
 */
public final class Notify {

    private static final int AF_UNIX = 1;
    private static final int SOCK_DGRAM = 2;
    private static final int SOCK_CLOEXEC = 0x80000;
    private static final int SOL_SOCKET = 1;
    private static final int SCM_RIGHTS = 1;
    private static final int MSG_NOSIGNAL = 0x4000;
    private static final int SUN_PATH_BYTES = 108;
    /** {@code SCM_MAX_FD}: the most descriptors one message may carry. */
    public static final int MAX_FDS = 253;
    /** Notification messages are small; a longer one is a bug here, not something to send. */
    private static final int MAX_MESSAGE_BYTES = 4096;

    private Notify() {
    }

    /**
     * Sends {@code message} to the notification socket {@code socketPath}, with {@code fds}
     * attached (none if empty).
     *
     * @throws BpfException naming the socket when it cannot be reached
     */
    public static void send(String socketPath, String message, int... fds) {
        byte[] path = socketPath.getBytes(StandardCharsets.UTF_8);
        boolean abstractName = path.length > 0 && path[0] == '@';
        if (path.length == 0 || path.length >= SUN_PATH_BYTES || (path[0] != '/' && !abstractName)) {
            throw new IllegalArgumentException("NOTIFY_SOCKET must be an absolute path or an @abstract name under 108 bytes: '"
                    + socketPath + "'");
        }
        byte[] text = message.getBytes(StandardCharsets.UTF_8);
        if (text.length > MAX_MESSAGE_BYTES || fds.length > MAX_FDS) {
            throw new IllegalArgumentException("notification too large: " + text.length + " bytes, " + fds.length + " descriptors");
        }
        NativeBuffer address = NativeBuffer.allocate(2 + SUN_PATH_BYTES);
        address.putBytes(0, new byte[] {(byte) AF_UNIX, 0});
        address.putBytes(2, path);
        if (abstractName) {
            address.putBytes(2, new byte[] {0});
        }
        int addressLength = 2 + path.length + (abstractName ? 0 : 1);
        NativeBuffer data = NativeBuffer.allocate(text.length).putBytes(0, text);
        NativeBuffer iov = NativeBuffer.allocate(16);
        iov.putPointer(0, data);
        iov.putLong(8, text.length);
        NativeBuffer header = NativeBuffer.allocate(56);
        header.putPointer(0, address);
        header.putInt(8, addressLength);
        header.putPointer(16, iov);
        header.putLong(24, 1);
        if (fds.length > 0) {
            int dataBytes = 4 * fds.length;
            NativeBuffer control = NativeBuffer.allocate(16 + ((dataBytes + 7) & ~7));
            control.putLong(0, 16 + dataBytes);
            control.putInt(8, SOL_SOCKET);
            control.putInt(12, SCM_RIGHTS);
            for (int i = 0; i < fds.length; i++) {
                control.putInt(16 + 4 * i, fds[i]);
            }
            header.putPointer(32, control);
            header.putLong(40, control.size());
        }
        int sock;
        try {
            sock = LibC.socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        } catch (LastErrorException e) {
            throw new BpfException("open a socket to notify the service manager", e.getErrorCode(), null);
        }
        try (Fd fd = Fd.adopt(sock, "notification socket")) {
            LibC.sendmsg(fd.get(), header.address(), MSG_NOSIGNAL);
        } catch (LastErrorException e) {
            throw new BpfException("notify the service manager at " + socketPath, e.getErrorCode(), switch (Errno.of(e.getErrorCode()) == null
                    ? Errno.EIO : Errno.of(e.getErrorCode())) {
                case ENOENT, ECONNREFUSED -> "nothing listens there (NOTIFY_SOCKET is stale)";
                case EACCES, EPERM -> "not permitted to write to it";
                default -> null;
            });
        }
    }
}
