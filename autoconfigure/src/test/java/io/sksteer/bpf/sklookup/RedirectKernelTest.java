package io.sksteer.bpf.sklookup;

import static io.sksteer.bpf.Asm.add;
import static io.sksteer.bpf.Asm.call;
import static io.sksteer.bpf.Asm.jne;
import static io.sksteer.bpf.Asm.label;
import static io.sksteer.bpf.Asm.ldMap;
import static io.sksteer.bpf.Asm.mov;
import static io.sksteer.bpf.Asm.st;
import static io.sksteer.bpf.Asm.stx;
import static io.sksteer.bpf.sklookup.SkLookup.assignAndPass;
import static io.sksteer.bpf.sklookup.SkLookup.localPort;
import static io.sksteer.testkit.TestSockets.addr;
import static io.sksteer.testkit.TestSockets.connectAndAccept;
import static io.sksteer.testkit.TestSockets.fd;
import static io.sksteer.testkit.TestSockets.sendAndReceive;
import static io.sksteer.testkit.TestSockets.tcpListener;
import static io.sksteer.testkit.TestSockets.tcpRefused;
import static io.sksteer.testkit.TestSockets.udpSocket;
import static org.assertj.core.api.Assertions.assertThat;

import io.sksteer.bpf.BpfMap;
import io.sksteer.bpf.BpfProgram;
import io.sksteer.bpf.Codec;
import io.sksteer.bpf.Errno;
import io.sksteer.bpf.Helper;
import io.sksteer.bpf.Insn;
import io.sksteer.bpf.MapSpec;
import io.sksteer.bpf.MapType;
import io.sksteer.bpf.NetnsLink;
import io.sksteer.bpf.ProgramSpec;
import io.sksteer.bpf.Reg;
import io.sksteer.bpf.Size;
import io.sksteer.bpf.SocketFd;
import io.sksteer.bpf.SocketMap;
import io.sksteer.bpf.Sockets;
import io.sksteer.testkit.KernelTest;
import io.sksteer.testkit.TestNetns;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.nio.channels.DatagramChannel;
import java.nio.channels.ServerSocketChannel;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A redirect program built with the DSL steers traffic for port 7777 on any address into the
 * socket in slot 0 of a SOCKMAP, and records sk_assign's result in an ARRAY map.
 */
@KernelTest
class RedirectKernelTest {

    private static final int PORT = 7777;
    private SocketMap<Integer> sockets;
    private BpfMap<Integer, Long> results;
    private BpfProgram program;
    private NetnsLink link;

    @RegisterExtension
    static final TestNetns ns = TestNetns.perClass("2001:db8::/64");

    @BeforeEach
    void attach() {
        sockets = SocketMap.createSockMap(MapSpec.sockMap("sockets", 1));
        results = BpfMap.create(MapSpec.of("results", MapType.ARRAY, 4, 8, 1), Codec.u32(), Codec.u64());
        program = BpfProgram.load(redirect(), List.of(sockets, results));
        link = NetnsLink.attach(program, ns.namespace());
    }

    @AfterEach
    void detach() {
        link.close();
        program.close();
        results.close();
        sockets.close();
    }

    /** Port 7777 → slot 0; the assign result goes to results[0]; everything else passes. */
    static ProgramSpec redirect() {
        List<Insn> body = new ArrayList<>();
        body.add(localPort(Reg.R6, Reg.R7));
        body.add(jne(Reg.R7, PORT, "other"));
        body.add(mov(Reg.R8, 1));                 // results[0] = 1 means "slot was empty"
        body.addAll(assignAndPass("steer", Reg.R6, "sockets", 0, 0, Reg.R7, Reg.R8));
        // Only reached when the slot was empty (R8 = 0) or sk_assign failed (R8 = -errno).
        body.add(st(Size.W, Reg.R10, -4, 0));
        body.add(stx(Size.DW, Reg.R10, -16, Reg.R8));
        body.add(ldMap(Reg.R1, "results"));
        body.add(mov(Reg.R2, Reg.R10));
        body.add(add(Reg.R2, -4));
        body.add(mov(Reg.R3, Reg.R10));
        body.add(add(Reg.R3, -16));
        body.add(mov(Reg.R4, 0));
        body.add(call(Helper.MAP_UPDATE_ELEM));
        body.add(label("other"));
        return SkLookupProgram.builder("redirect_test").body(body).defaultAction(Verdict.PASS).build();
    }

