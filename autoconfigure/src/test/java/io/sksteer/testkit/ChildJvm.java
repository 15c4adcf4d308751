package io.sksteer.testkit;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs a main class of the test class path in a child JVM holding only the given capabilities
 * ({@code setpriv}: bounding, inheritable and ambient sets). The child keeps uid 0 so it can read
 * the build's class path; without capabilities it is root in name only.
 */
public final class ChildJvm {

    /** What the child printed (stdout and stderr) and its exit status. */
    public record Result(int exitCode, String output) {
    }

    private ChildJvm() {
    }

    /**
     * @param caps a setpriv capability list, e.g. {@code -all} or {@code -all,+bpf,+net_admin}
     */
    public static Result run(String caps, Duration limit, String mainClass, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("setpriv", "--inh-caps=" + caps, "--ambient-caps=" + caps,
                "--bounding-set=" + caps, "--"));
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(List.of("-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"), mainClass));
        cmd.addAll(List.of(args));
        File output = Files.createTempFile("sksteer-child", ".out").toFile();
        try {
            Process child = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(output).start();
            if (!child.waitFor(limit.toMillis(), TimeUnit.MILLISECONDS)) {
                child.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                throw new AssertionError(mainClass + " did not finish in " + limit + ": "
                        + Files.readString(output.toPath(), StandardCharsets.UTF_8));
            }
            return new Result(child.exitValue(), Files.readString(output.toPath(), StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(output.toPath());
        }
    }

    /** A child JVM left running, with its output collected in a file. */
    public static final class Running implements AutoCloseable {
        private final Process process;
        private final Path output;

        private Running(Process process, Path output) {
            this.process = process;
            this.output = output;
        }

        public Process process() {
            return process;
        }

        public String output() {
            return new OutputFile(output).read();
        }

        /** Waits until the output contains {@code text} (or the child dies, or {@code limit} passes). */
        public boolean awaitOutput(String text, Duration limit) {
            return new OutputFile(output).await(text, () -> !process.isAlive(), limit);
        }

        /** SIGKILL, then wait for the process to be gone. */
        public void kill() throws InterruptedException {
            process.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
        }

        @Override
        public void close() throws Exception {
            if (process.isAlive()) {
                kill();
            }
            Files.deleteIfExists(output);
        }
    }

    /**
     * Starts a main class of the test class path with only {@code caps}, inside the network
     * namespace at {@code netns} (entered by {@code nsenter} before the JVM starts, so the child's
     * own namespace is that one).
     */
    public static Running start(String caps, Path netns, String mainClass, String... args) throws Exception {
        List<String> wrapper = new ArrayList<>(List.of("nsenter", "--net=" + netns, "--", "setpriv", "--inh-caps=" + caps,
                "--ambient-caps=" + caps, "--bounding-set=" + caps, "--"));
        return start(wrapper, List.of(), mainClass, args);
    }

    /**
     * Starts a main class of the test class path as {@code wrapper} (a command line that ends by
     * running its arguments, such as {@code nsenter ... --}) runs it, with extra JVM options.
     */
    public static Running start(List<String> wrapper, List<String> jvmOptions, String mainClass, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(wrapper);
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("-XX:TieredStopAtLevel=1");
        cmd.addAll(jvmOptions);
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), mainClass));
        cmd.addAll(List.of(args));
        Path output = Files.createTempFile("sksteer-child", ".out");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(output.toFile()).start();
        return new Running(p, output);
    }

    /** The first line of {@code output} starting with {@code prefix}, or an assertion error. */
    public static String line(Result result, String prefix) {
        return result.output().lines().filter(l -> l.startsWith(prefix)).findFirst()
                .orElseThrow(() -> new AssertionError("no line starting with '" + prefix + "' in:\n" + result.output()));
    }
}
