package io.sksteer.bpf.internal;

import com.sun.jna.LastErrorException;
import io.sksteer.bpf.BpfException;
import io.sksteer.bpf.Errno;

/** The non-bpf() system calls of the kernel layer: namespaces, socket options, barriers. */
public final class Os {

    /** {@code CLONE_NEWNET}: the network namespace type for setns and unshare. */
    public static final int CLONE_NEWNET = 0x40000000;

    private static final int O_RDONLY = 0;
    private static final int O_CLOEXEC = 0x80000;
    /** {@code NS_GET_NSTYPE = _IO(0xb7, 0x3)} (Linux 4.11). */
    private static final long NS_GET_NSTYPE = 0xb703;
    private static final int SOL_SOCKET = 1;
    private static final int SO_COOKIE = 57;
    private static final int SO_DOMAIN = 39;
    private static final int SO_PROTOCOL = 38;
    private static final int SOL_IPV6 = 41;
    private static final int IPV6_V6ONLY = 26;
    private static final int MEMBARRIER_CMD_GLOBAL = 1;
    private static final int F_DUPFD_CLOEXEC = 1030;
    private static final int SO_ACCEPTCONN = 30;
    private static final int SO_TYPE = 3;
    private static final int F_SETFD = 2;
    private static final int FD_CLOEXEC = 1;
    private static final int SOL_TCP = 6;
    private static final int TCP_INFO = 11;
    /** {@code struct tcp_info}: 8 bytes of u8 fields, then u32 rto, ato, snd_mss, rcv_mss, unacked. */
    private static final int TCPI_UNACKED_OFFSET = 24;
    private static final int TCP_INFO_BYTES = 104;
    /** {@code SIOCGSKNS}: a descriptor of the network namespace a socket lives in (Linux 4.9). */
    private static final long SIOCGSKNS = 0x894C;

    private Os() {
    }

    /** Opens a file read-only and close-on-exec. */
    public static Fd open(String path, String description) {
        try {
            return Fd.adopt(LibC.open(path, O_RDONLY | O_CLOEXEC), description);
        } catch (LastErrorException e) {
            throw new BpfException("open " + path, e.getErrorCode(), switch (errno(e)) {
                case ENOENT -> "no such file";
                case EACCES, EPERM -> "not permitted to open it";
                default -> null;
            });
        }
    }

    /** The namespace type ({@code CLONE_NEW*}) of a namespace file descriptor. */
    public static int namespaceType(Fd ns, String path) {
        try {
            return LibC.ioctl(ns.get(), NS_GET_NSTYPE, 0);
        } catch (LastErrorException e) {
            throw new BpfException("inspect namespace " + path, e.getErrorCode(),
                    e.getErrorCode() == Errno.ENOTTY.number() ? "not a namespace file" : null);
        }
    }

    /** Moves the calling thread into the network namespace {@code ns}. */
    public static void setns(Fd ns, String path) {
        try {
            LibC.setns(ns.get(), CLONE_NEWNET);
        } catch (LastErrorException e) {
            throw new BpfException("enter network namespace " + path, e.getErrorCode(),
                    e.getErrorCode() == Errno.EPERM.number() ? "needs CAP_SYS_ADMIN" : null);
        }
    }

    /** Moves the calling thread into a new, empty network namespace. */
    public static void unshareNetwork() {
        try {
            LibC.unshare(CLONE_NEWNET);
        } catch (LastErrorException e) {
            throw new BpfException("create network namespace", e.getErrorCode(),
                    e.getErrorCode() == Errno.EPERM.number() ? "needs CAP_SYS_ADMIN" : null);
        }
    }

    /**
     * Brings the loopback device of the calling thread's network namespace up
     * ({@code SIOCGIFFLAGS}/{@code SIOCSIFFLAGS} with {@code IFF_UP} on {@code lo}).
     */
    public static void loopbackUp() {
        final long siocgifflags = 0x8913;
        final long siocsifflags = 0x8914;
        final int iffUp = 0x1;
        int sock;
        try {
            sock = LibC.socket(2 /* AF_INET */, 2 /* SOCK_DGRAM */ | 0x80000 /* SOCK_CLOEXEC */, 0);
        } catch (LastErrorException e) {
            throw new BpfException("open a socket to configure lo", e.getErrorCode(), null);
        }
        try (Fd fd = Fd.adopt(sock, "socket for lo")) {
            // struct ifreq: char ifr_name[16], then a union whose first member is short ifr_flags.
            NativeBuffer ifreq = NativeBuffer.allocate(40).putBytes(0, new byte[] {'l', 'o'});
            LibC.ioctl(fd.get(), siocgifflags, ifreq.address());
            int flags = ifreq.getInt(16) & 0xffff;
            ifreq.putInt(16, flags | iffUp);
            LibC.ioctl(fd.get(), siocsifflags, ifreq.address());
        } catch (LastErrorException e) {
            throw new BpfException("bring lo up", e.getErrorCode(),
                    e.getErrorCode() == Errno.EPERM.number() ? "needs CAP_NET_ADMIN" : null);
        }
    }

