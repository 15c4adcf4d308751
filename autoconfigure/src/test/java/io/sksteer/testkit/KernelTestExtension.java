package io.sksteer.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import io.sksteer.bpf.BpfFeatures;
import io.sksteer.bpf.Capabilities;
import io.sksteer.bpf.Capability;
import io.sksteer.bpf.Feature;
import io.sksteer.bpf.NetworkNamespace;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Runs {@link KernelTest} classes only where the kernel allows, and checks after each class that
 * it left no kernel file descriptor open and nothing attached to the machine's own namespace.
 */
public final class KernelTestExtension implements ExecutionCondition, BeforeAllCallback, AfterAllCallback {

    /** {@code auto} (default): skip with a reason; {@code required}: fail when the kernel is missing. */
    public static final String MODE_PROPERTY = "sksteer.kernel-tests";

    private static final AtomicBoolean REASON_PRINTED = new AtomicBoolean();
    private static volatile String unavailable;
    private static volatile boolean probed;

    private static final ExtensionContext.Namespace STORE = ExtensionContext.Namespace.create(KernelTestExtension.class);

    @Override
    public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
        String reason = unavailableReason();
        if (reason == null || required()) {
            return ConditionEvaluationResult.enabled("kernel available" + (reason == null ? "" : " (required)"));
        }
        if (REASON_PRINTED.compareAndSet(false, true)) {
            String line = "[sksteer] kernel tests SKIPPED: " + reason
                    + " (run as root, or set -D" + MODE_PROPERTY + "=required to make them fail instead)";
            System.out.println(line);
            // Once more when the test JVM ends, so the reason also stands next to the run's summary.
            Runtime.getRuntime().addShutdownHook(new Thread(() -> System.out.println(line)));
        }
        return ConditionEvaluationResult.disabled("kernel tests skipped: " + reason);
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        String reason = unavailableReason();
        if (reason != null) {
            throw new AssertionError("kernel tests are required (-D" + MODE_PROPERTY + "=required) but cannot run: " + reason);
        }
        ExtensionContext.Store store = context.getStore(STORE);
        store.put("fds", kernelFds());
        store.put("host", hostPrograms());
    }

    @Override
    public void afterAll(ExtensionContext context) {
        ExtensionContext.Store store = context.getStore(STORE);
        @SuppressWarnings("unchecked")
        Map<Integer, String> before = store.get("fds", Map.class);
        @SuppressWarnings("unchecked")
        List<Integer> hostBefore = store.get("host", List.class);
        if (before == null) {
            return;
        }
        assertThat(hostPrograms())
                .as("sk_lookup programs attached to the machine's own network namespace after %s", context.getDisplayName())
                .isEqualTo(hostBefore);
        Map<Integer, String> after = Awaits.until(KernelTestExtension::kernelFds, fds -> fds.equals(before),
                java.time.Duration.ofSeconds(5));
        assertThat(after).as("kernel file descriptors (bpf objects, sockets, namespaces) open after %s",
                context.getDisplayName()).isEqualTo(before);
    }

    private static boolean required() {
        return "required".equalsIgnoreCase(System.getProperty(MODE_PROPERTY, "auto"));
    }

    /** Why kernel tests cannot run here, or {@code null} when they can. */
    public static synchronized String unavailableReason() {
        if (!probed) {
            unavailable = probe();
            probed = true;
        }
        return unavailable;
    }

    private static String probe() {
        if (!System.getProperty("os.name", "").toLowerCase().contains("linux")) {
            return "not Linux";
        }
        Capabilities caps = Capabilities.current();
        if (!caps.has(Capability.CAP_SYS_ADMIN)) {
            return "CAP_SYS_ADMIN is needed to create test network namespaces; this process has " + caps;
        }
        for (Feature f : List.of(BpfFeatures.bpfSyscall(), BpfFeatures.skLookup(), BpfFeatures.sockMap(),
                BpfFeatures.skLookupTestRun())) {
            if (!f.isAvailable()) {
                return f.name() + " unavailable: " + f.unavailabilityCause().getMessage();
            }
        }
        if (TestNetns.commandMissing("ip")) {
            return "the 'ip' command (iproute2) is not installed";
        }
        if (TestNetns.commandMissing("nsenter")) {
            return "the 'nsenter' command (util-linux) is not installed";
        }
        return null;
    }

    /** Open descriptors of this process that refer to bpf objects, sockets or namespaces. */
    public static Map<Integer, String> kernelFds() {
        Map<Integer, String> out = new TreeMap<>();
        try (DirectoryStream<Path> dir = Files.newDirectoryStream(Path.of("/proc/self/fd"))) {
            for (Path p : dir) {
                String target;
                try {
                    target = Files.readSymbolicLink(p).toString();
                } catch (IOException e) {
                    continue; // closed while listing (the directory stream's own fd, for one)
                }
                if (target.startsWith("anon_inode:bpf") || target.startsWith("socket:") || target.startsWith("net:[")) {
                    out.put(Integer.parseInt(p.getFileName().toString()), target);
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException("list /proc/self/fd", e);
        }
        return out;
    }

    private static List<Integer> hostPrograms() {
        try (NetworkNamespace host = NetworkNamespace.ofProcess()) {
            return host.skLookupProgramIds();
        }
    }
}
