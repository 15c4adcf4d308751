package io.sksteer.steering;

import static org.assertj.core.api.Assertions.assertThat;

import io.sksteer.testkit.ChildJvm;
import io.sksteer.testkit.KernelTest;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The generated dispatcher loads for a process holding only CAP_BPF and CAP_NET_ADMIN, where
 * the verifier (without CAP_PERFMON) also walks speculative branches and is stricter on
 * complexity. The child keeps uid 0 so it can read the build's class path, but its bounding,
 * inheritable and ambient sets hold just the two capabilities, so that is all it has.
 */
@KernelTest
class LeastPrivilegeKernelTest {

    @Test
    void theDispatcherLoadsWithOnlyCapBpfAndCapNetAdmin() throws Exception {
        String out = runProbe("-all,+bpf,+net_admin");
        assertThat(out).contains("loaded program").contains("with CAP_NET_ADMIN, CAP_BPF").doesNotContain("CAP_PERFMON")
                .doesNotContain("CAP_SYS_ADMIN");
    }

    @Test
    void withoutCapNetAdminItFailsNamingTheCapabilities() throws Exception {
        String out = runProbe("-all,+bpf");
        assertThat(out).contains("failed with CAP_BPF").contains("EPERM").contains("CAP_NET_ADMIN");
    }

    private static String runProbe(String caps) throws Exception {
        return ChildJvm.line(ChildJvm.run(caps, Duration.ofSeconds(60), LeastPrivilegeProbe.class.getName()),
                LeastPrivilegeProbe.RESULT);
    }
}
