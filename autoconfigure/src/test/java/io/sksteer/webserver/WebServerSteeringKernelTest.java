package io.sksteer.webserver;

import static io.sksteer.testkit.TestSockets.addr;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sksteer.autoconfigure.SksteerLifecycle;
import io.sksteer.bpf.Sockets;
import io.sksteer.testkit.Awaits;
import io.sksteer.testkit.HttpProbe;
import io.sksteer.testkit.HttpProbe.Answer;
import io.sksteer.testkit.TestNetns;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The application's own embedded web server as a steering target: a Spring application started
 * inside a namespace of the test's own (so its server's socket lives there), with a listener
 * {@code socket: web-server} over a /24 × {80, 8000-8099} and an IPv6 /64 × all ports. Every
 * assertion is a real request over a real socket. Subclasses choose the server.
 */
abstract class WebServerSteeringKernelTest {

    static final int SLOW_MS = 400;
    /** Spring Security is on the test class path for ActuatorSecurityKernelTest only; the others leave it out. */
    static final String NO_SECURITY = String.join(",", "org.springframework.boot.security.autoconfigure.SecurityAutoConfiguration",
            "org.springframework.boot.security.autoconfigure.UserDetailsServiceAutoConfiguration",
            "org.springframework.boot.security.autoconfigure.ReactiveUserDetailsServiceAutoConfiguration",
            "org.springframework.boot.security.autoconfigure.actuate.web.servlet.ManagementWebSecurityAutoConfiguration",
            "org.springframework.boot.security.autoconfigure.actuate.web.reactive.ReactiveManagementWebSecurityAutoConfiguration",
            "org.springframework.boot.security.autoconfigure.web.servlet.ServletWebSecurityAutoConfiguration",
            "org.springframework.boot.security.autoconfigure.web.servlet.SecurityFilterAutoConfiguration",
            "org.springframework.boot.security.autoconfigure.web.reactive.ReactiveWebSecurityAutoConfiguration");
    /** How many /slow requests the controller has begun. */
    static final AtomicInteger SLOW_STARTED = new AtomicInteger();
    private static final JsonMapper JSON = JsonMapper.builder().build();

    @RegisterExtension
    static final TestNetns ns = TestNetns.perClass("192.0.2.0/24", "2001:db8:77::/64");

    @TempDir
    Path temp;

    private final List<ConfigurableApplicationContext> started = new ArrayList<>();

    /** How this class's server is chosen, and what its controller calls itself. */
    enum Server {
        TOMCAT("servlet", MvcTestApp.class, "mvc",
                "org.springframework.boot.jetty.autoconfigure.servlet.JettyServletWebServerAutoConfiguration,"
                        + "org.springframework.boot.jetty.autoconfigure.actuate.web.server.JettyServletManagementContextAutoConfiguration"),
        JETTY("servlet", MvcTestApp.class, "mvc",
                "org.springframework.boot.tomcat.autoconfigure.servlet.TomcatServletWebServerAutoConfiguration,"
                        + "org.springframework.boot.tomcat.autoconfigure.actuate.web.server.TomcatServletManagementContextAutoConfiguration"),
        REACTOR_NETTY("reactive", FluxTestApp.class, "flux",
                "org.springframework.boot.tomcat.autoconfigure.reactive.TomcatReactiveWebServerAutoConfiguration,"
                        + "org.springframework.boot.jetty.autoconfigure.reactive.JettyReactiveWebServerAutoConfiguration,"
                        + "org.springframework.boot.tomcat.autoconfigure.actuate.web.server.TomcatReactiveManagementContextAutoConfiguration,"
                        + "org.springframework.boot.jetty.autoconfigure.actuate.web.server.JettyReactiveManagementContextAutoConfiguration");

        final String type;
        final Class<?> app;
        final String label;
        final String excludes;

        Server(String type, Class<?> app, String label, String excludes) {
            this.type = type;
            this.app = app;
            this.label = label;
            this.excludes = excludes;
        }
    }

    abstract Server server();

    /** The server's class as Spring Boot names it: TomcatWebServer, JettyWebServer, NettyWebServer. */
    abstract String webServerClass();

    @AfterEach
    void stopApps() {
        for (ConfigurableApplicationContext app : started) {
            app.close();
        }
        assertThat(ns.namespace().skLookupProgramIds()).as("nothing attached after the apps stopped").isEmpty();
    }

    // ---- acceptance 1: the whole ranges reach the controller, with the dialled address ----------

