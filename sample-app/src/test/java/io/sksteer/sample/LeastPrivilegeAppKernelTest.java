package io.sksteer.sample;

import static org.assertj.core.api.Assertions.assertThat;

import io.sksteer.testkit.Awaits;
import io.sksteer.testkit.ChildJvm;
import io.sksteer.testkit.KernelTest;
import io.sksteer.testkit.LabelledListeners;
import io.sksteer.testkit.TestNetns;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The sample application as a separate process holding only CAP_BPF and CAP_NET_ADMIN, living in
 * a test namespace: it steers, and when it is killed with SIGKILL the kernel detaches its program.
 */
@KernelTest
class LeastPrivilegeAppKernelTest {

    @RegisterExtension
    static final TestNetns ns = TestNetns.perClass();

    @Test
    void steersWithOnlyCapBpfAndCapNetAdminAndSigkillLeavesNothingAttached() throws Exception {
        try (ChildJvm.Running app = ChildJvm.start("-all,+bpf,+net_admin", ns.path(), SampleApplication.class.getName(),
                "--server.port=0")) {
            assertThat(app.awaitOutput("Started SampleApplication", Duration.ofSeconds(60)))
                    .as("the app started; output:%n%s", app.output()).isTrue();
            assertThat(app.output()).contains("sksteer: program");
            assertThat(ns.namespace().skLookupProgramIds()).hasSize(1);
            String status = new String(java.nio.file.Files.readAllBytes(
                    java.nio.file.Path.of("/proc/" + app.process().pid() + "/status")), StandardCharsets.UTF_8);
            // nsenter and setpriv exec in place, so the pid is the JVM's: it holds exactly the two.
            assertThat(status).contains("CapEff:\t0000008000001000");

            assertThat(LabelledListeners.httpGet(ns, new InetSocketAddress("127.77.1.2", 8123))).startsWith("listener=web local=127.77.1.2:8123");

            app.kill();
            List<Integer> after = Awaits.until(() -> ns.namespace().skLookupProgramIds(), List::isEmpty, Duration.ofSeconds(5));
            assertThat(after).as("programs attached after SIGKILL").isEmpty();
        }
    }

}
