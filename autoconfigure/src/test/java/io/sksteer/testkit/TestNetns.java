package io.sksteer.testkit;

import io.sksteer.bpf.NetworkNamespace;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A network namespace made for one test class: created empty, loopback brought up, gone when
 * closed (nothing else holds it). Work that must happen inside it runs through {@link #call}.
 *
 * <p>A kernel test class usually declares one as an extension, created before the class's
 * {@code @BeforeAll} methods and closed after its {@code @AfterAll} methods (and only when
 * {@link KernelTest} lets the class run):
 *
 * <pre>{@code
 * @RegisterExtension
 * static final TestNetns ns = TestNetns.perClass("2001:db8::/64");
 * }</pre>
 */
public final class TestNetns implements AutoCloseable, BeforeAllCallback, AfterAllCallback {

    private NetworkNamespace namespace;
    private final List<String> localRoutes;

    private TestNetns(NetworkNamespace namespace, List<String> localRoutes) {
        this.namespace = namespace;
        this.localRoutes = localRoutes;
    }

    /** A namespace created now. */
    public static TestNetns create() {
        return new TestNetns(NetworkNamespace.create(), List.of());
    }

    /** A namespace for the test class that registers it, with local routes for {@code localRoutes}. */
    public static TestNetns perClass(String... localRoutes) {
        return new TestNetns(null, List.of(localRoutes));
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        namespace = NetworkNamespace.create();
        localRoutes.forEach(this::addLocalRoute);
    }

    @Override
    public void afterAll(ExtensionContext context) {
        close();
    }

    public NetworkNamespace namespace() {
        if (namespace == null) {
            throw new IllegalStateException("no namespace yet: a per-class TestNetns is created before the class's tests");
        }
        return namespace;
    }

    /** A path other code (and child processes) can open the namespace by while this is open. */
    public Path path() {
        return namespace().handlePath();
    }

    /** Makes {@code prefix} local on lo, so traffic to it reaches socket lookup. */
    public TestNetns addLocalRoute(String prefix) {
        if (prefix.contains(":")) {
            ip("-6", "route", "add", "local", prefix, "dev", "lo");
        } else {
            ip("route", "add", "local", prefix, "dev", "lo");
        }
        return this;
    }

    /** Runs {@code ip ARGS} inside the namespace; fails with its output when it fails. */
    public String ip(String... args) {
        List<String> cmd = new ArrayList<>(List.of("nsenter", "--net=" + namespace().handlePath(), "ip"));
        cmd.addAll(List.of(args));
        return run(cmd);
    }

    public <T> T call(Callable<T> action) {
        return namespace().call(action);
    }

    public void run(NetworkNamespace.ThrowingRunnable action) {
        namespace().run(action);
    }

    @Override
    public void close() {
        if (namespace != null) {
            namespace.close();
        }
    }

    static boolean commandMissing(String command) {
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/sbin:/usr/bin:/sbin:/bin").split(":")) {
            if (Files.isExecutable(Path.of(dir, command))) {
                return false;
            }
        }
        return !Files.isExecutable(Path.of("/usr/sbin", command)) && !Files.isExecutable(Path.of("/sbin", command));
    }

    static String run(List<String> cmd) {
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            if (!p.waitFor(20, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException(String.join(" ", cmd) + " did not finish in 20 s");
            }
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (p.exitValue() != 0) {
                throw new IllegalStateException(String.join(" ", cmd) + " failed (" + p.exitValue() + "): " + out);
            }
            return out;
        } catch (IOException e) {
            throw new IllegalStateException("cannot run " + String.join(" ", cmd) + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted running " + String.join(" ", cmd), e);
        }
    }
}
