package io.sksteer.actuate;

import static org.assertj.core.api.Assertions.assertThat;

import io.sksteer.autoconfigure.SksteerAutoConfiguration;
import io.sksteer.netty.ListenerHandler;
import io.sksteer.testkit.KernelTest;
import io.sksteer.testkit.LabelledListeners;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.health.contributor.Status;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

/**
 * A named namespace ({@code ip netns add}) deleted while the application steers it: no crash,
 * health DOWN naming it, a clean stop. The test removes the name in any case.
 */
@KernelTest
class NamespaceDeletedKernelTest {

    @Test
    void deletingTheNamespaceTurnsHealthDownAndStopIsClean() throws Exception {
        String name = "sksteer-test-" + UUID.randomUUID().toString().substring(0, 8);
        ip("netns", "add", name);
        try {
            ip("-n", name, "link", "set", "lo", "up");
            new ApplicationContextRunner()
                    .withConfiguration(AutoConfigurations.of(SksteerAutoConfiguration.class, SksteerActuatorAutoConfiguration.class))
                    .withPropertyValues("sksteer.netns=/run/netns/" + name,
                            "sksteer.listeners.web.rules[0].prefixes=127.77.0.0/16",
                            "sksteer.listeners.web.rules[0].ports=80")
                    .withBean("web", ListenerHandler.class, () -> LabelledListeners.tcp("web"))
                    .run(context -> {
                        SksteerHealthIndicator health = context.getBean(SksteerHealthIndicator.class);
                        assertThat(health.health().getStatus()).isEqualTo(Status.UP);
                        ip("netns", "delete", name);
                        var down = health.health();
                        assertThat(down.getStatus()).isEqualTo(Status.DOWN);
                        assertThat(down.getDetails().get("problems").toString()).contains("/run/netns/" + name).contains("deleted");
                    });
        } finally {
            if (Files.exists(Path.of("/run/netns", name))) {
                ip("netns", "delete", name);
            }
        }
    }

    private static void ip(String... args) throws Exception {
        String[] cmd = new String[args.length + 1];
        cmd[0] = "ip";
        System.arraycopy(args, 0, cmd, 1, args.length);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        if (!p.waitFor(20, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new AssertionError(String.join(" ", cmd) + " failed: " + new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
        }
    }
}
