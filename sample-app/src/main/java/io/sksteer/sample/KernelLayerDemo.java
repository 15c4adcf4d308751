package io.sksteer.sample;

import static io.sksteer.bpf.Asm.and;
import static io.sksteer.bpf.Asm.jeq;
import static io.sksteer.bpf.Asm.jgt;
import static io.sksteer.bpf.Asm.jlt;
import static io.sksteer.bpf.Asm.jne;
import static io.sksteer.bpf.Asm.label;
import static io.sksteer.bpf.sklookup.SkLookup.assignAndPass;
import static io.sksteer.bpf.sklookup.SkLookup.drop;
import static io.sksteer.bpf.sklookup.SkLookup.family;
import static io.sksteer.bpf.sklookup.SkLookup.localIp4;
import static io.sksteer.bpf.sklookup.SkLookup.localPort;
import static io.sksteer.bpf.sklookup.SkLookup.protocol;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.sksteer.bpf.BpfFeatures;
import io.sksteer.bpf.BpfProgram;
import io.sksteer.bpf.Feature;
import io.sksteer.bpf.Insn;
import io.sksteer.bpf.MapSpec;
import io.sksteer.bpf.NetnsLink;
import io.sksteer.bpf.NetworkNamespace;
import io.sksteer.bpf.ProgramSpec;
import io.sksteer.bpf.Reg;
import io.sksteer.bpf.SocketFd;
import io.sksteer.bpf.SocketMap;
import io.sksteer.bpf.Sockets;
import io.sksteer.bpf.sklookup.Protocol;
import io.sksteer.bpf.sklookup.SkLookupContext;
import io.sksteer.bpf.sklookup.SkLookupProgram;
import io.sksteer.bpf.sklookup.SkLookupTestRun;
import io.sksteer.bpf.sklookup.Verdict;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.springframework.boot.ExitCodeGenerator;
import org.springframework.boot.CommandLineRunner;
import org.springframework.stereotype.Component;

/**
 * Until the steering starter lands, the sample shows the kernel layer working end to end, in a
 * network namespace of its own (never the machine's): one Netty listener on 127.0.0.1, a program
 * written with the DSL steering TCP for 127.77.0.0/16 ports 80, 443 and 8000-8999 to it, real
 * connections, and the program's verdicts explained through BPF_PROG_TEST_RUN.
 */
@Component
class KernelLayerDemo implements CommandLineRunner, ExitCodeGenerator {

    private int exitCode;

