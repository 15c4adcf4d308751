package io.sksteer.bpf.sklookup;

import static io.sksteer.bpf.Asm.exit;
import static io.sksteer.bpf.Asm.jeq;
import static io.sksteer.bpf.Asm.jne;
import static io.sksteer.bpf.Asm.label;
import static io.sksteer.bpf.Asm.mov;
import static io.sksteer.bpf.Reg.R0;
import static io.sksteer.bpf.Reg.R6;
import static io.sksteer.bpf.Reg.R7;
import static io.sksteer.bpf.sklookup.SkLookup.checkProtocol;
import static io.sksteer.bpf.sklookup.SkLookup.drop;
import static io.sksteer.bpf.sklookup.SkLookup.localPort;
import static io.sksteer.testkit.TestSockets.addr;
import static io.sksteer.testkit.TestSockets.connectAndAccept;
import static io.sksteer.testkit.TestSockets.sendAndReceive;
import static io.sksteer.testkit.TestSockets.tcpListener;
import static io.sksteer.testkit.TestSockets.tcpRefused;
import static io.sksteer.testkit.TestSockets.udpRefused;
import static io.sksteer.testkit.TestSockets.udpSocket;
import static org.assertj.core.api.Assertions.assertThat;

import io.sksteer.bpf.BpfProgram;
import io.sksteer.bpf.NetnsLink;
import io.sksteer.bpf.ProgramSpec;
import io.sksteer.testkit.KernelTest;
import io.sksteer.testkit.TestNetns;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.DatagramChannel;
import java.nio.channels.ServerSocketChannel;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The three complete examples of clj-ebpf's sk_lookup guide ({@code docs/guides/sk-lookup-guide.md}:
 * port filter, TCP-only filter, program builder), written with this DSL, attached to a namespace
 * made for this class, and checked with real TCP and UDP traffic to sockets bound at 127.0.0.1.
 */
@KernelTest
class GuideProgramsKernelTest {

    private static final String HOST = "127.0.0.1";
    private static final int[] PORTS = {8080, 9090, 443, 8443};

    @RegisterExtension
    static final TestNetns ns = TestNetns.perClass();
    private static final Map<Integer, ServerSocketChannel> TCP = new HashMap<>();
    private static final Map<Integer, DatagramChannel> UDP = new HashMap<>();
    private static final AtomicInteger MESSAGES = new AtomicInteger();

    @BeforeAll
    static void listeners() {
        for (int port : PORTS) {
            TCP.put(port, tcpListener(ns, StandardProtocolFamily.INET, HOST, port));
            UDP.put(port, udpSocket(ns, StandardProtocolFamily.INET, HOST, port));
        }
    }

    @AfterAll
    static void closeAll() throws IOException {
        for (ServerSocketChannel s : TCP.values()) {
            s.close();
        }
        for (DatagramChannel d : UDP.values()) {
            d.close();
        }
        TCP.clear();
        UDP.clear();
    }

    @AfterEach
    void nothingLeftAttached() {
        assertThat(ns.namespace().skLookupProgramIds()).isEmpty();
    }

    // ---- the guide's programs ----------------------------------------------------------------------

    /**
     * Port-based filter. Guide: prologue; {@code local_port → r7}; {@code jeq r7, 8080, +2};
     * drop; pass.
     */
    static ProgramSpec portFilter() {
        return SkLookupProgram.builder("port_filter")
                .body(List.of(localPort(R6, R7), jeq(R7, 8080, "pass")))   // 8080: skip the drop
                .body(drop())                                               // every other port
                .body(List.of(label("pass")))
                .defaultAction(Verdict.PASS)                                // the guide's final pass
                .build();
    }

    /** Protocol filter (TCP only). Guide: prologue; check-protocol tcp, +2; drop; pass. */
    static ProgramSpec tcpOnly() {
        return SkLookupProgram.builder("tcp_only")
                .body(checkProtocol(R6, R7, Protocol.TCP, "pass"))         // TCP: skip the drop
                .body(drop())                                               // UDP
                .body(List.of(label("pass")))
                .defaultAction(Verdict.PASS)
                .build();
    }

    /** Program builder example: body passes local port 443, anything else falls to the default DROP. */
    static ProgramSpec builderExample() {
        return SkLookupProgram.builder("custom_filter")
                .ctx(R6)
                .body(List.of(
                        localPort(R6, R7),
                        jne(R7, 443, "out"),                               // not 443: to the default
                        mov(R0, 1),                                         // SK_PASS
                        exit(),
                        label("out")))
                .defaultAction(Verdict.DROP)
                .build();
    }

    // ---- the programs assemble to the guide's jumps ------------------------------------------------

    @Test
    void theLabelsAssembleToTheGuidesRelativeJumps() {
        // Seven slots each, as in the guide: slot 0 is the prologue (mov r6, r1), slot 1 the
        // context load, slot 2 the jump, which skips two instructions (the guide's "+2").
        assertThat(slots(portFilter())).isEqualTo(7);
        assertThat(jumpOffset(portFilter(), 2)).isEqualTo(2);
        assertThat(slots(tcpOnly())).isEqualTo(7);
        assertThat(jumpOffset(tcpOnly(), 2)).isEqualTo(2);
        assertThat(slots(builderExample())).isEqualTo(7);
        assertThat(jumpOffset(builderExample(), 2)).isEqualTo(2);
    }

