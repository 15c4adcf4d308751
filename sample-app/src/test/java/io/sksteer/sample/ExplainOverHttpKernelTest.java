package io.sksteer.sample;

import static org.assertj.core.api.Assertions.assertThat;

import io.sksteer.netty.ListenerHandler;
import io.sksteer.testkit.HttpProbe;
import io.sksteer.testkit.KernelTest;
import io.sksteer.testkit.LabelledListeners;
import io.sksteer.testkit.TestNetns;
import io.sksteer.testkit.TestSockets;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.DatagramPacket;
import java.net.InetSocketAddress;
import java.net.PortUnreachableException;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Explain, asked over HTTP, agrees with real traffic for a table of TCP and UDP tuples over IPv4
 * and IPv6, inside and outside the rules, with overlapping prefixes and edge ports. The sample
 * runs with two more listeners ('api' TCP, 'dns' UDP) whose rules overlap the sample's own.
 */
@KernelTest
class ExplainOverHttpKernelTest {

    @RegisterExtension
    static final TestNetns ns = TestNetns.perClass("2001:db8::/64");
    private static ConfigurableApplicationContext app;

    /** The extra listeners' handlers. */
    @Configuration(proxyBeanMethods = false)
    static class Extra {
        @Bean
        ListenerHandler api() {
            return LabelledListeners.tcp("api");
        }

        @Bean
        ListenerHandler dns() {
            return LabelledListeners.udp("dns");
        }
    }

    @BeforeAll
    static void start() {
        app = SampleApp.run(ns, new Class<?>[] {SampleApplication.class, Extra.class},
                "--sksteer.netns=" + ns.path(), "--server.port=0",
                // A list is bound from one source whole: the sample's rule is repeated here.
                "--sksteer.listeners.web.rules[0].prefixes=127.77.0.0/16",
                "--sksteer.listeners.web.rules[0].ports=80,443,8000-8999",
                "--sksteer.listeners.web.rules[1].prefixes=2001:db8::/64",
                "--sksteer.listeners.web.rules[1].ports=443",
                "--sksteer.listeners.api.rules[0].prefixes=127.77.1.0/24,2001:db8::1",
                "--sksteer.listeners.api.rules[0].ports=8000-8099,443",
                "--sksteer.listeners.api.rules[1].prefixes=127.77.1.2",
                "--sksteer.listeners.api.rules[1].ports=all",
                "--sksteer.listeners.dns.protocol=udp",
                "--sksteer.listeners.dns.rules[0].prefixes=127.77.1.0/24,2001:db8::/64",
                "--sksteer.listeners.dns.rules[0].ports=53,5353");
    }

    @AfterAll
    static void stop() {
        if (app != null) {
            app.close();
        }
        assertThat(ns.namespace().skLookupProgramIds()).isEmpty();
    }

    @Test
    void explainAgreesWithRealTrafficOverHttp() throws Exception {
        List<Object[]> table = List.of(
                tcp("127.77.1.2", 22), tcp("127.77.1.2", 80), tcp("127.77.1.3", 80), tcp("127.77.1.3", 443),
                tcp("127.77.1.3", 8000), tcp("127.77.1.3", 8099), tcp("127.77.1.3", 8100), tcp("127.77.2.3", 8000),
                tcp("127.77.2.3", 8999), tcp("127.77.2.3", 9000), tcp("127.77.2.3", 7999), tcp("127.78.0.1", 80),
                tcp("127.78.9.9", 8999), tcp("127.78.9.9", 9000), tcp("127.79.0.1", 80),
                tcp("2001:db8::1", 443), tcp("2001:db8::2", 443), tcp("2001:db8::2", 444),
                udp("127.77.1.3", 53), udp("127.77.1.3", 5353), udp("127.77.2.3", 5353), udp("127.77.2.3", 53),
                udp("127.77.1.3", 5354), udp("2001:db8::5", 53), udp("2001:db8::5", 54), udp("127.78.0.1", 5353));
        for (Object[] t : table) {
            boolean isTcp = (Boolean) t[0];
            InetSocketAddress target = (InetSocketAddress) t[1];
            String real = isTcp ? tcpListener(target) : udpListener(target);
            String path = "/actuator/sksteer/explain?protocol=" + (isTcp ? "tcp" : "udp")
                    + "&address=" + target.getAddress().getHostAddress() + "&port=" + target.getPort();
            HttpProbe.Answer r = SampleApp.get(ns, app, path);
            assertThat(r.status()).as(r.body()).isEqualTo(200);
            JsonNode explain = JsonMapper.builder().build().readTree(r.body());
            String said = explain.get("listener").isNull() ? null : explain.get("listener").asText();
            assertThat(said).as("%s %s: explain %s, real traffic reached %s", isTcp ? "tcp" : "udp", target, r.body(), real)
                    .isEqualTo(real);
        }
        assertThat(table).hasSizeGreaterThanOrEqualTo(20);
    }

    private static Object[] tcp(String host, int port) {
        return new Object[] {true, new InetSocketAddress(host, port)};
    }

    private static Object[] udp(String host, int port) {
        return new Object[] {false, new InetSocketAddress(host, port)};
    }

    /** Which listener answered a TCP connection, or null when refused. */
    private static String tcpListener(InetSocketAddress target) {
        return ns.call(() -> {
            try (Socket s = new Socket()) {
                s.connect(target, TestSockets.TIMEOUT_MS);
                s.setSoTimeout(TestSockets.TIMEOUT_MS);
                // The Netty 'web' responder answers "not found" for this path; the sample's controller names 'site'.
                s.getOutputStream().write("GET /hello HTTP/1.0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
                for (String line = in.readLine(); line != null; line = in.readLine()) {
                    if (line.equals("not found")) {
                        return "web";
                    }
                    if (line.contains("\"listener\":\"site\"")) {
                        return "site";
                    }
                    if (line.startsWith("api ")) {
                        return "api";
                    }
                }
                throw new AssertionError("no listener label from " + target);
            } catch (java.net.ConnectException e) {
                return null;
            }
        });
    }

    /** Which listener answered a datagram (echo repeats it, dns labels it), or null when refused. */
    private static String udpListener(InetSocketAddress target) {
        return ns.call(() -> {
            try (DatagramChannel client = DatagramChannel.open(target.getAddress() instanceof java.net.Inet6Address
                    ? java.net.StandardProtocolFamily.INET6 : java.net.StandardProtocolFamily.INET).connect(target)) {
                client.write(ByteBuffer.wrap("probe".getBytes(StandardCharsets.UTF_8)));
                client.socket().setSoTimeout(TestSockets.TIMEOUT_MS);
                DatagramPacket p = new DatagramPacket(new byte[256], 256);
                client.socket().receive(p);
                String reply = new String(p.getData(), 0, p.getLength(), StandardCharsets.UTF_8);
                return reply.equals("probe") ? "echo" : reply.startsWith("dns ") ? "dns" : "unexpected: " + reply;
            } catch (PortUnreachableException e) {
                return null;
            }
        });
    }
}