    @Test
    void steersEdgeAndMiddleAddressesAndPortsToTheControllerWithTheDialledAddress() {
        start();
        List<InetSocketAddress> targets = new ArrayList<>();
        for (String host : List.of("192.0.2.0", "192.0.2.1", "192.0.2.128", "192.0.2.254")) {
            for (int port : List.of(80, 8000, 8042, 8099)) {
                targets.add(addr(host, port));
            }
        }
        for (String host : List.of("2001:db8:77::1", "2001:db8:77::8:9", "2001:db8:77:0:ffff:ffff:ffff:ffff")) {
            for (int port : List.of(1, 443, 8080, 65535)) {
                targets.add(addr(host, port));
            }
        }
        for (InetSocketAddress target : targets) {
            Answer a = HttpProbe.get(ns, target, "/whoami");
            assertThat(a.status()).as("GET /whoami at %s", target).isEqualTo(200);
            // The controller sees the address the client dialled, and the client itself.
            assertThat(a.body()).isEqualTo(server().label + " local=" + text(target) + " remote=" + text(a.clientAddress())
                    + " secure=false");
        }
    }

    @Test
    void refusesAddressesAndPortsOutsideTheRulesAndLeavesAPlainServerItsTraffic() throws Exception {
        // A service of someone else's in the same namespace, on an address of the /24 but a port outside the rules.
        try (ServerSocket plain = ns.call(() -> new ServerSocket(7000, 50, InetAddress.getByName("192.0.2.1")))) {
            CompletableFuture<String> served = CompletableFuture.supplyAsync(() -> {
                try (Socket s = plain.accept()) {
                    s.getOutputStream().write("plain\n".getBytes(StandardCharsets.US_ASCII));
                    return "accepted";
                } catch (Exception e) {
                    return e.toString();
                }
            });
            start();
            for (InetSocketAddress outside : List.of(addr("192.0.2.1", 79), addr("192.0.2.1", 81), addr("192.0.2.1", 7999),
                    addr("192.0.2.1", 8100), addr("2001:db8:78::1", 80))) {
                if (outside.getAddress() instanceof java.net.Inet6Address) {
                    // Outside the /64 and without a local route: not even delivered locally.
                    assertThat(unreachableOrRefused(outside)).as("%s", outside).isTrue();
                } else {
                    assertThat(HttpProbe.get(ns, outside, "/whoami").refused()).as("%s refused", outside).isTrue();
                }
            }
            assertThat(io.sksteer.testkit.LabelledListeners.tcpLine(ns, addr("192.0.2.1", 7000))).isEqualTo("plain");
            assertThat(served.get(5, TimeUnit.SECONDS)).isEqualTo("accepted");
        }
    }

    // ---- ports and addresses of the server ----------------------------------------------------------

