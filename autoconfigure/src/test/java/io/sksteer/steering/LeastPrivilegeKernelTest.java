package io.sksteer.steering;

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
        List<String> cmd = new ArrayList<>(List.of("setpriv", "--inh-caps=" + caps, "--ambient-caps=" + caps,
                "--bounding-set=" + caps, "--"));
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(List.of("-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"),
                LeastPrivilegeProbe.class.getName()));
        File output = Files.createTempFile("sksteer-leastprivilege", ".out").toFile();
        try {
            Process child = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(output).start();
            if (!child.waitFor(60, TimeUnit.SECONDS)) {
                child.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                throw new AssertionError("the probe did not finish in 60 s: " + Files.readString(output.toPath()));
            }
            String out = Files.readString(output.toPath(), StandardCharsets.UTF_8);
            return out.lines().filter(l -> l.startsWith(LeastPrivilegeProbe.RESULT)).findFirst()
                    .orElseThrow(() -> new AssertionError("no result line from the probe:\n" + out));
        } finally {
            Files.deleteIfExists(output.toPath());
        }
    }
}