    @Override
    public void run(String... args) throws Exception {
        for (Feature f : BpfFeatures.all()) {
            System.out.println("probe  " + f);
        }
        if (!BpfFeatures.skLookup().isAvailable() || !BpfFeatures.sockMap().isAvailable()) {
            System.out.println("cannot demonstrate steering here: run as root (or with CAP_BPF, CAP_NET_ADMIN, CAP_SYS_ADMIN)");
            exitCode = 2;
            return;
        }
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        try (NetworkNamespace ns = NetworkNamespace.create();
                SocketMap<Integer> sockets = SocketMap.createSockMap(MapSpec.sockMap("demo_sockets", 1))) {
            System.out.println("netns  created a network namespace (inode " + ns.inode() + ") for the demo");
            Channel listener = new ServerBootstrap().group(group)
                    .channelFactory(() -> ns.call(EpollServerSocketChannel::new))
                    .childHandler(new Greeter())
                    .bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
            try {
                SocketFd fd = new SocketFd(((EpollServerSocketChannel) listener).fd().intValue());
                sockets.put(0, fd);
                System.out.println("listen " + listener.localAddress() + ", socket cookie " + Sockets.cookie(fd));
                try (BpfProgram program = BpfProgram.load(dispatcher(), List.of(sockets));
                        NetnsLink link = NetnsLink.attach(program, ns)) {
                    System.out.println("attach program '" + program.name() + "' id " + program.id() + " via link " + link.id());
                    for (String target : List.of("127.77.1.2:8123", "127.77.200.9:80", "127.77.0.1:443")) {
                        System.out.println("tcp    " + target + " -> " + connect(ns, target));
                    }
                    System.out.println("tcp    127.78.0.1:8123 -> " + connect(ns, "127.78.0.1:8123") + " (outside the prefix: not steered)");
                    for (String target : List.of("127.77.1.2:8123", "127.77.1.2:9000", "127.1.2.3:80")) {
                        SkLookupTestRun r = SkLookupTestRun.run(program, new SkLookupContext(Protocol.TCP,
                                parse(target), new InetSocketAddress("127.0.0.1", 40000)), 1000);
                        System.out.println("explain " + target + " -> verdict " + r.verdict()
                                + (r.selected().isPresent() ? ", selects cookie " + r.cookie() : ", no socket selected")
                                + ", " + r.nsPerRun() + " ns/run");
                    }
                }
                System.out.println("detach namespace now has " + ns.skLookupProgramIds().size() + " sk_lookup programs");
            } finally {
                listener.close().sync();
            }
        } finally {
            group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS).sync();
        }
    }

    @Override
    public int getExitCode() {
        return exitCode;
    }

    /** TCP to 127.77.0.0/16 ports 80, 443 and 8000-8999 → slot 0 (drop if empty); everything else passes. */
    static ProgramSpec dispatcher() {
        List<Insn> body = new ArrayList<>();
        body.add(protocol(Reg.R6, Reg.R7));
        body.add(jne(Reg.R7, Protocol.TCP.number(), "other"));
        body.add(family(Reg.R6, Reg.R7));
        body.add(jne(Reg.R7, Sockets.AF_INET, "other"));
        body.add(localIp4(Reg.R6, Reg.R7));               // 127.77.x.y, network order read little-endian
        body.add(and(Reg.R7, 0xffff));                    // keep the first two octets
        body.add(jne(Reg.R7, (77 << 8) | 127, "other"));
        body.add(localPort(Reg.R6, Reg.R7));
        body.add(jeq(Reg.R7, 80, "steer"));
        body.add(jeq(Reg.R7, 443, "steer"));
        body.add(jlt(Reg.R7, 8000, "other"));
        body.add(jgt(Reg.R7, 8999, "other"));
        body.add(label("steer"));
        body.addAll(assignAndPass("web", Reg.R6, "demo_sockets", 0, 0, Reg.R7, Reg.R8));
        body.addAll(drop());                              // matched, but the socket is gone
        body.add(label("other"));
        return SkLookupProgram.builder("sksteer_demo").body(body).defaultAction(Verdict.PASS).build();
    }

    private static String connect(NetworkNamespace ns, String target) {
        try {
            return ns.call(() -> {
                try (Socket s = new Socket()) {
                    s.connect(parse(target), 2000);
                    s.setSoTimeout(2000);
                    return new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8)).readLine();
                }
            });
        } catch (RuntimeException e) {
            return "failed: " + (e.getCause() != null ? e.getCause().getMessage() : e.getMessage());
        }
    }

    private static InetSocketAddress parse(String hostPort) {
        int colon = hostPort.lastIndexOf(':');
        return new InetSocketAddress(hostPort.substring(0, colon), Integer.parseInt(hostPort.substring(colon + 1)));
    }

    /** Answers each connection with one line naming the addresses the kernel gave it. */
    private static final class Greeter extends ChannelInboundHandlerAdapter {
        @Override
        public boolean isSharable() {
            return true;
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            String line = "accepted local=" + ctx.channel().localAddress() + " remote=" + ctx.channel().remoteAddress() + "\n";
            ctx.writeAndFlush(Unpooled.copiedBuffer(line, StandardCharsets.UTF_8)).addListener(ChannelFutureListener.CLOSE);
        }
    }
}
