package io.sksteer.bpf;

import java.util.Optional;

/**
 * Feature-probe answers of kernels older than the one the tests run on, for tests of what callers
 * say when a feature is missing. Only the probe's answer is replaced: never use one to test
 * steering, which is tested on the real kernel.
 */
public final class ProbeAnswers {

    private ProbeAnswers() {
    }

    /** {@code real}'s name and minimum kernel, with a probe that failed with {@code cause}. */
    public static Feature unavailable(Feature real, Throwable cause) {
        return new Feature(real.name(), real.minimumKernel(), () -> Optional.of(cause));
    }

    /**
     * What the {@link BpfFeatures#skLookupTestRun()} probe gets on Linux 5.9 to 5.12: sk_lookup
     * programs load but have no {@code test_run}, so {@code bpf_prog_test_run()} returns its
     * default {@code -ENOTSUPP} (sk_lookup test runs came with 5.13, commit 7c32e8f8bc33, later
     * backported to 5.10.135). No hint: what the caller adds is what tests check.
     */
    public static Feature skLookupTestRunBefore513() {
        return unavailable(BpfFeatures.skLookupTestRun(),
                new BpfException("test run of program 'sksteer_probe'", Errno.ENOTSUPP.number(), null));
    }
}
