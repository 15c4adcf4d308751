package io.sksteer.netty;

import static io.sksteer.bpf.Asm.jne;
import static io.sksteer.bpf.Asm.label;
import static io.sksteer.bpf.sklookup.SkLookup.assignAndPass;
import static io.sksteer.bpf.sklookup.SkLookup.localPort;
import static io.sksteer.bpf.sklookup.SkLookup.protocol;

import io.netty.channel.Channel;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.sksteer.bpf.BpfProgram;
import io.sksteer.bpf.Insn;
import io.sksteer.bpf.MapSpec;
import io.sksteer.bpf.NetnsLink;
import io.sksteer.bpf.ProgramSpec;
import io.sksteer.bpf.Reg;
import io.sksteer.bpf.SocketFd;
import io.sksteer.bpf.SocketMap;
import io.sksteer.bpf.sklookup.Protocol;
import io.sksteer.bpf.sklookup.SkLookupProgram;
import io.sksteer.bpf.sklookup.Verdict;
import io.sksteer.testkit.TestNetns;
import java.util.ArrayList;
import java.util.List;

/**
 * A tiny steering program for the Netty tests, attached to a test namespace only: UDP to port
 * {@link #PORT} on any address goes to the socket in slot 0 of a SOCKMAP; everything else, and
 * everything while the slot is empty, is left to the normal lookup.
 */
final class Steering implements AutoCloseable {

    static final int PORT = 5353;

    private final SocketMap<Integer> sockets;
    private final BpfProgram program;
    private final NetnsLink link;

    private Steering(SocketMap<Integer> sockets, BpfProgram program, NetnsLink link) {
        this.sockets = sockets;
        this.program = program;
        this.link = link;
    }

    static Steering attach(TestNetns ns) {
        SocketMap<Integer> sockets = SocketMap.createSockMap(MapSpec.sockMap("sockets", 1));
        BpfProgram program = null;
        try {
            program = BpfProgram.load(udpPortToSlot0(), List.of(sockets));
            return new Steering(sockets, program, NetnsLink.attach(program, ns.namespace()));
        } catch (RuntimeException e) {
            if (program != null) {
                program.close();
            }
            sockets.close();
            throw e;
        }
    }

    private static ProgramSpec udpPortToSlot0() {
        List<Insn> body = new ArrayList<>();
        // Only UDP to PORT is ours; anything else falls through to SK_PASS without a selection.
        body.add(protocol(Reg.R6, Reg.R7));
        body.add(jne(Reg.R7, Protocol.UDP.number(), "other"));
        body.add(localPort(Reg.R6, Reg.R7));
        body.add(jne(Reg.R7, PORT, "other"));
        // Slot 0 → sk_assign → SK_PASS; an empty slot or a failed assign falls through.
        body.addAll(assignAndPass("steer", Reg.R6, "sockets", 0, 0, Reg.R7, Reg.R8));
        body.add(label("other"));
        return SkLookupProgram.builder("udp_5353_test").body(body).defaultAction(Verdict.PASS).build();
    }

    /** Steers to the socket of a Netty epoll datagram channel. */
    void to(Channel channel) {
        sockets.put(0, new SocketFd(((EpollDatagramChannel) channel).fd().intValue()));
    }

    /** Whether slot 0 holds a socket (a socket leaves the map when the kernel releases it). */
    boolean hasSocket() {
        return sockets.cookie(0).isPresent();
    }

    /** Empties the slot: the program then passes, and the normal lookup decides. */
    void stop() {
        sockets.remove(0);
    }

    @Override
    public void close() {
        link.close();
        program.close();
        sockets.close();
    }
}
