package io.sksteer.bpf.internal;

import io.sksteer.bpf.Capabilities;
import io.sksteer.bpf.Errno;

/** What to tell a user about an errno, depending on the command that returned it. */
final class Hints {

    private Hints() {
    }

    static String forBpf(Command command, int errno) {
        Errno e = Errno.of(errno);
        if (e == null) {
            return null;
        }
        return switch (e) {
            case EPERM -> Capabilities.NEEDED + "; this process has " + Capabilities.current()
                    + (command == Command.BPF_MAP_CREATE || command == Command.BPF_PROG_LOAD
                            ? "; before Linux 5.11 also check RLIMIT_MEMLOCK" : "");
            case EACCES -> command == Command.BPF_PROG_LOAD ? "the verifier rejected the program"
                    : "permission denied; " + Capabilities.NEEDED;
            case E2BIG -> switch (command) {
                case BPF_PROG_LOAD -> "program too large, or this kernel does not know a bpf_attr field we set";
                case BPF_MAP_UPDATE_ELEM -> "the map is full (max_entries reached)";
                default -> "this kernel does not know a bpf_attr field we set (kernel too old?)";
            };
            case EINVAL -> switch (command) {
                case BPF_MAP_CREATE -> "map type, sizes or flags not supported by this kernel";
                case BPF_PROG_LOAD -> "program type or expected attach type not supported by this kernel";
                case BPF_LINK_CREATE -> "attach type not supported here: sk_lookup needs Linux 5.9 and a netns fd";
                case BPF_PROG_TEST_RUN -> "context rejected: unsupported field set, or test runs not supported";
                case BPF_MAP_UPDATE_ELEM -> "invalid flags, or a socket of a kind this map cannot hold";
                default -> "an attribute or flag is invalid or unsupported by this kernel";
            };
            case ENOSPC -> switch (command) {
                case BPF_PROG_LOAD -> "verifier log buffer too small";
                case BPF_MAP_UPDATE_ELEM -> "the map is full (max_entries reached)";
                default -> "value buffer too small for what the kernel returns";
            };
            case ENOMEM -> "out of kernel memory for BPF objects (or RLIMIT_MEMLOCK before Linux 5.11)";
            case EBADF -> "file descriptor not open or of the wrong kind";
            case EEXIST -> "the key already exists (BPF_NOEXIST)";
            case ENOENT -> command == Command.BPF_MAP_UPDATE_ELEM ? "the key does not exist (BPF_EXIST)" : "no such object";
            case EBUSY -> "the socket is already in use by another sockmap or ULP";
            case EOPNOTSUPP, ENOTSUPP -> command == Command.BPF_MAP_UPDATE_ELEM
                    ? "socket not usable in a SOCKMAP: TCP must be listening or established"
                    : command == Command.BPF_PROG_TEST_RUN
                            ? "test runs not supported for this program (Linux 5.13 for sk_lookup), or a reuseport socket was selected without BPF_SK_LOOKUP_F_NO_REUSEPORT"
                            : "operation not supported by this kernel";
            case ENOSYS -> "bpf() is not available in this kernel (CONFIG_BPF_SYSCALL)";
            case ERANGE -> "a value is out of range (e.g. local_port > 65535)";
            case EAFNOSUPPORT -> "address family not supported here";
            default -> null;
        };
    }
}
