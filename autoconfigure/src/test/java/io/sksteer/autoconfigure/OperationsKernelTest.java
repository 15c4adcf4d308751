package io.sksteer.autoconfigure;

import static io.sksteer.bpf.Asm.and;
import static io.sksteer.bpf.Asm.jne;
import static io.sksteer.bpf.Asm.label;
import static io.sksteer.bpf.sklookup.SkLookup.assignAndPass;
import static io.sksteer.bpf.sklookup.SkLookup.drop;
import static io.sksteer.bpf.sklookup.SkLookup.localIp4;
import static io.sksteer.testkit.LabelledListeners.tcpLine;
import static io.sksteer.testkit.TestSockets.addr;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sksteer.actuate.SksteerActuatorAutoConfiguration;
import io.sksteer.actuate.SteeringInspector;
import io.sksteer.bpf.BpfProgram;
import io.sksteer.bpf.Insn;
import io.sksteer.bpf.MapSpec;
import io.sksteer.bpf.NetnsLink;
import io.sksteer.bpf.ProgramSpec;
import io.sksteer.bpf.Reg;
import io.sksteer.bpf.SocketMap;
import io.sksteer.bpf.sklookup.Protocol;
import io.sksteer.bpf.sklookup.SkLookupContext;
import io.sksteer.bpf.sklookup.SkLookupProgram;
import io.sksteer.bpf.sklookup.SkLookupTestRun;
import io.sksteer.bpf.sklookup.Verdict;
import io.sksteer.netty.ListenerHandler;
import io.sksteer.steering.InvalidRuleException;
import io.sksteer.steering.RuleCounters;
import io.sksteer.steering.SteeringConfig.RuleText;
import io.sksteer.testkit.KernelTest;
import io.sksteer.testkit.LabelledListeners;
import io.sksteer.testkit.TestNetns;
import io.sksteer.testkit.TestSockets;
import java.net.InetAddress;
import java.net.StandardProtocolFamily;
import java.nio.channels.ServerSocketChannel;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

/** Coexistence with foreign programs, concurrent reads and updates, and invalid updates. */
@KernelTest
class OperationsKernelTest {

    @RegisterExtension
    static final TestNetns ns = TestNetns.perClass();

    private ApplicationContextRunner runner() {
        return new ApplicationContextRunner()
                .withConfiguration(AutoConfigurations.of(SksteerAutoConfiguration.class, SksteerActuatorAutoConfiguration.class))
                .withPropertyValues("sksteer.netns=" + ns.path(),
                        // Live changes here move rules anywhere on loopback: a ceiling that says so.
                        "sksteer.live-changes.allowed[0].prefixes=127.0.0.0/8", "sksteer.live-changes.allowed[0].ports=all",
                        "sksteer.listeners.web.rules[0].prefixes=127.77.0.0/16",
                        "sksteer.listeners.web.rules[0].ports=80",
                        "sksteer.listeners.api.rules[0].prefixes=127.77.1.0/24",
                        "sksteer.listeners.api.rules[0].ports=8080",
                        "sksteer.listeners.v4only.bind=127.0.0.1",
                        "sksteer.listeners.v4only.rules[0].prefixes=127.77.9.9",
                        "sksteer.listeners.v4only.rules[0].ports=9")
                .withBean("web", ListenerHandler.class, () -> LabelledListeners.tcp("web"))
                .withBean("api", ListenerHandler.class, () -> LabelledListeners.tcp("api"))
                .withBean("v4only", ListenerHandler.class, () -> LabelledListeners.tcp("v4only"));
    }

    /** Drops TCP to 127.88.0.0/16, passes everything else. */
    private static ProgramSpec dropper() {
        List<Insn> body = new ArrayList<>(List.of(localIp4(Reg.R6, Reg.R7), and(Reg.R7, 0xffff), jne(Reg.R7, (88 << 8) | 127, "out")));
        body.addAll(drop());
        body.add(label("out"));
        return SkLookupProgram.builder("foreign_drop").body(body).build();
    }

    /** Steers 127.89.0.0/16 to slot 0 of its own SOCKMAP. */
    private static ProgramSpec steerer() {
        List<Insn> body = new ArrayList<>(List.of(localIp4(Reg.R6, Reg.R7), and(Reg.R7, 0xffff), jne(Reg.R7, (89 << 8) | 127, "out")));
        body.addAll(assignAndPass("own", Reg.R6, "foreign_socks", 0, 0, Reg.R7, Reg.R8));
        body.add(label("out"));
        return SkLookupProgram.builder("foreign_steer").body(body).build();
    }

