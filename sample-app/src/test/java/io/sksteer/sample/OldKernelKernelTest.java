package io.sksteer.sample;

import static org.assertj.core.api.Assertions.assertThat;

import io.sksteer.bpf.internal.SeccompLauncher;
import io.sksteer.testkit.ChildJvm;
import io.sksteer.testkit.KernelTest;
import io.sksteer.testkit.LabelledListeners;
import io.sksteer.testkit.TestNetns;
import io.sksteer.testkit.TestSockets;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * How the sample application reports kernels older than what sksteer uses, provoked on this
 * machine by a seccomp filter in a child JVM that gives one bpf() command the answer such a
 * kernel gives ({@link SeccompLauncher}); every other kernel call is real.
 */
@KernelTest
class OldKernelKernelTest {

    private static final String CAPS = "-all,+bpf,+net_admin";
    @RegisterExtension
    static final TestNetns ns = TestNetns.perClass();

    @Test
    void withoutSkLookupProgramsStartupFailsWithAReportNamingLinux59() throws Exception {
        // BPF_PROG_LOAD fails with EINVAL, as for a program type the kernel does not know (before 5.9).
        try (ChildJvm.Running app = ChildJvm.start(CAPS, ns.path(), SeccompLauncher.class.getName(), "5", "22",
                SampleApplication.class.getName(), "--server.port=0")) {
            assertThat(app.process().waitFor(90, java.util.concurrent.TimeUnit.SECONDS)).as(app.output()).isTrue();
            String output = app.output();
            assertThat(output).contains("[sksteer test] seccomp: bpf command 5 fails with errno 22");
            assertThat(app.process().exitValue()).as(output).isNotZero();
            assertThat(output).contains("APPLICATION FAILED TO START")
                    .contains("This kernel lacks what sksteer needs").contains("sk_lookup programs")
                    .contains("Run on Linux 5.9 or later");
        }
        assertThat(ns.namespace().skLookupProgramIds()).as("nothing attached").isEmpty();
    }

    @Test
    void withoutTestRunsTheAppSteersAndExplainAnswers503NamingLinux513() throws Exception {
        // BPF_PROG_TEST_RUN fails with ENOTSUPP, as for sk_lookup programs before 5.13.
        try (ChildJvm.Running app = ChildJvm.start(CAPS, ns.path(), SeccompLauncher.class.getName(), "10", "524",
                SampleApplication.class.getName(), "--server.port=8080")) {
            assertThat(app.awaitOutput("Started SampleApplication", Duration.ofSeconds(60)))
                    .as("the app started; output:%n%s", app.output()).isTrue();
            assertThat(app.output()).contains("[sksteer test] seccomp: bpf command 10 fails with errno 524");
            assertThat(LabelledListeners.httpGet(ns, new InetSocketAddress("127.77.1.2", 8123)))
                    .startsWith("listener=web local=127.77.1.2:8123");
            String response = get("/actuator/sksteer/explain?protocol=tcp&address=127.77.1.2&port=8123");
            assertThat(response).as(response).startsWith("HTTP/1.1 503")
                    .contains("this kernel cannot test-run sk_lookup programs (needs Linux 5.13)").contains("ENOTSUPP");
        }
    }

    /** The whole HTTP/1.0 response to a GET of the app's actuator inside the namespace. */
    private static String get(String path) {
        return ns.call(() -> {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", 8080), TestSockets.TIMEOUT_MS);
                s.setSoTimeout(TestSockets.TIMEOUT_MS);
                s.getOutputStream().write(("GET " + path + " HTTP/1.0\r\nHost: sksteer\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                try (InputStream in = s.getInputStream()) {
                    return new String(in.readAllBytes(), StandardCharsets.UTF_8);
                }
            }
        });
    }
}
