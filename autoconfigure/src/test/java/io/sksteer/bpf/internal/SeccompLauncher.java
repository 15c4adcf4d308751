package io.sksteer.bpf.internal;

import com.sun.jna.Library;
import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import java.util.Arrays;

/**
 * Runs a main class under a seccomp filter that makes one {@code bpf()} command fail with a
 * chosen errno, the answer of a kernel without the feature behind it: {@code BPF_PROG_LOAD} (5)
 * with EINVAL (22) as before Linux 5.9, which has no sk_lookup program type, or {@code
 * BPF_PROG_TEST_RUN} (10) with ENOTSUPP (524) as before 5.13, which cannot test-run sk_lookup
 * programs. Every other call reaches the real kernel. For tests of how sksteer reports an old
 * kernel, on a machine that has a new one.
 *
 * <p>Arguments: {@code command errno mainClass [args...]}.
 */
public final class SeccompLauncher {

    /** libc by interface mapping (JNA direct mapping has no way to pass a struct pointer here). */
    interface C extends Library {
        int prctl(int option, long a2, long a3, long a4, long a5);

        long syscall(long number, long a1, long a2, long a3);
    }

    private static final int PR_SET_NO_NEW_PRIVS = 38;
    private static final int SECCOMP_SET_MODE_FILTER = 1;
    private static final int SECCOMP_FILTER_FLAG_TSYNC = 1;
    private static final int RET_ALLOW = 0x7fff0000;
    private static final int RET_ERRNO = 0x00050000;

    private SeccompLauncher() {
    }

    public static void main(String[] args) throws Exception {
        install(Integer.parseInt(args[0]), Integer.parseInt(args[1]));
        Class.forName(args[2]).getMethod("main", String[].class).invoke(null, (Object) Arrays.copyOfRange(args, 3, args.length));
    }

    /**
     * From now on, in every thread of this process, {@code bpf(command, ...)} fails with
     * {@code errno}. There is no way back: only for a process of its own.
     */
    public static void install(int command, int errno) {
        boolean arm = System.getProperty("os.arch").equals("aarch64");
        int audit = arm ? 0xc00000b7 : 0xc000003e;
        int bpf = arm ? 280 : 321;
        int seccomp = arm ? 277 : 317;
        // classic BPF over struct seccomp_data {int nr; u32 arch; u64 ip; u64 args[6]}
        int[][] filter = {
            {0x20, 0, 0, 4},                     // A = arch
            {0x15, 0, 5, audit},                 // not this architecture: allow
            {0x20, 0, 0, 0},                     // A = syscall number
            {0x15, 0, 3, bpf},                   // not bpf(): allow
            {0x20, 0, 0, 16},                    // A = low word of args[0], the bpf command
            {0x15, 0, 1, command},               // another command: allow
            {0x06, 0, 0, RET_ERRNO | errno},
            {0x06, 0, 0, RET_ALLOW},
        };
        Memory code = new Memory(8L * filter.length);
        for (int i = 0; i < filter.length; i++) {
            code.setShort(8L * i, (short) filter[i][0]);
            code.setByte(8L * i + 2, (byte) filter[i][1]);
            code.setByte(8L * i + 3, (byte) filter[i][2]);
            code.setInt(8L * i + 4, filter[i][3]);
        }
        Memory program = new Memory(16);
        program.clear();
        program.setShort(0, (short) filter.length);
        program.setPointer(8, code);
        C c = Native.load("c", C.class);
        if (c.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
            throw new IllegalStateException("prctl(PR_SET_NO_NEW_PRIVS) failed: errno " + Native.getLastError());
        }
        long r = c.syscall(seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, Pointer.nativeValue(program));
        if (r != 0) {
            throw new IllegalStateException("seccomp(SECCOMP_SET_MODE_FILTER) returned " + r + ", errno " + Native.getLastError());
        }
        System.out.println("[sksteer test] seccomp: bpf command " + command + " fails with errno " + errno);
    }
}
