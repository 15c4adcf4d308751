package io.sksteer.bpf.internal;

import com.sun.jna.LastErrorException;
import io.sksteer.bpf.BpfException;
import io.sksteer.bpf.Errno;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;

/**
 * The kernel's inventory of inet sockets in the calling thread's network namespace, through
 * sock_diag ({@code NETLINK_SOCK_DIAG}, {@code SOCK_DIAG_BY_FAMILY} with an
 * {@code inet_diag_req_v2}; see include/uapi/linux/inet_diag.h). One dump per family and
 * protocol; the answer is read as it comes, at most {@link #MAX_SOCKETS} sockets.
 */
public final class SockDiag {

    /** More than this many sockets in one dump is refused rather than held in memory (a few hundred bytes each). */
    public static final int MAX_SOCKETS = 1 << 18;

    /** One socket as sock_diag reports it. */
    public record Entry(int family, int protocol, int state, InetSocketAddress local, InetSocketAddress remote, int uid,
            long inode, long cookie, Boolean v6Only) {
    }

    private static final int AF_NETLINK = 16;
    private static final int SOCK_DGRAM = 2;
    private static final int SOCK_CLOEXEC = 0x80000;
    private static final int NETLINK_SOCK_DIAG = 4;
    private static final int SOCK_DIAG_BY_FAMILY = 20;
    private static final int NLM_F_REQUEST = 1;
    private static final int NLM_F_DUMP = 0x300;
    private static final int NLMSG_ERROR = 2;
    private static final int NLMSG_DONE = 3;
    private static final int NLMSG_HDR = 16;
    private static final int REQ_V2 = 56;
    private static final int DIAG_MSG = 72;
    private static final int INET_DIAG_SKV6ONLY = 11;
    private static final int BUFFER = 64 * 1024;

    private SockDiag() {
    }

    /**
     * Every socket of {@code family} (AF_INET 2, AF_INET6 10) and {@code protocol} (6, 17) in
     * the states of {@code states} (a bit per TCP state: 1 << 10 for LISTEN, -1 for all).
     */
    public static List<Entry> dump(int family, int protocol, int states) {
        int fd;
        try {
            fd = LibC.socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
        } catch (LastErrorException e) {
            throw new BpfException("open a sock_diag netlink socket", e.getErrorCode(), null);
        }
        try (Fd socket = Fd.adopt(fd, "sock_diag netlink socket")) {
            NativeBuffer request = NativeBuffer.allocate(NLMSG_HDR + REQ_V2);
            request.putInt(0, NLMSG_HDR + REQ_V2);
            request.putInt(4, SOCK_DIAG_BY_FAMILY | (NLM_F_REQUEST | NLM_F_DUMP) << 16);   // u16 type, u16 flags
            request.putInt(8, 1);                                                             // seq
            request.putInt(NLMSG_HDR, family | protocol << 8);                                // family, protocol, ext 0, pad
            request.putInt(NLMSG_HDR + 4, states);
            try {
                LibC.send(socket.get(), request.address(), NLMSG_HDR + REQ_V2, 0);
            } catch (LastErrorException e) {
                throw new BpfException("send a sock_diag request", e.getErrorCode(), null);
            }
            List<Entry> out = new ArrayList<>();
            NativeBuffer buffer = NativeBuffer.allocate(BUFFER);
            while (true) {
                long n;
                try {
                    n = LibC.recv(socket.get(), buffer.address(), BUFFER, 0);
                } catch (LastErrorException e) {
                    throw new BpfException("read the sock_diag answer", e.getErrorCode(), null);
                }
                int offset = 0;
                while (offset + NLMSG_HDR <= n) {
                    int length = buffer.getInt(offset);
                    int type = buffer.getInt(offset + 4) & 0xffff;
                    if (length < NLMSG_HDR || offset + length > n) {
                        throw new BpfException("read the sock_diag answer", 0, "a malformed message of " + length + " bytes");
                    }
                    if (type == NLMSG_DONE) {
                        return out;
                    }
                    if (type == NLMSG_ERROR) {
                        int errno = -buffer.getInt(offset + NLMSG_HDR);
                        throw new BpfException("dump sockets (sock_diag)", errno,
                                errno == Errno.ENOENT.number() ? "this kernel has no sock_diag for this protocol (inet_diag/udp_diag modules)" : null);
                    }
                    if (type == SOCK_DIAG_BY_FAMILY && length >= NLMSG_HDR + DIAG_MSG) {
                        out.add(entry(buffer, offset + NLMSG_HDR, offset + length, protocol));
                        if (out.size() > MAX_SOCKETS) {
                            throw new BpfException("dump sockets (sock_diag)", 0, "more than " + MAX_SOCKETS + " sockets");
                        }
                    }
                    offset += (length + 3) & ~3;
                }
            }
        }
    }

    private static Entry entry(NativeBuffer b, int at, int end, int protocol) {
        int family = b.getInt(at) & 0xff;
        int state = b.getInt(at) >>> 8 & 0xff;
        byte[] id = b.getBytes(at + 4, 48);
        int sport = (id[0] & 0xff) << 8 | (id[1] & 0xff);
        int dport = (id[2] & 0xff) << 8 | (id[3] & 0xff);
        int addressBytes = family == 2 ? 4 : 16;
        InetSocketAddress local = new InetSocketAddress(address(id, 4, addressBytes), sport);
        InetSocketAddress remote = new InetSocketAddress(address(id, 20, addressBytes), dport);
        long cookie = Integer.toUnsignedLong(b.getInt(at + 44)) | Integer.toUnsignedLong(b.getInt(at + 48)) << 32;
        int uid = b.getInt(at + 64);
        long inode = Integer.toUnsignedLong(b.getInt(at + 68));
        Boolean v6Only = null;
        // Attributes follow the fixed part: struct rtattr { u16 len; u16 type; } then the value.
        int attr = at + DIAG_MSG;
        while (attr + 4 <= end) {
            int header = b.getInt(attr);
            int len = header & 0xffff;
            int type = header >>> 16;
            if (len < 4) {
                break;
            }
            if (type == INET_DIAG_SKV6ONLY && len >= 5) {
                v6Only = (b.getInt(attr + 4) & 0xff) != 0;
            }
            attr += (len + 3) & ~3;
        }
        return new Entry(family, protocol, state, local, remote, uid, inode, cookie, v6Only);
    }

    private static InetAddress address(byte[] id, int from, int length) {
        byte[] a = new byte[length];
        System.arraycopy(id, from, a, 0, length);
        try {
            return InetAddress.getByAddress(a);
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }
}