    @Test
    void steersToAServerOnItsConfiguredPortAndAddress() throws Exception {
        int port;
        try (ServerSocket probe = ns.call(() -> new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1")))) {
            port = probe.getLocalPort(); // free in this namespace
        }
        ConfigurableApplicationContext app = start(new String[] {"server.port=" + port, "server.address=127.0.0.1",
                "sksteer.listeners.site.rules[1].prefixes[0]=192.0.2.200/32"});
        assertThat(((WebServerApplicationContext) app).getWebServer().getPort()).isEqualTo(port);
        Answer a = HttpProbe.get(ns, addr("192.0.2.7", 8001), "/whoami");
        assertThat(a.body()).startsWith(server().label + " local=192.0.2.7:8001 ");
        // Its own address still works as before.
        assertThat(HttpProbe.get(ns, addr("127.0.0.1", port), "/whoami").body()).startsWith(server().label + " local=127.0.0.1:" + port);
        JsonNode listener = report(app).get("listeners").get(0);
        assertThat(listener.get("boundAddress").asText()).isEqualTo("127.0.0.1:" + port);
    }

    @Test
    void refusesIpv6RulesForAServerBoundToAnIpv4AddressNamingTheProperty() {
        assertThatThrownBy(() -> start(new String[] {"server.address=127.0.0.1"}))
                .hasStackTraceContaining("sksteer.listeners.site.rules[1].prefixes[0]")
                .hasStackTraceContaining("server.address");
        assertThat(ns.namespace().skLookupProgramIds()).isEmpty();
    }

    @Test
    void failsNamingTheServerWhenTheSocketCannotBeFoundAndAttachesNothing() {
        // No separate management server runs: the socket asked for does not exist.
        assertThatThrownBy(() -> start(new String[] {"sksteer.listeners.site.socket=management-server"}))
                .hasStackTraceContaining("cannot steer to the management server")
                .hasStackTraceContaining("no separate management server has started");
        assertThat(ns.namespace().skLookupProgramIds()).isEmpty();
    }

    // ---- acceptance 2: endpoint, explain, health, Prometheus; the management server stays apart --------

    @Test
    void theEndpointExplainHealthAndPrometheusShowTheWebServerListenerWithLiveCounters() throws Exception {
        ConfigurableApplicationContext app = start(new String[] {"management.server.port=0", "management.server.address=127.0.0.1",
                // The test destroys the main server by hand; Reactor Netty's then waits out the phase timeout at close.
                "spring.lifecycle.timeout-per-shutdown-phase=2s"});
        for (int i = 0; i < 5; i++) {
            assertThat(HttpProbe.get(ns, addr("192.0.2.9", 8000 + i), "/whoami").status()).isEqualTo(200);
        }
        // The management server is not steered: the actuator is not on the steered addresses.
        assertThat(HttpProbe.get(ns, addr("192.0.2.9", 80), "/actuator/health").status()).isEqualTo(404);

        JsonNode report = report(app);
        JsonNode listener = report.get("listeners").get(0);
        assertThat(listener.get("name").asText()).isEqualTo("site");
        assertThat(listener.get("socket").asText()).isEqualTo("the web server (" + webServerClass() + ")");
        assertThat(listener.get("inSockmap").asBoolean()).isTrue();
        JsonNode range = null;
        for (JsonNode r : report.get("rules")) {
            if (r.get("ports").asText().equals("8000-8099")) {
                range = r;
            }
        }
        assertThat(range).isNotNull();
        assertThat(range.get("steered").asLong()).isEqualTo(5);

        JsonNode explain = JSON.readTree(management(app, "/actuator/sksteer/explain?protocol=tcp&address=2001:db8:77::5&port=9").body());
        assertThat(explain.get("listener").asText()).isEqualTo("site");
        assertThat(explain.get("steered").asBoolean()).isTrue();

        String prometheus = management(app, "/actuator/prometheus").body();
        assertThat(prometheus).containsPattern(
                "sksteer_lookups_total\\{[^}]*listener=\"site\"[^}]*outcome=\"steered\"[^}]*rule=\"tcp 192.0.2.0/24 8000-8099\"[^}]*\\} 5\\.0");

        assertThat(management(app, "/actuator/health").status()).isEqualTo(200);
        // The web server goes away (its socket closes): health says so, naming the listener.
        var webServer = ((WebServerApplicationContext) app).getWebServer();
        webServer.stop();
        webServer.destroy();
        Answer down = Awaits.until(() -> management(app, "/actuator/health"), r -> r.status() == 503, Duration.ofSeconds(2));
        assertThat(down.status()).isEqualTo(503);
        assertThat(down.body()).contains("listener 'site' is closed (the web server (" + webServerClass() + ")'s socket");
    }

    // ---- acceptance 3: graceful shutdown under a steady client loop ----------------------------------------

    @Test
    void aGracefulShutdownUnderASteadyClientLoopResetsNoConnectionAndLeavesNothingBehind() throws Exception {
        ConfigurableApplicationContext app = start(new String[] {"server.shutdown=graceful"});
        int port = ((WebServerApplicationContext) app).getWebServer().getPort();
        InetSocketAddress target = addr("192.0.2.50", 8050);
        AtomicBoolean stop = new AtomicBoolean();
        AtomicInteger served = new AtomicInteger();
        AtomicInteger refused = new AtomicInteger();
        ConcurrentLinkedQueue<String> broken = new ConcurrentLinkedQueue<>();
        // Four clients connecting back to back, so that connections wait in the accept queue at the detach.
        List<Thread> loops = ns.call(() -> {
            List<Thread> threads = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                Thread t = new Thread(() -> {
                    while (!stop.get()) {
                        classify(target, "/whoami", served, refused, broken);
                    }
                }, "client-loop-" + i);
                t.start();
                threads.add(t);
            }
            return threads;
        });
        Awaits.until(served::get, n -> n >= 50, Duration.ofSeconds(10));
        // Three requests in flight when the shutdown begins: graceful shutdown lets them finish.
        SLOW_STARTED.set(0);
        List<CompletableFuture<Answer>> slow = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            slow.add(CompletableFuture.supplyAsync(() -> HttpProbe.get(ns, addr("192.0.2.51", 8051), "/slow")));
        }
        Awaits.until(SLOW_STARTED::get, n -> n >= 3, Duration.ofSeconds(5));
        int before = served.get();
        started.remove(app);
        app.close();
        stop.set(true);
        for (Thread loop : loops) {
            loop.join(10_000);
            assertThat(loop.isAlive()).isFalse();
        }
        for (CompletableFuture<Answer> f : slow) {
            assertThat(f.get(5, TimeUnit.SECONDS).body()).isEqualTo("slow done");
        }
        System.out.println("[sksteer] " + getClass().getSimpleName() + " graceful shutdown: " + served.get() + " served ("
                + (served.get() - before) + " during the stop), " + refused.get() + " refused, " + broken.size() + " broken");
        assertThat(broken).as("connections that completed their handshake and were then reset or closed unanswered").isEmpty();
        // The loops ran across the stop: connections after the detach were refused (nothing listens
        // on the steered address any more), none that got through was cut.
        assertThat(refused.get()).as("connections refused after the detach").isPositive();
        assertThat(served.get()).as("requests served before the stop").isGreaterThanOrEqualTo(before);
        assertThat(ns.namespace().skLookupProgramIds()).as("attached after the stop").isEmpty();
        assertThat(Sockets.listeningTcp(port)).as("listening sockets left on the server's port").isEmpty();
    }

    // ---- the request guard, on every server --------------------------------------------------------

    @Test
    void aWriteOverTheBodyLimitAndAMalformedExplainAreRefusedBeforeTheActuatorParsesThem() throws Exception {
        ConfigurableApplicationContext app = start(new String[] {"sksteer.live-changes.enabled=true",
                "management.endpoint.sksteer.access=unrestricted", "sksteer.live-changes.max-body-size=1KB"});
        InetSocketAddress own = addr("127.0.0.1", ((WebServerApplicationContext) app).getWebServer().getPort());
        String big = "{\"rules\": \"" + "site 192.0.2.0/24 80;".repeat(200) + "\"}";
        Answer sized = HttpProbe.postJson(ns, own, "/actuator/sksteer/add", big);
        assertThat(sized.status()).as(sized.body()).isEqualTo(413);
        assertThat(sized.body()).contains("sksteer.live-changes.max-body-size");
        assertThat(postChunked(own, "/actuator/sksteer/add", big)).as("chunked, without a length").startsWith("HTTP/1.1 413");
        Answer small = HttpProbe.postJson(ns, own, "/actuator/sksteer/remove", "{\"rules\": \"site 192.0.2.0/24 80\"}");
        assertThat(small.status()).as(small.body()).isEqualTo(200);
        Answer repeated = HttpProbe.get(ns, own, "/actuator/sksteer/explain?protocol=tcp&address=192.0.2.1&port=80&port=81");
        assertThat(repeated.status()).isEqualTo(400);
        assertThat(repeated.body()).contains("given more than once");
    }

    /** A POST with a chunked body: the status line of the answer. */
    private String postChunked(InetSocketAddress target, String path, String body) {
        return ns.call(() -> {
            try (Socket s = new Socket()) {
                s.connect(target, 3000);
                s.setSoTimeout(5000);
                byte[] b = body.getBytes(StandardCharsets.US_ASCII);
                StringBuilder req = new StringBuilder("POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                        + "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n");
                for (int at = 0; at < b.length; at += 512) {
                    int n = Math.min(512, b.length - at);
                    req.append(Integer.toHexString(n)).append("\r\n").append(new String(b, at, n, StandardCharsets.US_ASCII)).append("\r\n");
                }
                req.append("0\r\n\r\n");
                s.getOutputStream().write(req.toString().getBytes(StandardCharsets.US_ASCII));
                var in = new java.io.BufferedReader(new java.io.InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII));
                return String.valueOf(in.readLine());
            }
        });
    }

    // ---- TLS ----------------------------------------------------------------------------------------

    @Test
    void steersTlsTheSameWay() throws Exception {
        Path keystore = temp.resolve("server.p12");
        Process keytool = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "keytool").toString(), "-genkeypair",
                "-alias", "sksteer", "-keyalg", "EC", "-groupname", "secp256r1", "-dname", "CN=sksteer.test", "-validity", "2",
                "-storetype", "PKCS12", "-keystore", keystore.toString(), "-storepass", "changeit", "-keypass", "changeit")
                .redirectErrorStream(true).start();
        assertThat(keytool.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(keytool.exitValue()).as(new String(keytool.getInputStream().readAllBytes(), StandardCharsets.UTF_8)).isZero();
        start(new String[] {"server.ssl.key-store=" + keystore.toUri(), "server.ssl.key-store-password=changeit",
                "server.ssl.key-store-type=PKCS12", "server.ssl.key-alias=sksteer"});
        SSLContext tls = SSLContext.getInstance("TLS");
        tls.init(null, new TrustManager[] {new OnlyOurCertificate()}, null);
        InetSocketAddress target = addr("2001:db8:77::443", 443);
        Answer a = HttpProbe.get(ns, null, target, "/whoami", tls);
        assertThat(a.body()).isEqualTo(server().label + " local=" + text(target) + " remote=" + text(a.clientAddress()) + " secure=true");
        Answer v4 = HttpProbe.get(ns, null, addr("192.0.2.44", 8044), "/whoami", tls);
        assertThat(v4.body()).startsWith(server().label + " local=192.0.2.44:8044 ").endsWith(" secure=true");
    }

    /** Trusts the test's own self-signed certificate (CN=sksteer.test) and nothing else. */
    private static final class OnlyOurCertificate implements X509TrustManager {
        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) throws java.security.cert.CertificateException {
            if (!chain[0].getSubjectX500Principal().getName().equals("CN=sksteer.test")) {
                throw new java.security.cert.CertificateException("not the test's certificate: " + chain[0].getSubjectX500Principal());
            }
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return new X509Certificate[0];
        }
    }

    // ---- helpers -------------------------------------------------------------------------------------

    ConfigurableApplicationContext start(String... extra) {
        List<String> properties = new ArrayList<>(List.of(
                "spring.main.web-application-type=" + server().type,
                "spring.autoconfigure.exclude=" + server().excludes + "," + NO_SECURITY,
                "spring.main.banner-mode=off",
                "sksteer.netns=" + ns.path(),
                "sksteer.listeners.site.socket=web-server",
                "sksteer.listeners.site.rules[0].prefixes[0]=192.0.2.0/24",
                "sksteer.listeners.site.rules[0].ports[0]=80",
                "sksteer.listeners.site.rules[0].ports[1]=8000-8099",
                "sksteer.listeners.site.rules[1].prefixes[0]=2001:db8:77::/64",
                "sksteer.listeners.site.rules[1].ports[0]=all",
                "server.port=0",
                "management.endpoints.web.exposure.include=sksteer,health,metrics,prometheus",
                "management.endpoint.health.show-details=always"));
        properties.addAll(List.of(extra));
        // Started on a thread inside the namespace: the server's socket is made there.
        ConfigurableApplicationContext app = ns.call(() -> new SpringApplicationBuilder(server().app)
                .properties(properties.toArray(String[]::new)).run());
        started.add(app);
        assertThat(app.getBean(SksteerLifecycle.class).isRunning()).isTrue();
        return app;
    }

    private Answer management(ConfigurableApplicationContext app, String path) {
        String port = app.getEnvironment().getProperty("local.management.port");
        if (port == null) {
            port = String.valueOf(((WebServerApplicationContext) app).getWebServer().getPort());
        }
        return HttpProbe.get(ns, addr("127.0.0.1", Integer.parseInt(port)), path);
    }

    private JsonNode report(ConfigurableApplicationContext app) {
        Answer a = management(app, "/actuator/sksteer");
        assertThat(a.status()).as(a.body()).isEqualTo(200);
        return JSON.readTree(a.body());
    }

    private void classify(InetSocketAddress target, String path, AtomicInteger served, AtomicInteger refused,
            ConcurrentLinkedQueue<String> broken) {
        try (Socket s = new Socket()) {
            try {
                s.connect(target, 3000);
            } catch (java.net.ConnectException e) {
                refused.incrementAndGet();
                return;
            }
            s.setSoTimeout(10_000);
            s.getOutputStream().write(("GET " + path + " HTTP/1.0\r\nHost: x\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            byte[] all = s.getInputStream().readAllBytes();
            String answer = new String(all, StandardCharsets.UTF_8);
            if (answer.startsWith("HTTP/1.") && answer.contains(" 200 ")) {
                served.incrementAndGet();
            } else {
                broken.add("answer '" + answer + "'");
            }
        } catch (Exception e) {
            broken.add(e.toString());
        }
    }

    private boolean unreachableOrRefused(InetSocketAddress target) {
        return ns.call(() -> {
            try (Socket s = new Socket()) {
                s.connect(target, 3000);
                return false;
            } catch (java.net.ConnectException | java.net.NoRouteToHostException e) {
                return true;
            } catch (java.net.SocketException e) {
                return e.getMessage() != null && e.getMessage().contains("unreachable");
            }
        });
    }

    static String text(InetSocketAddress a) {
        return text(a.getAddress(), a.getPort());
    }

    /** {@code 192.0.2.1:80} or {@code [2001:db8:77:0:0:0:0:1]:443}. */
    static String text(InetAddress address, int port) {
        String host = address.getHostAddress();
        int scope = host.indexOf('%');
        if (scope >= 0) {
            host = host.substring(0, scope);
        }
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
    }
}
