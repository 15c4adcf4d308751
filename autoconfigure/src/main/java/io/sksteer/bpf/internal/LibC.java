package io.sksteer.bpf.internal;

import com.sun.jna.LastErrorException;
import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Platform;

/**
 * The few libc entry points the kernel layer calls, bound with JNA direct mapping (no varargs: the
 * glibc {@code syscall} wrapper only moves registers, so a fixed four-argument prototype is safe).
 */
final class LibC {

    static {
        Native.register(NativeLibrary.getInstance(Platform.C_LIBRARY_NAME));
    }

    private LibC() {
    }

    static native long syscall(long number, long a1, long a2, long a3) throws LastErrorException;

    static native int close(int fd) throws LastErrorException;

    /** {@code void *mmap(void *, size_t, int, int, int, off_t)}; MAP_FAILED (-1) sets errno. */
    static native long mmap(long address, long length, int prot, int flags, int fd, long offset) throws LastErrorException;

    static native int munmap(long address, long length) throws LastErrorException;

    static native int getpagesize();

    static native int open(String path, int flags) throws LastErrorException;

    static native int ioctl(int fd, long request, long arg) throws LastErrorException;

    static native int setns(int fd, int nstype) throws LastErrorException;

    static native int unshare(int flags) throws LastErrorException;

    static native int getsockopt(int fd, int level, int name, long value, long length) throws LastErrorException;

    static native int setsockopt(int fd, int level, int name, long value, int length) throws LastErrorException;

    static native int socket(int domain, int type, int protocol) throws LastErrorException;

    static native int bind(int fd, long address, int length) throws LastErrorException;

    static native int listen(int fd, int backlog) throws LastErrorException;

    static native int getsockname(int fd, long address, long length) throws LastErrorException;

    /** {@code int getrlimit(int, struct rlimit *)}. */
    static native int getrlimit(int resource, long rlimit) throws LastErrorException;

    /** {@code int setrlimit(int, const struct rlimit *)}. */
    static native int setrlimit(int resource, long rlimit) throws LastErrorException;

    /** {@code ssize_t send(int, const void *, size_t, int)}. */
    static native long send(int fd, long buffer, long length, int flags) throws LastErrorException;

    /** {@code ssize_t recv(int, void *, size_t, int)}. */
    static native long recv(int fd, long buffer, long length, int flags) throws LastErrorException;

    /** {@code ssize_t sendmsg(int, const struct msghdr *, int)}. */
    static native long sendmsg(int fd, long msghdr, int flags) throws LastErrorException;

    /** {@code ssize_t recvmsg(int, struct msghdr *, int)}: ssize_t is a long on LP64. */
    static native long recvmsg(int fd, long msghdr, int flags) throws LastErrorException;
}
