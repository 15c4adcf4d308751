package io.sksteer.steering;

import static org.assertj.core.api.Assertions.assertThat;

import io.sksteer.testkit.ChildJvm;
import io.sksteer.testkit.KernelTest;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A rule change whose kernel writes fail half way (BPF_MAP_UPDATE_BATCH made to fail with ENOMEM
 * by a seccomp filter, in a child JVM of its own) leaves the rules in force deciding as before,
 * says so, and refuses further changes instead of putting half-written values in force.
 */
@KernelTest
class FailedChangeKernelTest {

    @Test
    void aChangeThatFailsHalfWayLeavesThePreviousRulesInForceAndRefusesMoreChanges() throws Exception {
        ChildJvm.Result r = ChildJvm.run("-all,+bpf,+net_admin", Duration.ofSeconds(60), FailedChangeProbe.class.getName());
        List<String> lines = r.output().lines().filter(l -> l.startsWith(FailedChangeProbe.RESULT))
                .map(l -> l.substring(FailedChangeProbe.RESULT.length())).toList();
        assertThat(lines).as(r.output()).hasSize(6);
        assertThat(lines.get(0)).isEqualTo("before: 127.77.1.5:80 DROP, 127.88.0.5:1500 PASS");
        assertThat(lines.get(1)).startsWith("the change failed: ").contains("ENOMEM");
        assertThat(lines.get(2)).startsWith("failure: ").endsWith("; the previous rules are still in force");
        assertThat(lines.get(3)).isEqualTo("rules in force: 1");
        assertThat(lines.get(4)).isEqualTo("after: 127.77.1.5:80 DROP, 127.88.0.5:1500 PASS");
        assertThat(lines.get(5)).startsWith("a further change was refused: an earlier rule change stopped half way");
    }
}