    /** {@code SO_COOKIE}: the kernel's 64-bit identity of a socket, as a SOCKMAP lookup returns it. */
    public static long socketCookie(int socketFd) {
        return longSockopt(socketFd, SOL_SOCKET, SO_COOKIE, "read SO_COOKIE");
    }

    /** {@code SO_DOMAIN}: AF_INET (2) or AF_INET6 (10). */
    public static int socketDomain(int socketFd) {
        return (int) intSockopt(socketFd, SOL_SOCKET, SO_DOMAIN, "read SO_DOMAIN");
    }

    /** {@code SO_PROTOCOL}: IPPROTO_TCP (6) or IPPROTO_UDP (17). */
    public static int socketProtocol(int socketFd) {
        return (int) intSockopt(socketFd, SOL_SOCKET, SO_PROTOCOL, "read SO_PROTOCOL");
    }

    /** {@code IPV6_V6ONLY} of an AF_INET6 socket. */
    public static boolean v6Only(int socketFd) {
        return intSockopt(socketFd, SOL_IPV6, IPV6_V6ONLY, "read IPV6_V6ONLY") != 0;
    }

    /** {@code SO_TYPE}: SOCK_STREAM (1) or SOCK_DGRAM (2); fails with ENOTSOCK on a descriptor that is no socket. */
    public static int socketType(int socketFd) {
        return (int) intSockopt(socketFd, SOL_SOCKET, SO_TYPE, "read SO_TYPE");
    }

    /**
     * Marks a descriptor close-on-exec ({@code fcntl(F_SETFD, FD_CLOEXEC)}), as a process does
     * with the descriptors it inherited so that its own children do not inherit them in turn.
     */
    public static void setCloseOnExec(int fd) {
        try {
            LibC.syscall(Arch.require().fcntl, fd, F_SETFD, FD_CLOEXEC);
        } catch (LastErrorException e) {
            throw new BpfException("mark fd " + fd + " close-on-exec", e.getErrorCode(),
                    e.getErrorCode() == Errno.EBADF.number() ? "no such descriptor" : null);
        }
    }

    /** {@code SO_ACCEPTCONN}: whether the socket is listening. */
    public static boolean acceptsConnections(int socketFd) {
        return intSockopt(socketFd, SOL_SOCKET, SO_ACCEPTCONN, "read SO_ACCEPTCONN") != 0;
    }

    /** {@code getsockname}: the address the socket is bound to, or {@code null} if it is not an inet socket. */
    public static java.net.InetSocketAddress localAddress(int socketFd) {
        NativeBuffer name = NativeBuffer.allocate(128);
        NativeBuffer length = NativeBuffer.allocate(4).putInt(0, 128);
        try {
            LibC.getsockname(socketFd, name.address(), length.address());
        } catch (LastErrorException e) {
            throw new BpfException("getsockname of fd " + socketFd, e.getErrorCode(), null);
        }
        return RecvMsg.sockaddr(name, 0, Math.min(128, length.getInt(0)));
    }

    /**
     * The length of a listening TCP socket's accept queue: connections whose handshake is done and
     * that nobody has accepted yet. For a socket in LISTEN, the kernel reports it in
     * {@code tcp_info.tcpi_unacked} ({@code sk_ack_backlog}, see tcp_get_info in net/ipv4/tcp.c).
     */
    public static int acceptQueueLength(int socketFd) {
        NativeBuffer info = NativeBuffer.allocate(TCP_INFO_BYTES);
        NativeBuffer length = NativeBuffer.allocate(4).putInt(0, TCP_INFO_BYTES);
        try {
            LibC.getsockopt(socketFd, SOL_TCP, TCP_INFO, info.address(), length.address());
        } catch (LastErrorException e) {
            throw new BpfException("read TCP_INFO of fd " + socketFd, e.getErrorCode(), null);
        }
        return info.getInt(TCPI_UNACKED_OFFSET);
    }

    /** A descriptor of the network namespace the socket {@code socketFd} belongs to ({@code SIOCGSKNS}). */
    public static Fd socketNamespace(int socketFd) {
        try {
            return Fd.adopt(LibC.ioctl(socketFd, SIOCGSKNS, 0), "network namespace of socket fd " + socketFd);
        } catch (LastErrorException e) {
            throw new BpfException("find the network namespace of socket fd " + socketFd + " (SIOCGSKNS)", e.getErrorCode(),
                    e.getErrorCode() == Errno.EPERM.number() ? "needs CAP_NET_ADMIN in the socket's namespace" : null);
        }
    }

    /**
     * The descriptors of this process that are sockets, read from {@code /proc/self/fd} (the
     * kernel's list of this process's descriptors; the link of a socket reads {@code socket:[INODE]}).
     */
    public static java.util.List<Integer> socketDescriptors() {
        java.util.List<Integer> out = new java.util.ArrayList<>();
        Procs.fdLinks("self", Integer.MAX_VALUE).forEach((fd, target) -> {
            if (target.startsWith("socket:[")) {
                out.add(fd);
            }
        });
        return out;
    }