    @Test
    void foreignProgramsAttachedBeforeOursKeepTheirTrafficAndOursNeverDropsOthers() throws Exception {
        try (SocketMap<Integer> socks = SocketMap.createSockMap(MapSpec.sockMap("foreign_socks", 1));
                ServerSocketChannel theirs = TestSockets.tcpListener(ns, StandardProtocolFamily.INET, "127.0.0.1", 0);
                ServerSocketChannel bystander = TestSockets.tcpListener(ns, StandardProtocolFamily.INET, "127.0.0.1", 0);
                BpfProgram dropper = BpfProgram.load(dropper(), List.of());
                BpfProgram steerer = BpfProgram.load(steerer(), List.of(socks));
                NetnsLink l1 = NetnsLink.attach(dropper, ns.namespace());
                NetnsLink l2 = NetnsLink.attach(steerer, ns.namespace())) {
            socks.put(0, TestSockets.fd(theirs));
            runner().run(context -> {
                var engine = context.getBean(SksteerLifecycle.class).engine();
                assertThat(ns.namespace().skLookupProgramIds()).containsExactly(dropper.id(), steerer.id(),
                        engine.dispatcher().program().id());
                assertThat(tcpLine(ns, addr("127.88.1.1", 80))).as("the dropper's prefix").isEqualTo("refused");
                TestSockets.connectAndAccept(ns, theirs, addr("127.89.1.1", 80));
                assertThat(tcpLine(ns, addr("127.77.1.1", 80))).startsWith("web ");
                TestSockets.connectAndAccept(ns, bystander, (java.net.InetSocketAddress) bystander.getLocalAddress());
                // Ours, run alone on the others' traffic, passes without selecting.
                for (String host : List.of("127.88.1.1", "127.89.1.1", "127.0.0.1", "127.77.1.1")) {
                    for (int port : List.of(80, 8080, 9)) {
                        SkLookupTestRun r = SkLookupTestRun.run(engine.dispatcher().program(),
                                new SkLookupContext(Protocol.TCP, addr(host, port), addr("127.0.0.1", 40000)), 1);
                        boolean ours = engine.rules().resolve(Protocol.TCP, InetAddress.getByName(host).getAddress(), port).isPresent();
                        assertThat(r.verdict()).isEqualTo(Verdict.PASS);
                        assertThat(r.selected().isPresent()).as("%s:%d selected", host, port).isEqualTo(ours);
                    }
                }
            });
        }
    }

