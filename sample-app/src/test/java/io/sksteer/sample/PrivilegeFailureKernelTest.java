package io.sksteer.sample;

import static org.assertj.core.api.Assertions.assertThat;

import io.sksteer.testkit.KernelTest;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
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
        List<String> cmd = new ArrayList<>(List.of("setpriv", "--inh-caps=-all", "--ambient-caps=-all", "--bounding-set=-all", "--"));
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(List.of("-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"),
                SampleApplication.class.getName(), "--server.port=0", "--sksteer.netns=/nonexistent/sksteer-test-guard"));
        File output = Files.createTempFile("sksteer-privilege", ".out").toFile();
        try {
            Process child = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(output).start();
            if (!child.waitFor(90, TimeUnit.SECONDS)) {
                child.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                throw new AssertionError("the application did not stop in 90 s: " + Files.readString(output.toPath()));
            }
            String out = Files.readString(output.toPath(), StandardCharsets.UTF_8);
            assertThat(child.exitValue()).as(out).isNotZero();
            assertThat(out).contains("APPLICATION FAILED TO START")
                    .contains("sksteer could not use BPF").contains("EPERM")
                    .contains("steering needs CAP_BPF and CAP_NET_ADMIN")
                    .contains("AmbientCapabilities=CAP_BPF CAP_NET_ADMIN")
                    .contains("securityContext.capabilities.add");
        } finally {
            Files.deleteIfExists(output.toPath());
        }
    }
}