    private static final int RLIMIT_MEMLOCK = 8;
    private static final long RLIM_INFINITY = -1L;

    /**
     * Raises {@code RLIMIT_MEMLOCK} as far as this process may: to unlimited (needs
     * CAP_SYS_RESOURCE, which root has), else the soft limit to the hard one. Before Linux 5.11
     * every BPF map and program is charged against it, and the common defaults (64 KiB, 8 MiB)
     * refuse maps of any size with EPERM; since 5.11 the memory cgroup is charged instead and this
     * limit plays no part. Returns the limits before and after, or {@code null} when nothing changed.
     */
    public static long[] raiseMemlockLimit() {
        NativeBuffer limit = NativeBuffer.allocate(16);
        try {
            LibC.getrlimit(RLIMIT_MEMLOCK, limit.address());
        } catch (LastErrorException e) {
            return null;
        }
        long soft = limit.getLong(0);
        long hard = limit.getLong(8);
        if (soft == RLIM_INFINITY) {
            return null;
        }
        if (setMemlock(RLIM_INFINITY)) {
            return new long[] {soft, RLIM_INFINITY};
        }
        return hard != soft && setMemlock(hard) ? new long[] {soft, hard} : null;
    }

    /** Sets both limits of RLIMIT_MEMLOCK to {@code limit}; false where not permitted. */
    private static boolean setMemlock(long limit) {
        try {
            LibC.setrlimit(RLIMIT_MEMLOCK, NativeBuffer.allocate(16).putLong(0, limit).putLong(8, limit).address());
            return true;
        } catch (LastErrorException e) {
            return false;
        }
    }

    /** Sets an int-valued socket option. */
    public static void setIntSockopt(int socketFd, int level, int name, int value, String operation) {
        NativeBuffer v = NativeBuffer.allocate(4).putInt(0, value);
        try {
            LibC.setsockopt(socketFd, level, name, v.address(), 4);
        } catch (LastErrorException e) {
            throw new BpfException(operation + " on fd " + socketFd, e.getErrorCode(),
                    e.getErrorCode() == Errno.ENOPROTOOPT.number() ? "this socket or kernel does not know the option" : null);
        }
    }

    /**
     * A second descriptor for the same open socket ({@code fcntl(F_DUPFD_CLOEXEC)}), owned by the
     * returned {@link Fd}. The socket lives until every descriptor of it is closed. (fcntl is
     * variadic in libc, so it is called through {@code syscall}, like bpf.)
     */
    public static Fd duplicate(int fd, String description) {
        try {
            return Fd.adopt((int) LibC.syscall(Arch.require().fcntl, fd, F_DUPFD_CLOEXEC, 0), description);
        } catch (LastErrorException e) {
            throw new BpfException("duplicate fd " + fd + " (" + description + ")", e.getErrorCode(),
                    e.getErrorCode() == Errno.EMFILE.number() ? "too many open files" : null);
        }
    }

    private static long longSockopt(int fd, int level, int name, String operation) {
        NativeBuffer value = NativeBuffer.allocate(8);
        NativeBuffer length = NativeBuffer.allocate(4).putInt(0, 8);
        try {
            LibC.getsockopt(fd, level, name, value.address(), length.address());
            return value.getLong(0);
        } catch (LastErrorException e) {
            throw new BpfException(operation + " of fd " + fd, e.getErrorCode(),
                    e.getErrorCode() == Errno.ENOPROTOOPT.number() ? "needs Linux 4.19 or later" : null);
        }
    }

    private static long intSockopt(int fd, int level, int name, String operation) {
        NativeBuffer value = NativeBuffer.allocate(4);
        NativeBuffer length = NativeBuffer.allocate(4).putInt(0, 4);
        try {
            LibC.getsockopt(fd, level, name, value.address(), length.address());
            return value.getInt(0);
        } catch (LastErrorException e) {
            throw new BpfException(operation + " of fd " + fd, e.getErrorCode(), null);
        }
    }

    /**
     * Waits until every CPU has passed through an RCU grace period ({@code membarrier} with
     * {@code MEMBARRIER_CMD_GLOBAL} calls {@code synchronize_rcu()}). BPF programs run inside RCU
     * read-side sections, so when this returns no program run that started before it is still
     * using values it read from maps.
     */
    public static void rcuBarrier() {
        try {
            LibC.syscall(Arch.require().membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0);
        } catch (LastErrorException e) {
            throw new BpfException("membarrier(MEMBARRIER_CMD_GLOBAL)", e.getErrorCode(), null);
        }
    }

    private static Errno errno(LastErrorException e) {
        Errno errno = Errno.of(e.getErrorCode());
        return errno == null ? Errno.EIO : errno;
    }
}