    @Test
    void concurrentReadsAndUpdatesKeepCountersConsistent() {
        runner().run(context -> {
            SksteerRules rules = context.getBean(SksteerRules.class);
            SteeringInspector inspector = context.getBean(SteeringInspector.class);
            var engine = context.getBean(SksteerLifecycle.class).engine();
            AtomicBoolean stop = new AtomicBoolean();
            List<Throwable> errors = Collections.synchronizedList(new ArrayList<>());
            List<Thread> threads = new ArrayList<>();
            CountDownLatch ready = new CountDownLatch(4);
            for (int t = 0; t < 3; t++) {
                threads.add(new Thread(() -> {
                    ready.countDown();
                    while (!stop.get()) {
                        try {
                            inspector.report();
                            inspector.explain("tcp", "127.77.1.1", 8080, null, null);
                        } catch (Throwable e) {
                            errors.add(e);
                            return;
                        }
                    }
                }));
            }
            threads.add(new Thread(() -> {
                ready.countDown();
                for (int i = 0; i < 60 && !stop.get(); i++) {
                    try {
                        rules.replace(Map.of("web", List.of(new RuleText(List.of("127.77.0.0/16"), List.of("80"))),
                                "api", List.of(new RuleText(List.of(i % 2 == 0 ? "127.77.1.0/24" : "127.77.2.0/24"), List.of("8080")))));
                    } catch (Throwable e) {
                        errors.add(e);
                        return;
                    }
                }
            }));
            threads.forEach(Thread::start);
            ready.await();
            int connections = 40;
            for (int i = 0; i < connections; i++) {
                assertThat(tcpLine(ns, addr("127.77.5.5", 80))).startsWith("web ");
            }
            threads.get(3).join(60_000);
            stop.set(true);
            for (Thread t : threads) {
                t.join(10_000);
            }
            assertThat(errors).isEmpty();
            var stable = engine.rules().rules().stream().filter(r -> r.listener().equals("web")).findFirst().orElseThrow();
            assertThat(engine.dispatcher().counters(stable)).as("a rule kept across updates keeps its counters")
                    .isEqualTo(new RuleCounters(connections, connections, 0, 0));
        });
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', quoteCharacter = '"', textBlock = """
            unknown listener          | nosuch | 127.77.0.0/16     | 80        | rules.nosuch[0]                | no listener named 'nosuch'
            not an address            | web    | 127.77.0.x/16     | 80        | rules.web[0].prefixes[0]       | not an IPv4 or IPv6 address
            host bits set             | web    | 127.77.0.1/16     | 80        | rules.web[0].prefixes[0]       | the network is 127.77.0.0/16
            IPv4-mapped prefix        | web    | ::ffff:1.2.3.4    | 80        | rules.web[0].prefixes[0]       | IPv4-mapped
            prefix length 129         | web    | 2001:db8::/129    | 80        | rules.web[0].prefixes[0]       | prefix length
            port zero                 | web    | 127.77.0.0/16     | 0         | rules.web[0].ports[0]          | ports are 1 to 65535
            port 70000                | web    | 127.77.0.0/16     | 70000     | rules.web[0].ports[0]          | ports are 1 to 65535
            inverted range            | web    | 127.77.0.0/16     | 90-80     | rules.web[0].ports[0]          | inverted
            garbage port              | web    | 127.77.0.0/16     | eighty    | rules.web[0].ports[0]          | expected a port
            IPv6 on an IPv4 socket    | v4only | 2001:db8::/64     | 9         | rules.v4only[0].prefixes[0]    | IPv6 traffic cannot reach it
            """)
    void anInvalidUpdateIsRejectedNamingTheOffenderAndChangesNothing(String name, String listener, String prefix, String port,
            String where, String reason) {
        runner().run(context -> {
            SksteerRules rules = context.getBean(SksteerRules.class);
            var before = rules.current();
            int program = context.getBean(SksteerLifecycle.class).engine().dispatcher().program().id();
            assertThatThrownBy(() -> rules.replace(Map.of(listener, List.of(new RuleText(List.of(prefix), List.of(port))))))
                    .isInstanceOf(InvalidRuleException.class).hasMessageContaining(where).hasMessageContaining(reason);
            assertThat(rules.current()).isEqualTo(before);
            assertThat(ns.namespace().skLookupProgramIds()).containsExactly(program);
            assertThat(tcpLine(ns, addr("127.77.3.3", 80))).startsWith("web ");
        });
    }

    @Test
    void conflictingAndOversizedUpdatesAreRejected() {
        runner().run(context -> {
            SksteerRules rules = context.getBean(SksteerRules.class);
            var before = rules.current();
            assertThatThrownBy(() -> rules.replace(Map.of(
                    "web", List.of(new RuleText(List.of("127.77.0.0/16"), List.of("80"))),
                    "api", List.of(new RuleText(List.of("127.77.0.0/16"), List.of("80"))))))
                    .hasMessageContaining("conflicts with").hasMessageContaining("'web'").hasMessageContaining("'api'");
            List<String> ranges = new ArrayList<>();
            for (int i = 0; i < 17; i++) {
                ranges.add((1000 + 100 * i) + "-" + (1050 + 100 * i));   // wide: narrow ones become single ports
            }
            assertThatThrownBy(() -> rules.replace(Map.of("web", List.of(new RuleText(List.of("127.77.0.0/16"), ranges)))))
                    .hasMessageContaining("more than 16 port ranges wider than 16 ports");
            List<String> prefixes = new ArrayList<>();
            for (int len = 64; len <= 98; len++) {
                prefixes.add("2001:db8::/" + len);
            }
            assertThatThrownBy(() -> rules.replace(Map.of("web", List.of(new RuleText(prefixes, List.of("80"))))))
                    .hasMessageContaining("more than 33 distinct prefix lengths");
            List<String> many = new ArrayList<>();
            for (int i = 0; i < 5000; i++) {
                many.add("10." + (i >> 8) + "." + (i & 255) + ".0/24");
            }
            assertThatThrownBy(() -> rules.replace(Map.of("web", List.of(new RuleText(many, List.of("80"))))))
                    .hasMessageContaining("raise sksteer.max-rules");
            assertThat(rules.current()).isEqualTo(before);
        });
    }
}
