package io.sksteer.sample;

import static org.assertj.core.api.Assertions.assertThat;

import io.sksteer.testkit.ChildJvm;
import io.sksteer.testkit.KernelTest;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The sample application started without capabilities stops with Spring Boot's failure report
 * naming the capabilities and how to grant them. The child keeps uid 0 (to read the class path)
 * with empty capability sets, and a namespace path that does not exist as a second guard.
 */
@KernelTest
class PrivilegeFailureKernelTest {

    @Test
    void withoutCapabilitiesStartupFailsWithAReportNamingThem() throws Exception {
        ChildJvm.Result r = ChildJvm.run("-all", Duration.ofSeconds(90), SampleApplication.class.getName(),
                "--server.port=0", "--sksteer.netns=/nonexistent/sksteer-test-guard");
        assertThat(r.exitCode()).as(r.output()).isNotZero();
        assertThat(r.output()).contains("APPLICATION FAILED TO START")
                .contains("sksteer could not use BPF").contains("EPERM")
                .contains("steering needs CAP_BPF and CAP_NET_ADMIN")
                .contains("AmbientCapabilities=CAP_BPF CAP_NET_ADMIN")
                .contains("securityContext.capabilities.add");
    }
}