    @Test
    void steersTcpOverIpv4FromAnAddressNobodyIsBoundTo() {
        try (ServerSocketChannel server = tcpListener(ns, StandardProtocolFamily.INET, "127.0.0.1", 0)) {
            sockets.put(0, fd(server));
            InetSocketAddress local = connectAndAccept(ns, server, addr("127.0.0.99", PORT));
            assertThat(local).isEqualTo(addr("127.0.0.99", PORT));
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    void steersTcpOverIpv6IntoAV6OnlySocket() throws Exception {
        try (ServerSocketChannel server = tcpListener(ns, StandardProtocolFamily.INET6, "::1", 0)) {
            sockets.put(0, fd(server));
            assertThat(Sockets.v6Only(fd(server))).as("binding [::1] makes the socket v6-only").isTrue();
            InetSocketAddress local = connectAndAccept(ns, server, addr("2001:db8::99", PORT));
            assertThat(local).isEqualTo(addr("2001:db8::99", PORT));
        }
    }

    @Test
    void steersUdpOverIpv4AndIpv6() throws Exception {
        try (DatagramChannel v4 = udpSocket(ns, StandardProtocolFamily.INET, "127.0.0.1", 0);
                DatagramChannel v6 = udpSocket(ns, StandardProtocolFamily.INET6, "::1", 0)) {
            sockets.put(0, fd(v4));
            assertThat(sendAndReceive(ns, v4, addr("127.0.0.98", PORT), "hello v4")).isEqualTo("hello v4");
            sockets.put(0, fd(v6));
            assertThat(sendAndReceive(ns, v6, addr("2001:db8::98", PORT), "hello v6")).isEqualTo("hello v6");
        }
    }

    @Test
    void aDualStackSocketTakesSteeredIpv4AndIpv6() throws Exception {
        try (ServerSocketChannel server = tcpListener(ns, StandardProtocolFamily.INET6, "::ffff:127.0.0.1", 0)) {
            sockets.put(0, fd(server));
            assertThat(Sockets.v6Only(fd(server))).isFalse();
            assertThat(connectAndAccept(ns, server, addr("127.0.0.97", PORT))).isEqualTo(addr("127.0.0.97", PORT));
            assertThat(connectAndAccept(ns, server, addr("2001:db8::97", PORT))).isEqualTo(addr("2001:db8::97", PORT));
        }
    }

    @Test
    void anIpv4SocketGivenIpv6TrafficMakesSkAssignFailWithEafnosupport() throws Exception {
        try (ServerSocketChannel server = tcpListener(ns, StandardProtocolFamily.INET, "127.0.0.1", 0)) {
            sockets.put(0, fd(server));
            // Assign fails, the program passes, nothing is bound there: refused.
            assertThat(tcpRefused(ns, addr("2001:db8::96", PORT))).isTrue();
            assertThat(results.lookup(0)).contains((long) -Errno.EAFNOSUPPORT.number());
        }
    }

    @Test
    void testRunReturnsTheSelectedSocketsCookie() throws Exception {
        try (ServerSocketChannel server = tcpListener(ns, StandardProtocolFamily.INET, "127.0.0.1", 0)) {
            SocketFd fd = fd(server);
            sockets.put(0, fd);
            long cookie = Sockets.cookie(fd);
            assertThat(cookie).isNotZero();
            assertThat(sockets.cookie(0)).hasValue(cookie);

            SkLookupTestRun hit = SkLookupTestRun.run(program,
                    new SkLookupContext(Protocol.TCP, addr("127.0.0.95", PORT), addr("127.0.0.1", 40000)), 1);
            assertThat(hit.verdict()).isEqualTo(Verdict.PASS);
            assertThat(hit.cookie()).isEqualTo(cookie);

            SkLookupTestRun miss = SkLookupTestRun.run(program,
                    new SkLookupContext(Protocol.TCP, addr("127.0.0.95", PORT + 1), addr("127.0.0.1", 40000)), 100);
            assertThat(miss.verdict()).isEqualTo(Verdict.PASS);
            assertThat(miss.selected()).isEmpty();
            assertThat(miss.nsPerRun()).isPositive();
        }
    }

    @Test
    void anEmptySlotLeavesTheLookupAloneAndRecordsIt() {
        assertThat(tcpRefused(ns, addr("127.0.0.94", PORT))).isTrue();
        assertThat(results.lookup(0)).contains(0L);
    }
}
