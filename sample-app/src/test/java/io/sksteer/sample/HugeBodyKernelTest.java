package io.sksteer.sample;

import static org.assertj.core.api.Assertions.assertThat;

import io.sksteer.testkit.ChildJvm;
import io.sksteer.testkit.HttpProbe;
import io.sksteer.testkit.KernelTest;
import io.sksteer.testkit.TestNetns;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import tools.jackson.databind.json.JsonMapper;

/**
 * A write of 10^6 rules (21 MB) to the sample, with writes allowed, in a child JVM capped at
 * -Xmx256m: refused in under a second, with and without a Content-Length, without the heap
 * growing by 50 MB, and the application serves on.
 */
@KernelTest
class HugeBodyKernelTest {

    private static final int PORT = 18080;
    private static final int RULES = 1_000_000;

    @RegisterExtension
    static final TestNetns ns = TestNetns.perClass();
    private static ChildJvm.Running app;
    private static byte[] body;

    @BeforeAll
    static void start() throws Exception {
        app = ChildJvm.start(List.of("nsenter", "--net=" + ns.path(), "--"), List.of("-Xmx256m"), SampleApplication.class.getName(),
                "--server.port=" + PORT, "--management.endpoint.sksteer.access=unrestricted", "--sksteer.live-changes.enabled=true",
                "--management.endpoints.web.exposure.include=sksteer,health,metrics");
        assertThat(app.awaitOutput("Started SampleApplication", Duration.ofSeconds(90))).as(app.output()).isTrue();
        StringBuilder rules = new StringBuilder("{\"rules\": \"");
        for (int i = 0; i < RULES; i++) {
            rules.append("web 127.77.").append(i >> 8 & 0xff).append('.').append(i & 0xff).append(" 80;");
        }
        body = rules.append("\"}").toString().getBytes(StandardCharsets.US_ASCII);
        assertThat(body.length).isGreaterThan(20_000_000);
    }

    @AfterAll
    static void stop() throws Exception {
        if (app != null) {
            app.close();
        }
    }

    private static double heapUsed() {
        HttpProbe.Answer a = HttpProbe.get(ns, new InetSocketAddress("127.0.0.1", PORT), "/actuator/metrics/jvm.memory.used?tag=area:heap");
        assertThat(a.status()).as(a.body()).isEqualTo(200);
        return JsonMapper.builder().build().readTree(a.body()).get("measurements").get(0).get("value").asDouble();
    }

    @Test
    void aHugeBodyIsRefusedBeforeItIsParsedWithOrWithoutALength() throws Exception {
        double before = heapUsed();
        for (boolean chunked : new boolean[] {false, true}) {
            long t0 = System.nanoTime();
            String status = send(chunked);
            long ms = (System.nanoTime() - t0) / 1_000_000;
            System.out.println("[sksteer] HugeBodyKernelTest: " + (chunked ? "chunked" : "with Content-Length") + ": '" + status
                    + "' after " + ms + " ms");
            assertThat(status).as(chunked ? "chunked" : "with a length").startsWith("HTTP/1.1 413");
            assertThat(ms).as("time to the refusal, ms").isLessThan(1000);
        }
        double after = heapUsed();
        System.out.printf("[sksteer] HugeBodyKernelTest: heap used %.1f MB before, %.1f MB after%n", before / 1e6, after / 1e6);
        assertThat(after - before).as("heap growth, bytes").isLessThan(50e6);
        assertThat(HttpProbe.get(ns, new InetSocketAddress("127.0.0.1", PORT), "/actuator/health").status()).isEqualTo(200);
        assertThat(app.output()).doesNotContain("OutOfMemoryError");
    }

    /** Sends the body (on a thread of its own: the server may answer before reading it) and returns the status line. */
    private static String send(boolean chunked) {
        return ns.call(() -> {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", PORT), 3000);
                s.setSoTimeout(5000);
                OutputStream out = s.getOutputStream();
                String headers = "POST /actuator/sksteer/add HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                        + (chunked ? "Transfer-Encoding: chunked\r\n" : "Content-Length: " + body.length + "\r\n") + "\r\n";
                out.write(headers.getBytes(StandardCharsets.US_ASCII));
                CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
                    try {
                        for (int at = 0; at < body.length; at += 65536) {
                            int n = Math.min(65536, body.length - at);
                            if (chunked) {
                                out.write((Integer.toHexString(n) + "\r\n").getBytes(StandardCharsets.US_ASCII));
                            }
                            out.write(body, at, n);
                            if (chunked) {
                                out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
                            }
                        }
                        if (chunked) {
                            out.write("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                        }
                    } catch (Exception e) {
                        // The server closed the connection once it had refused: expected.
                    }
                });
                InputStream in = s.getInputStream();
                StringBuilder line = new StringBuilder();
                for (int c = in.read(); c >= 0 && c != '\n'; c = in.read()) {
                    line.append((char) c);
                }
                s.close();
                writer.exceptionally(e -> null).join();
                return line.toString().trim();
            }
        });
    }
}
