package io.sksteer.bpf;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

class ErrnoAndExceptionTest {

    private static final String VERIFIER_LOG = String.join("\n",
            "func#0 @0",
            "0: R1=ctx() R10=fp0",
            "0: (bf) r6 = r1",
            "1: (61) r7 = *(u32 *)(r6 +60)",
            "",
            "2: (79) r0 = *(u64 *)(r6 +4)",
            "invalid bpf_context access off=4 size=8",
            "processed 3 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0",
            "",
            "");

    // ---- Errno -------------------------------------------------------------------------------

    @Test
    void namesErrnoOneEperm() {
        assertThat(Errno.nameOf(1)).isEqualTo("EPERM");
    }

    @Test
    void namesNegativeErrnoByItsAbsoluteValue() {
        assertThat(Errno.nameOf(-97)).isEqualTo("EAFNOSUPPORT");
    }

    @Test
    void namesUnknownErrnoByNumber() {
        assertThat(Errno.nameOf(9999)).isEqualTo("errno 9999");
    }

    @Test
    void namesUnknownNegativeErrnoByPositiveNumber() {
        assertThat(Errno.nameOf(-9999)).isEqualTo("errno 9999");
    }

    @Test
    void looksUpErrnoConstantsBySignedNumber() {
        assertThat(Errno.of(22)).isEqualTo(Errno.EINVAL);
        assertThat(Errno.of(-13)).isEqualTo(Errno.EACCES);
        assertThat(Errno.of(524)).isEqualTo(Errno.ENOTSUPP);
        assertThat(Errno.of(9999)).isNull();
    }

    @Test
    void usesTheLinuxNumbersOfTheErrnosSkLookupReturns() {
        assertThat(Errno.EEXIST.number()).isEqualTo(17);
        assertThat(Errno.EINVAL.number()).isEqualTo(22);
        assertThat(Errno.EPROTOTYPE.number()).isEqualTo(91);
        assertThat(Errno.ESOCKTNOSUPPORT.number()).isEqualTo(94);
        assertThat(Errno.EAFNOSUPPORT.number()).isEqualTo(97);
    }

    @Test
    void givesEveryErrnoADistinctNumber() {
        assertThat(Arrays.stream(Errno.values()).map(Errno::number)).doesNotHaveDuplicates();
    }

    // ---- BpfException ------------------------------------------------------------------------

    @Test
    void formatsMessageAsOperationErrnoNameAndHint() {
        BpfException e = new BpfException("load program 'dispatch'", 1, "needs CAP_BPF and CAP_NET_ADMIN");

        assertThat(e).hasMessage("load program 'dispatch': EPERM (needs CAP_BPF and CAP_NET_ADMIN)");
    }

    @Test
    void omitsParenthesesWhenThereIsNoHint() {
        assertThat(new BpfException("create map 'sockets'", 12, null)).hasMessage("create map 'sockets': ENOMEM");
    }

    @Test
    void omitsParenthesesWhenTheHintIsEmpty() {
        assertThat(new BpfException("create map 'sockets'", 12, "")).hasMessage("create map 'sockets': ENOMEM");
    }

    @Test
    void formatsUnknownErrnoByNumber() {
        assertThat(new BpfException("attach", 4242, "odd")).hasMessage("attach: errno 4242 (odd)");
    }

    @Test
    void exposesOperationErrnoAndHint() {
        BpfException e = new BpfException("attach link", 16, "another program holds the netns");

        assertThat(e.operation()).isEqualTo("attach link");
        assertThat(e.errno()).isEqualTo(16);
        assertThat(e.errnoValue()).isEqualTo(Errno.EBUSY);
        assertThat(e.errnoName()).isEqualTo("EBUSY");
        assertThat(e.hint()).isEqualTo("another program holds the netns");
    }

    @Test
    void keepsTheCause() {
        IllegalStateException cause = new IllegalStateException("boom");

        assertThat(new BpfException("load", 22, null, cause)).hasCause(cause);
    }

    @Test
    void formatsInvalidFailureWithoutErrno() {
        BpfException e = BpfException.invalid("update map 'sockets'", "key is 8 bytes, map wants 4");

        assertThat(e).hasMessage("update map 'sockets': key is 8 bytes, map wants 4");
        assertThat(e.errno()).isZero();
        assertThat(e.errnoValue()).isNull();
        assertThat(e.errnoName()).isNull();
    }

    // ---- VerifierException -------------------------------------------------------------------

    @Test
    void keepsTheWholeVerifierLog() {
        VerifierException e = new VerifierException("load program 'dispatch'", 13, VERIFIER_LOG);

        assertThat(e.log()).isEqualTo(VERIFIER_LOG);
    }

    @Test
    void summarisesTheLastFourNonBlankLinesInTheMessage() {
        VerifierException e = new VerifierException("load program 'dispatch'", 13, VERIFIER_LOG);

        assertThat(e.getMessage())
                .startsWith("load program 'dispatch': EACCES (verifier rejected the program: ")
                .contains("1: (61) r7 = *(u32 *)(r6 +60) | 2: (79) r0 = *(u64 *)(r6 +4)")
                .contains("invalid bpf_context access off=4 size=8")
                .contains("processed 3 insns")
                .doesNotContain("func#0")
                .doesNotContain("0: (bf) r6 = r1");
    }

    @Test
    void returnsTheLastNonBlankLines() {
        VerifierException e = new VerifierException("load", 13, VERIFIER_LOG);

        assertThat(e.lastLines(2)).containsExactly(
                "invalid bpf_context access off=4 size=8",
                "processed 3 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0");
    }

    @Test
    void returnsEveryNonBlankLineWhenAskedForMoreThanTheLogHas() {
        VerifierException e = new VerifierException("load", 13, "a\n\nb\n");

        assertThat(e.lastLines(10)).containsExactly("a", "b");
    }

    @Test
    void keepsTheListingOutOfTheMessage() {
        String listing = "0: (bf) r6 = r1\n1: (61) r7 = *(u32 *)(r6 +60)\n2: (79) r0 = *(u64 *)(r6 +4)\n3: (95) exit";

        VerifierException e = new VerifierException("load program 'dispatch'", 13, VERIFIER_LOG, listing);

        assertThat(e.listing()).isEqualTo(listing);
        assertThat(e.getMessage()).isEqualTo(new VerifierException("load program 'dispatch'", 13, VERIFIER_LOG).getMessage())
                .doesNotContain("(95) exit");
    }

    @Test
    void hasAnEmptyListingWhenTheProgramIsNotKnown() {
        VerifierException e = new VerifierException("load", 13, VERIFIER_LOG);

        assertThat(e.listing()).isEmpty();
        assertThat(e.logWithListing()).isEqualTo("verifier log:\n" + VERIFIER_LOG.stripTrailing());
    }

    @Test
    void putsTheWholeLogBeforeTheListingForALogFile() {
        VerifierException e = new VerifierException("load", 13, VERIFIER_LOG, "0: (bf) r6 = r1\n1: (95) exit");

        assertThat(e.logWithListing()).isEqualTo("verifier log:\n" + VERIFIER_LOG.stripTrailing()
                + "\n\nprogram listing:\n0: (bf) r6 = r1\n1: (95) exit");
    }

    @Test
    void isABpfExceptionWithTheKernelsErrno() {
        VerifierException e = new VerifierException("load", 13, VERIFIER_LOG);

        assertThat(e).isInstanceOf(BpfException.class);
        assertThat(e.errnoValue()).isEqualTo(Errno.EACCES);
    }
}
