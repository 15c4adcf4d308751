package io.sksteer.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;

import io.sksteer.bpf.BpfException;
import io.sksteer.bpf.Errno;
import io.sksteer.bpf.VerifierException;
import org.junit.jupiter.api.Test;
import org.springframework.boot.diagnostics.FailureAnalysis;

/**
 * The kernel-too-old report. A kernel without sk_lookup cannot be had on the machines this is
 * built on (Linux 6.18), so the exception is built as the feature probe raises it there: the
 * probe's program load refused with EINVAL, wrapped by {@code Feature.ensureAvailable}. The
 * privilege and bind reports are provoked for real by kernel tests.
 */
class BpfFailureAnalyzerTest {

    @Test
    void aKernelWithoutSkLookupIsReportedWithTheVersionNeeded() {
        BpfException load = new BpfException("load program 'sksteer_probe'", Errno.EINVAL.number(),
                "BPF_PROG_TYPE_SK_LOOKUP with expected attach type BPF_SK_LOOKUP is not supported by this kernel (sk_lookup needs Linux 5.9)");
        BpfException feature = new BpfException("sk_lookup programs", Errno.EINVAL.number(),
                "not available (needs Linux 5.9): " + load.getMessage(), load);
        FailureAnalysis a = new BpfFailureAnalyzer().analyze(new IllegalStateException("start failed", feature));
        assertThat(a.getDescription()).contains("This kernel lacks what sksteer needs").contains("sk_lookup programs");
        assertThat(a.getAction()).contains("Linux 5.9 or later");
    }

    @Test
    void aVerifierRejectionKeepsTheShortSummaryAndSaysWhereTheLogAndListingAre() {
        VerifierException rejected = new VerifierException("load program 'sksteer_steer'", Errno.EACCES.number(),
                "0: (b7) r0 = 2\n1: (95) exit\nAt program exit the register R0 has smin=2 smax=2 should have been in [0, 1]\n",
                "0: (b7) r0 = 2\n1: (95) exit");

        FailureAnalysis a = new BpfFailureAnalyzer().analyze(new IllegalStateException("start failed", rejected));

        assertThat(a.getDescription()).contains("verifier rejected").contains(rejected.getMessage())
                .doesNotContain("could not use BPF");
        assertThat(a.getAction()).contains("logging.level.io.sksteer.bpf.BpfProgram=DEBUG").contains("listing()")
                .doesNotContain("CAP_BPF");
    }
}
