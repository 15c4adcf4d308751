package io.sksteer.autoconfigure;

import static io.sksteer.testkit.LabelledListeners.tcpLine;
import static io.sksteer.testkit.TestSockets.addr;
import static org.assertj.core.api.Assertions.assertThat;

import io.sksteer.netty.ListenerHandler;
import io.sksteer.testkit.Awaits;
import io.sksteer.testkit.KernelTest;
import io.sksteer.testkit.LabelledListeners;
import io.sksteer.testkit.TestNetns;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

/** 200 start/stop cycles in one JVM leave no program attached and the fd count where it was. */
@KernelTest
class StartStopCyclesKernelTest {

    @RegisterExtension
    static final TestNetns ns = TestNetns.perClass();

    private final ApplicationContextRunner runner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(SksteerAutoConfiguration.class))
            .withPropertyValues("sksteer.netns=" + ns.path(),
                    "sksteer.listeners.web.rules[0].prefixes=127.77.0.0/16",
                    "sksteer.listeners.web.rules[0].ports=80",
                    "sksteer.listeners.dns.protocol=udp",
                    "sksteer.listeners.dns.rules[0].prefixes=127.77.0.0/16",
                    "sksteer.listeners.dns.rules[0].ports=53")
            .withBean("web", ListenerHandler.class, () -> LabelledListeners.tcp("web"))
            .withBean("dns", ListenerHandler.class, () -> LabelledListeners.udp("dns"));

    @Test
    void twoHundredCyclesLeaveNothingBehind() {
        for (int i = 0; i < 5; i++) {
            cycle(i); // warm-up: classes, jars and Netty's shared resources are opened once
        }
        long before = openFds();
        for (int i = 0; i < 200; i++) {
            cycle(i);
        }
        long after = Awaits.until(StartStopCyclesKernelTest::openFds, n -> n <= before, Duration.ofSeconds(10));
        assertThat(after).as("open file descriptors after 200 cycles (before: %d)", before).isLessThanOrEqualTo(before);
        assertThat(ns.namespace().skLookupProgramIds()).isEmpty();
    }

    private void cycle(int i) {
        runner.run(context -> {
            assertThat(context).hasNotFailed();
            if (i % 50 == 0) {
                assertThat(tcpLine(ns, addr("127.77.1.1", 80))).startsWith("web ");
            }
            assertThat(ns.namespace().skLookupProgramIds()).hasSize(1);
        });
    }

    private static long openFds() {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.count();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
