package io.sksteer.bpf.sklookup;

import io.sksteer.bpf.BpfProgram;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.OptionalLong;

/**
 * Runs an sk_lookup program in the kernel without sending a packet ({@code BPF_PROG_TEST_RUN},
 * Linux 5.13): the real program on the real maps, answering what a lookup would select.
 *
 * @param verdict what the program returned
 * @param cookie the selected socket's cookie, or 0 when none was selected
 * @param nsPerRun the kernel's mean time per run, in nanoseconds
 */
public record SkLookupTestRun(Verdict verdict, long cookie, int nsPerRun) {

    /**
     * Runs {@code program} {@code repeat} times on {@code context}.
     *
     * @throws io.sksteer.bpf.BpfException EOPNOTSUPP when the selected socket is in a reuseport
     *     group and F_NO_REUSEPORT was not used; EINVAL on kernels without sk_lookup test runs
     */
    public static SkLookupTestRun run(BpfProgram program, SkLookupContext context, int repeat) {
        if (repeat < 1) {
            throw new IllegalArgumentException("repeat must be at least 1, got " + repeat);
        }
        BpfProgram.TestRunResult r = program.testRun(context.encode(), repeat);
        long cookie = ByteBuffer.wrap(r.contextOut()).order(ByteOrder.nativeOrder()).getLong(SkLookup.SK);
        return new SkLookupTestRun(Verdict.of(r.retval()), cookie, r.nsPerRun());
    }

    /** The selected socket's cookie, if a socket was selected. */
    public OptionalLong selected() {
        return cookie == 0 ? OptionalLong.empty() : OptionalLong.of(cookie);
    }
}
