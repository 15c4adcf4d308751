package io.sksteer.bpf.internal;

import com.sun.jna.LastErrorException;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import io.sksteer.bpf.BpfException;
import io.sksteer.bpf.Errno;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;

/**
 * {@code recvmsg(2)} on a UDP socket with room for the sender's address and the original
 * destination control message ({@code IP_ORIGDSTADDR} or {@code IPV6_ORIGDSTADDR}). The native
 * structures are allocated once and reused, so one instance serves one thread.
 *
 * <p>Layouts are the LP64 ones of x86_64 and aarch64: {@code struct msghdr} is 56 bytes (name 0,
 * namelen 8, iov 16, iovlen 24, control 32, controllen 40, flags 48), {@code struct iovec} 16,
 * {@code struct cmsghdr} 16 (len as size_t, level, type) with data 8-byte aligned after it.
 */
public final class RecvMsg {

    private static final int MSG_DONTWAIT = 0x40;
    private static final int MSG_TRUNC = 0x20;
    private static final int SOL_IP = 0;
    private static final int IP_ORIGDSTADDR = 20;
    private static final int SOL_IPV6 = 41;
    private static final int IPV6_ORIGDSTADDR = 74;
    private static final int AF_INET = 2;
    private static final int AF_INET6 = 10;

    private static final int NAME_BYTES = 128;       // struct sockaddr_storage
    private static final int CMSG_HEADER_BYTES = 16;
    // Room for two control messages carrying a sockaddr_in6 (28 bytes, 32 aligned): only one is
    // expected, the rest is slack for whatever else a caller turned on.
    private static final int CONTROL_BYTES = 2 * (CMSG_HEADER_BYTES + 32);

    private final NativeBuffer header = NativeBuffer.allocate(56);
    private final NativeBuffer iov = NativeBuffer.allocate(16);
    private final NativeBuffer name = NativeBuffer.allocate(NAME_BYTES);
    private final NativeBuffer control = NativeBuffer.allocate(CONTROL_BYTES);
    private NativeBuffer scratch;

    private int flags;
    private int controlLength;

    public RecvMsg() {
        header.putPointer(0, name);
        header.putPointer(16, iov);
        header.putLong(24, 1);
        header.putPointer(32, control);
    }

    /**
     * Receives one datagram without blocking into {@code into}'s remaining space, advancing its
     * position. A direct buffer is filled in place; a heap buffer through a native scratch copy.
     *
     * @return the number of bytes stored, or -1 when no datagram is waiting (EAGAIN)
     */
    public int receive(Fd fd, ByteBuffer into) {
        int room = into.remaining();
        long base;
        if (into.isDirect()) {
            // The pointer is that of element 0 of this buffer (a slice's own start), not of its position.
            base = Pointer.nativeValue(Native.getDirectBufferPointer(into)) + into.position();
        } else {
            if (scratch == null || scratch.size() < room) {
                scratch = NativeBuffer.allocate(Math.max(room, 2048));
            }
            base = scratch.address();
        }
        iov.putLong(0, base).putLong(8, room);
        header.putInt(8, NAME_BYTES);           // value-result: reset before every call
        header.putLong(40, CONTROL_BYTES);
        header.putInt(48, 0);
        long n;
        while (true) {
            try {
                n = LibC.recvmsg(fd.get(), header.address(), MSG_DONTWAIT);
                break;
            } catch (LastErrorException e) {
                if (e.getErrorCode() == Errno.EINTR.number()) {
                    continue;
                }
                if (e.getErrorCode() == Errno.EAGAIN.number()) {
                    return -1;
                }
                throw new BpfException("recvmsg on " + fd.description(), e.getErrorCode(), null);
            }
        }
        // Without MSG_TRUNC in the call's flags the kernel returns the bytes copied, never more than room.
        int length = (int) n;
        if (!into.isDirect()) {
            scratch.read(0, into.array(), into.arrayOffset() + into.position(), length);
        }
        into.position(into.position() + length);
        flags = header.getInt(48);
        controlLength = (int) header.getLong(40);
        return length;
    }

    /** Whether the last datagram was longer than the space given and was cut ({@code MSG_TRUNC}). */
    public boolean truncated() {
        return (flags & MSG_TRUNC) != 0;
    }

    /** The sender of the last datagram; IPv4-mapped IPv6 addresses come back as plain IPv4. */
    public InetSocketAddress sender() {
        return sockaddr(name, 0, NAME_BYTES);
    }

    /**
     * Where the last datagram was sent, from its {@code IP_ORIGDSTADDR} or {@code IPV6_ORIGDSTADDR}
     * control message, or {@code null} when it carried none.
     */
    public InetSocketAddress originalDestination() {
        int offset = 0;
        while (offset + CMSG_HEADER_BYTES <= controlLength) {
            long len = control.getLong(offset);
            if (len < CMSG_HEADER_BYTES || offset + len > controlLength) {
                return null;
            }
            int level = control.getInt(offset + 8);
            int type = control.getInt(offset + 12);
            if ((level == SOL_IP && type == IP_ORIGDSTADDR) || (level == SOL_IPV6 && type == IPV6_ORIGDSTADDR)) {
                return sockaddr(control, offset + CMSG_HEADER_BYTES, (int) len - CMSG_HEADER_BYTES);
            }
            offset += (int) ((len + 7) & ~7L);   // CMSG_NXTHDR: data is padded to 8 bytes
        }
        return null;
    }

    /** A {@code sockaddr_in} or {@code sockaddr_in6} at {@code offset}; {@code null} for another family. */
    static InetSocketAddress sockaddr(NativeBuffer buffer, int offset, int available) {
        byte[] b = buffer.getBytes(offset, Math.min(available, 28));
        int family = (b[0] & 0xff) | (b[1] & 0xff) << 8;           // sa_family_t, host order
        int port = (b[2] & 0xff) << 8 | (b[3] & 0xff);              // network order
        try {
            if (family == AF_INET && b.length >= 8) {
                return new InetSocketAddress(InetAddress.getByAddress(slice(b, 4, 4)), port);
            }
            if (family == AF_INET6 && b.length >= 28) {
                byte[] address = slice(b, 8, 16);
                int scope = (b[24] & 0xff) | (b[25] & 0xff) << 8 | (b[26] & 0xff) << 16 | (b[27] & 0xff) << 24;
                // getByAddress turns ::ffff:a.b.c.d into an Inet4Address; only a scoped address
                // (link-local) needs the Inet6Address form to keep its scope.
                InetAddress a = scope != 0 ? Inet6Address.getByAddress(null, address, scope) : InetAddress.getByAddress(address);
                return new InetSocketAddress(a, port);
            }
        } catch (UnknownHostException e) {
            throw new IllegalStateException("kernel returned a malformed address", e);
        }
        return null;
    }

    private static byte[] slice(byte[] b, int from, int length) {
        byte[] out = new byte[length];
        System.arraycopy(b, from, out, 0, length);
        return out;
    }
}