    private static int slots(ProgramSpec spec) {
        return spec.bytecode().slots();
    }

    private static int jumpOffset(ProgramSpec spec, int slot) {
        return ByteBuffer.wrap(spec.bytecode().code()).order(ByteOrder.LITTLE_ENDIAN).getShort(slot * 8 + 2);
    }

    // ---- (a) port filter ---------------------------------------------------------------------------

    @Test
    void portFilterLetsOnly8080Through() {
        assertReachable(9090);

        try (BpfProgram program = BpfProgram.load(portFilter(), List.of());
                NetnsLink link = NetnsLink.attach(program, ns.namespace())) {
            assertThat(ns.namespace().skLookupProgramIds()).containsExactly(program.id());

            assertThat(tcpAccepted(8080)).isEqualTo(addr(HOST, 8080));
            assertThat(udpReceived(8080)).isTrue();
            assertThat(tcpRefused(ns, addr(HOST, 9090))).as("TCP to 9090 with the port filter").isTrue();
            assertThat(udpRefused(ns, addr(HOST, 9090))).as("UDP to 9090 with the port filter").isTrue();
            assertThat(tcpRefused(ns, addr(HOST, 443))).isTrue();
        }

        assertReachable(9090);
    }

    @Test
    void portFilterVerdictsForManyPorts() {
        try (BpfProgram program = BpfProgram.load(portFilter(), List.of())) {
            for (Protocol protocol : Protocol.values()) {
                for (int port : new int[] {1, 80, 443, 8079, 8080, 8081, 9090, 65535}) {
                    assertThat(testRun(program, protocol, port)).as("%s port %d", protocol, port)
                            .isEqualTo(port == 8080 ? Verdict.PASS : Verdict.DROP);
                }
            }
        }
    }

    // ---- (b) TCP only ------------------------------------------------------------------------------

    @Test
    void tcpOnlyFilterPassesTcpAndDropsUdp() {
        assertThat(udpReceived(9090)).as("UDP to 9090 before attaching").isTrue();

        try (BpfProgram program = BpfProgram.load(tcpOnly(), List.of());
                NetnsLink link = NetnsLink.attach(program, ns.namespace())) {
            assertThat(tcpAccepted(9090)).isEqualTo(addr(HOST, 9090));
            assertThat(tcpAccepted(8080)).isEqualTo(addr(HOST, 8080));
            assertThat(udpRefused(ns, addr(HOST, 9090))).as("UDP to 9090 with the TCP-only filter").isTrue();
            assertThat(udpRefused(ns, addr(HOST, 8080))).as("UDP to 8080 with the TCP-only filter").isTrue();

            assertThat(testRun(program, Protocol.TCP, 9090)).isEqualTo(Verdict.PASS);
            assertThat(testRun(program, Protocol.UDP, 9090)).isEqualTo(Verdict.DROP);
        }

        assertThat(udpReceived(9090)).as("UDP to 9090 after closing the link").isTrue();
    }

    // ---- (c) the builder example -------------------------------------------------------------------

    @Test
    void builderExamplePasses443AndDropsEverythingElse() {
        assertReachable(8443);

        try (BpfProgram program = BpfProgram.load(builderExample(), List.of());
                NetnsLink link = NetnsLink.attach(program, ns.namespace())) {
            assertThat(tcpAccepted(443)).isEqualTo(addr(HOST, 443));
            assertThat(udpReceived(443)).isTrue();
            assertThat(tcpRefused(ns, addr(HOST, 8443))).as("TCP to 8443 with the builder example").isTrue();
            assertThat(udpRefused(ns, addr(HOST, 8443))).as("UDP to 8443 with the builder example").isTrue();
            assertThat(tcpRefused(ns, addr(HOST, 8080))).isTrue();

            assertThat(testRun(program, Protocol.UDP, 443)).isEqualTo(Verdict.PASS);
            assertThat(testRun(program, Protocol.TCP, 442)).isEqualTo(Verdict.DROP);
        }

        assertReachable(8443);
    }

    // ---- helpers -----------------------------------------------------------------------------------

    /** TCP and UDP to {@code port} both reach the sockets bound there. */
    private static void assertReachable(int port) {
        assertThat(tcpAccepted(port)).as("TCP to %d", port).isEqualTo(addr(HOST, port));
        assertThat(udpReceived(port)).as("UDP to %d", port).isTrue();
    }

    private static InetSocketAddress tcpAccepted(int port) {
        return connectAndAccept(ns, TCP.get(port), addr(HOST, port));
    }

    /** Sends a datagram no other send used and checks that exactly it arrived. */
    private static boolean udpReceived(int port) {
        String payload = "guide-" + port + "-" + MESSAGES.incrementAndGet();
        return sendAndReceive(ns, UDP.get(port), addr(HOST, port), payload).equals(payload);
    }

    private static Verdict testRun(BpfProgram program, Protocol protocol, int port) {
        return SkLookupTestRun.run(program, new SkLookupContext(protocol, addr(HOST, port), addr(HOST, 40000)), 1)
                .verdict();
    }
}
