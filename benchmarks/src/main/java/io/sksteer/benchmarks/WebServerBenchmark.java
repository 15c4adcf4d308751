package io.sksteer.benchmarks;

import io.sksteer.bpf.NetworkNamespace;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Import;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * Section 3: HTTP requests per second from one client to a Spring MVC application on Tomcat,
 * through sksteer's web-server listener (a steered address) and to the same server on its own
 * address, in one namespace and one run: the same server, the same client, the same process.
 * Keep-alive off: one HTTP/1.0 request per connection. Keep-alive on: HTTP/1.1 requests on one
 * connection (the kernel's socket lookup, where steering happens, runs only for its first SYN).
 */
final class WebServerBenchmark {

    static final InetSocketAddress STEERED = new InetSocketAddress("127.77.2.1", 80);
    private static final int IO_TIMEOUT_MS = 2000;
    private static final byte[] CLOSE_REQUEST = "GET /ok HTTP/1.0\r\nHost: bench\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] KEEP_ALIVE_REQUEST = "GET /ok HTTP/1.1\r\nHost: bench\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

    private final Plan plan;
    private final PrintStream progress;

    WebServerBenchmark(Plan plan, PrintStream progress) {
        this.plan = plan;
        this.progress = progress;
    }

    /** The benchmark's application: one controller answering "ok". */
    @Configuration(proxyBeanMethods = false)
    @EnableAutoConfiguration
    @Import(Ok.class)
    static class App {
    }

    @RestController
    static class Ok {
        @GetMapping("/ok")
        String ok() {
            return "ok";
        }
    }

    private interface Operation {
        int run(InetSocketAddress target, int maxOps, long deadline) throws IOException;
    }

    void run(Report report) {
        Map<String, List<Double>> perSecond = new LinkedHashMap<>();
        try (NetworkNamespace ns = NetworkNamespace.create()) {
            // Started on a thread inside the namespace, so the server's socket is made there.
            ConfigurableApplicationContext app = ns.call(() -> new SpringApplicationBuilder(App.class).properties(
                    // Quiet: the report goes to standard output, where Spring Boot logs too.
                    "spring.main.banner-mode=off", "logging.level.root=off", "server.address=127.0.0.1", "server.port=0",
                    // Keep-alive on means one connection for the whole measurement (Tomcat's default closes after 100).
                    "server.tomcat.max-keep-alive-requests=-1",
                    "sksteer.netns=" + ns.handlePath(), "sksteer.listeners.site.socket=web-server",
                    "sksteer.listeners.site.rules[0].prefixes[0]=127.77.2.0/24",
                    "sksteer.listeners.site.rules[0].ports[0]=80").run());
            try {
                InetSocketAddress direct = new InetSocketAddress("127.0.0.1",
                        Integer.parseInt(app.getEnvironment().getProperty("local.server.port")));
                progress.printf("web server: Tomcat on %s, steered from %s%n", direct, STEERED);
                Map<String, Operation> ops = new LinkedHashMap<>();
                ops.put("close", WebServerBenchmark::oneRequestPerConnection);
                ops.put("keep-alive", WebServerBenchmark::requestsOnOneConnection);
                for (Map.Entry<String, Operation> op : ops.entrySet()) {
                    for (InetSocketAddress target : List.of(STEERED, direct)) {
                        measure(ns, op.getValue(), target, Integer.MAX_VALUE, plan.e2eWarmup());
                    }
                }
                for (int round = 0; round < plan.e2eRounds(); round++) {
                    progress.printf("web server: round %d of %d%n", round + 1, plan.e2eRounds());
                    for (Map.Entry<String, Operation> op : ops.entrySet()) {
                        // Alternate which side goes first, so drift of the machine favours neither.
                        List<InetSocketAddress> order = round % 2 == 0 ? List.of(STEERED, direct) : List.of(direct, STEERED);
                        for (InetSocketAddress target : order) {
                            String key = op.getKey() + (target == STEERED ? " steered" : " direct");
                            perSecond.computeIfAbsent(key, k -> new ArrayList<>())
                                    .add(measure(ns, op.getValue(), target, plan.e2eMaxOps(), plan.e2eRoundTime()));
                        }
                    }
                }
            } finally {
                app.close();
            }
        }
        Report.Table t = report.table("Web server, one client (" + plan.e2eRounds() + " rounds of at most "
                + plan.e2eRoundTime().toMillis() + " ms or " + Report.count(plan.e2eMaxOps()) + " requests per case)",
                "traffic", "steered per s", "direct per s", "steered ÷ direct", "per-round ratios");
        row(report, t, "HTTP requests, keep-alive off (one request per connection)", perSecond.get("close steered"),
                perSecond.get("close direct"));
        row(report, t, "HTTP requests, keep-alive on (one connection)", perSecond.get("keep-alive steered"),
                perSecond.get("keep-alive direct"));
        t.note("a Spring MVC application on Tomcat (GET /ok answers \"ok\"), its listener 'site' with socket: web-server"
                + " and the rule 127.77.2.0/24 port 80; steered: requests to " + STEERED.getAddress().getHostAddress() + ":80;"
                + " direct: requests to the server's own address (127.0.0.1, ephemeral port). Same server, same client,"
                + " same namespace, alternating. Medians of the rounds.");
    }

    private static void row(Report report, Report.Table t, String name, List<Double> steered, List<Double> direct) {
        report.atLeast("web server ≥ 0.95 × its own address", name, Report.ratioRow(t, name, steered, direct), 0.95);
    }

    private static double measure(NetworkNamespace ns, Operation op, InetSocketAddress target, int maxOps, Duration time) {
        return ns.call(() -> {
            long start = System.nanoTime();
            int done = op.run(target, maxOps, start + time.toNanos());
            return done / ((System.nanoTime() - start) / 1e9);
        });
    }

    private static int oneRequestPerConnection(InetSocketAddress target, int maxOps, long deadline) throws IOException {
        int done = 0;
        while (done < maxOps && System.nanoTime() < deadline) {
            try (Socket s = new Socket()) {
                s.setTcpNoDelay(true);
                s.connect(target, IO_TIMEOUT_MS);
                s.setSoTimeout(IO_TIMEOUT_MS);
                s.getOutputStream().write(CLOSE_REQUEST);
                String answer = new String(s.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
                if (!answer.startsWith("HTTP/1.1 200") || !answer.endsWith("\r\n\r\nok")) {
                    throw new IOException("unexpected answer from " + target + ": " + answer);
                }
            }
            done++;
        }
        return done;
    }

    private static int requestsOnOneConnection(InetSocketAddress target, int maxOps, long deadline) throws IOException {
        int done = 0;
        try (Socket s = new Socket()) {
            s.setTcpNoDelay(true);
            s.connect(target, IO_TIMEOUT_MS);
            s.setSoTimeout(IO_TIMEOUT_MS);
            OutputStream out = s.getOutputStream();
            InputStream in = s.getInputStream();
            byte[] buffer = new byte[4096];
            while (done < maxOps && System.nanoTime() < deadline) {
                out.write(KEEP_ALIVE_REQUEST);
                readOneResponse(in, buffer, target);
                done++;
            }
        }
        return done;
    }

    /** Reads headers up to the blank line, then Content-Length bytes of body. */
    private static void readOneResponse(InputStream in, byte[] buffer, InetSocketAddress target) throws IOException {
        int filled = 0;
        int headerEnd = -1;
        while (headerEnd < 0) {
            int n = in.read(buffer, filled, buffer.length - filled);
            if (n < 0) {
                throw new IOException("connection to " + target + " closed mid-response");
            }
            filled += n;
            for (int i = 3; i < filled; i++) {
                if (buffer[i - 3] == '\r' && buffer[i - 2] == '\n' && buffer[i - 1] == '\r' && buffer[i] == '\n') {
                    headerEnd = i + 1;
                    break;
                }
            }
        }
        String headers = new String(buffer, 0, headerEnd, StandardCharsets.US_ASCII);
        int at = headers.toLowerCase(java.util.Locale.ROOT).indexOf("content-length:");
        if (!headers.startsWith("HTTP/1.1 200") || at < 0) {
            throw new IOException("unexpected response from " + target + ": " + headers);
        }
        int length = Integer.parseInt(headers.substring(at + 15, headers.indexOf('\r', at)).trim());
        int body = filled - headerEnd;
        while (body < length) {
            int n = in.read(buffer, 0, buffer.length);
            if (n < 0) {
                throw new IOException("connection to " + target + " closed mid-body");
            }
            body += n;
        }
    }
}
