package io.sksteer.sample;

import static org.assertj.core.api.Assertions.assertThat;

import io.sksteer.testkit.ChildJvm;
import io.sksteer.testkit.HttpProbe;
import io.sksteer.testkit.KernelTest;
import io.sksteer.testkit.TestNetns;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Explain never resolves a name. The sample runs in a child JVM inside the test's namespace and
 * in a mount namespace whose /etc/resolv.conf names a stub resolver on 127.0.0.53 in that
 * network namespace; the stub counts the queries it receives. A control lookup through the same
 * set-up (getent) shows that the stub does see queries.
 */
@KernelTest
class ExplainResolvesNoNamesKernelTest {

    private static final int PORT = 18081;

    @RegisterExtension
    static final TestNetns ns = TestNetns.perClass();

    @TempDir
    Path temp;

    @Test
    void namesAndOddLiteralsAreRefusedWithoutASingleDnsQuery() throws Exception {
        Path resolv = temp.resolve("resolv.conf");
        Files.writeString(resolv, "nameserver 127.0.0.53\noptions timeout:1 attempts:1\n");
        List<String> wrapper = List.of("unshare", "-m", "sh", "-c", "mount --bind \"$0\" /etc/resolv.conf && exec \"$@\"",
                resolv.toString(), "nsenter", "--net=" + ns.path(), "--");
        try (DatagramChannel stub = ns.call(() -> DatagramChannel.open().bind(new InetSocketAddress("127.0.0.53", 53)))) {
            stub.configureBlocking(false);
            // Control: a lookup through the same set-up reaches the stub.
            List<String> control = new java.util.ArrayList<>(wrapper);
            control.addAll(List.of("getent", "hosts", "control.sksteer.invalid"));
            Process p = new ProcessBuilder(control).redirectErrorStream(true).start();
            assertThat(p.waitFor(20, TimeUnit.SECONDS)).isTrue();
            assertThat(drain(stub)).as("queries of the control lookup").isPositive();

            try (ChildJvm.Running app = ChildJvm.start(wrapper, List.of(), SampleApplication.class.getName(), "--server.port=" + PORT)) {
                assertThat(app.awaitOutput("Started SampleApplication", Duration.ofSeconds(90))).as(app.output()).isTrue();
                drain(stub); // whatever start-up itself looked up
                for (String address : List.of("dead.beef", "999.1.1.1", "dead.beef.1975", "127.1", "2135752962", "example.com",
                        "localhost", "1.2.3.4.in-addr.arpa", "::ffff:127.0.0.1")) {
                    HttpProbe.Answer r = HttpProbe.get(ns, new InetSocketAddress("127.0.0.1", PORT),
                            "/actuator/sksteer/explain?protocol=tcp&address=" + address + "&port=80");
                    assertThat(r.status()).as("%s: %s", address, r.body()).isEqualTo(400);
                }
                HttpProbe.Answer ok = HttpProbe.get(ns, new InetSocketAddress("127.0.0.1", PORT),
                        "/actuator/sksteer/explain?protocol=tcp&address=127.77.1.2&port=80");
                assertThat(ok.status()).as(ok.body()).isEqualTo(200);
                assertThat(drain(stub)).as("DNS queries the stub saw during the explain requests").isZero();
            }
        }
    }

    /** Datagrams waiting on the stub, taken off; their query names are printed. */
    private static int drain(DatagramChannel stub) throws Exception {
        int n = 0;
        ByteBuffer b = ByteBuffer.allocate(512);
        while (stub.receive(b) != null) {
            b.flip();
            System.out.println("[sksteer] ExplainResolvesNoNamesKernelTest: the stub got a query for " + queryName(b));
            b.clear();
            n++;
        }
        return n;
    }

    /** The QNAME of a DNS query (after the 12-byte header: length-prefixed labels). */
    private static String queryName(ByteBuffer b) {
        StringBuilder name = new StringBuilder();
        int at = 12;
        while (at < b.limit() && b.get(at) != 0) {
            int len = b.get(at) & 0xff;
            for (int i = 1; i <= len && at + i < b.limit(); i++) {
                name.append((char) b.get(at + i));
            }
            name.append('.');
            at += len + 1;
        }
        return name.toString();
    }
}
