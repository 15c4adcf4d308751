package io.sksteer.autoconfigure;

import static io.sksteer.testkit.LabelledListeners.tcpLine;
import static io.sksteer.testkit.TestSockets.addr;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.sksteer.netty.ListenerHandler;
import io.sksteer.steering.InvalidRuleException;
import io.sksteer.steering.SteeringConfig.RuleText;
import io.sksteer.testkit.KernelTest;
import io.sksteer.testkit.LabelledListeners;
import io.sksteer.testkit.TestNetns;
import io.sksteer.testkit.TestSockets;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

/** Rules replaced while the application runs and traffic flows. */
@KernelTest
class LiveRulesKernelTest {

    @RegisterExtension
    static final TestNetns ns = TestNetns.perClass();

    private ApplicationContextRunner runner() {
        return new ApplicationContextRunner()
                .withConfiguration(AutoConfigurations.of(SksteerAutoConfiguration.class))
                .withPropertyValues(
                        "sksteer.netns=" + ns.path(),
                        // Live changes here move rules anywhere on loopback: a ceiling that says so.
                        "sksteer.live-changes.allowed[0].prefixes=127.0.0.0/8", "sksteer.live-changes.allowed[0].ports=all",
                        "sksteer.listeners.a.rules[0].prefixes=127.77.1.0/24,127.77.2.0/24",
                        "sksteer.listeners.a.rules[0].ports=80",
                        "sksteer.listeners.b.protocol=tcp",
                        "sksteer.listeners.echo.rules[0].prefixes=127.77.3.3",
                        "sksteer.listeners.echo.rules[0].ports=7")
                .withBean("a", ListenerHandler.class, () -> LabelledListeners.tcp("a"))
                .withBean("b", ListenerHandler.class, () -> LabelledListeners.tcp("b"))
                .withBean("echo", ListenerHandler.class, () -> ch -> ch.pipeline().addLast(new ChannelInboundHandlerAdapter() {
                    @Override
                    public void channelRead(ChannelHandlerContext ctx, Object msg) {
                        ctx.writeAndFlush(msg);
                    }
                }));
    }

    /** 127.77.2.0/24 always to a; 127.77.1.0/24 to {@code changing}; the echo rule stays. */
    private static Map<String, List<RuleText>> ruleSet(String changing) {
        RuleText stable = new RuleText(List.of("127.77.2.0/24"), List.of("80"));
        RuleText moving = new RuleText(List.of("127.77.1.0/24"), List.of("80"));
        RuleText echo = new RuleText(List.of("127.77.3.3"), List.of("7"));
        return changing.equals("a")
                ? Map.of("a", List.of(stable, moving), "echo", List.of(echo))
                : Map.of("a", List.of(stable), "b", List.of(moving), "echo", List.of(echo));
    }

    @Test
    void everyConnectionLandsWhereTheRulesInForceSayWhile100RuleSetsAreApplied() {
        runner().run(context -> {
            SksteerRules rules = context.getBean(SksteerRules.class);
            int programId = context.getBean(SksteerLifecycle.class).engine().dispatcher().program().id();
            // Rule set g is applied between started = g and finished = g; even sets send 127.77.1.0/24
            // to a, odd ones to b (set 0 is the configuration's).
            AtomicInteger started = new AtomicInteger();
            AtomicInteger finished = new AtomicInteger();
            AtomicBoolean done = new AtomicBoolean();
            List<String> problems = new ArrayList<>();
            AtomicInteger checked = new AtomicInteger();
            Thread client = new Thread(() -> {
                long deadline = System.nanoTime() + 60_000_000_000L;
                while (!done.get() && System.nanoTime() < deadline && problems.size() < 5) {
                    String stable = tcpLine(ns, addr("127.77.2.9", 80));
                    if (!stable.startsWith("a ")) {
                        problems.add("unchanged rule, got: " + stable);
                    }
                    int s1 = started.get();
                    int f1 = finished.get();
                    String moving = tcpLine(ns, addr("127.77.1.9", 80));
                    int f2 = finished.get();
                    int s2 = started.get();
                    String label = moving.split(" ")[0];
                    if (s1 == f1 && f2 == f1 && s2 == s1) {
                        // No change started or finished while this connection was decided.
                        String expected = f1 % 2 == 0 ? "a" : "b";
                        if (!label.equals(expected)) {
                            problems.add("rule set " + f1 + " in force, got: " + moving);
                        }
                    } else if (!label.equals("a") && !label.equals("b")) {
                        problems.add("during a change, got: " + moving);
                    }
                    checked.incrementAndGet();
                }
            }, "live-rules-client");
            client.start();
            for (int g = 1; g <= 100; g++) {
                started.set(g);
                rules.replace(ruleSet(g % 2 == 0 ? "a" : "b"));
                finished.set(g);
            }
            done.set(true);
            client.join(70_000);
            assertThat(client.isAlive()).isFalse();
            assertThat(problems).isEmpty();
            System.out.println("[sksteer] LiveRulesKernelTest: " + checked.get() + " connection pairs while 100 rule sets were applied");
            assertThat(checked.get()).isPositive();
            assertThat(context.getBean(SksteerLifecycle.class).engine().dispatcher().program().id())
                    .as("the program is never reloaded").isEqualTo(programId);
            assertThat(ns.namespace().skLookupProgramIds()).containsExactly(programId);
        });
    }

    @Test
    void anEstablishedConnectionIsUntouchedByARuleChange() {
        runner().run(context -> {
            try (Socket s = ns.call(() -> {
                Socket c = new Socket();
                c.connect(addr("127.77.3.3", 7), TestSockets.TIMEOUT_MS);
                c.setSoTimeout(TestSockets.TIMEOUT_MS);
                return c;
            })) {
                assertThat(roundTrip(s, "one")).isEqualTo("one");
                context.getBean(SksteerRules.class).replace(Map.of("b", List.of(new RuleText(List.of("127.77.3.3"), List.of("7")))));
                assertThat(tcpLine(ns, addr("127.77.3.3", 7))).as("new connections follow the new rules").startsWith("b ");
                assertThat(roundTrip(s, "two")).as("the old connection still talks to the echo").isEqualTo("two");
            }
        });
    }

    @Test
    void anInvalidRuleSetIsRejectedWholeAndTheOldOneStays() {
        runner().run(context -> {
            SksteerRules rules = context.getBean(SksteerRules.class);
            int before = rules.current().size();
            assertThatThrownBy(() -> rules.replace(Map.of(
                            "a", List.of(new RuleText(List.of("127.77.9.0/24"), List.of("80"))),
                            "b", List.of(new RuleText(List.of("127.77.1.0/33"), List.of("80"))))))
                    .isInstanceOf(InvalidRuleException.class)
                    .hasMessageContaining("rules.b[0].prefixes[0]").hasMessageContaining("127.77.1.0/33");
            assertThat(rules.current()).hasSize(before);
            assertThat(tcpLine(ns, addr("127.77.1.9", 80))).startsWith("a ");
            assertThat(tcpLine(ns, addr("127.77.9.9", 80))).as("the valid half was not applied").isEqualTo("refused");
        });
    }

    @Test
    void rulesAddedAndRemovedTakeEffectAndARefusedChangeChangesNothing() {
        runner().run(context -> {
            SksteerRules rules = context.getBean(SksteerRules.class);
            RuleText moving = new RuleText(List.of("127.77.1.0/24"), List.of("80"));
            RuleText fresh = new RuleText(List.of("127.77.4.0/24"), List.of("80"));
            int before = rules.current().size();

            assertThat(rules.add(Map.of("b", List.of(fresh))).size()).isEqualTo(before + 1);
            assertThat(tcpLine(ns, addr("127.77.4.9", 80))).startsWith("b ");
            assertThat(rules.remove(Map.of("a", List.of(moving))).size()).isEqualTo(before);
            assertThat(tcpLine(ns, addr("127.77.1.9", 80))).isEqualTo("refused");
            assertThat(tcpLine(ns, addr("127.77.2.9", 80))).as("the other rule of a stays").startsWith("a ");

            // Removing a rule not in force, or adding one that conflicts, is refused whole.
            assertThatThrownBy(() -> rules.change(Map.of("a", List.of(moving)), Map.of("b", List.of(moving))))
                    .isInstanceOf(InvalidRuleException.class).hasMessageContaining("no such rule is in force");
            assertThatThrownBy(() -> rules.add(Map.of("a", List.of(fresh))))
                    .isInstanceOf(InvalidRuleException.class).hasMessageContaining("conflicts with");
            assertThatThrownBy(() -> rules.add(Map.of("b", List.of(new RuleText(List.of("127.77.5.0/33"), List.of("80"))))))
                    .isInstanceOf(InvalidRuleException.class).hasMessageContaining("add.b[0].prefixes[0]");
            assertThat(rules.current()).hasSize(before);
            assertThat(tcpLine(ns, addr("127.77.1.9", 80))).isEqualTo("refused");
            assertThat(tcpLine(ns, addr("127.77.4.9", 80))).startsWith("b ");

            // One change moves a prefix from one listener to another.
            rules.change(Map.of("b", List.of(fresh)), Map.of("a", List.of(fresh, moving)));
            assertThat(tcpLine(ns, addr("127.77.4.9", 80))).startsWith("a ");
            assertThat(tcpLine(ns, addr("127.77.1.9", 80))).startsWith("a ");
        });
    }

    private static String roundTrip(Socket s, String text) throws Exception {
        OutputStream out = s.getOutputStream();
        out.write(text.getBytes());
        out.flush();
        InputStream in = s.getInputStream();
        byte[] buf = new byte[text.length()];
        int n = 0;
        while (n < buf.length) {
            int r = in.read(buf, n, buf.length - n);
            if (r < 0) {
                break;
            }
            n += r;
        }
        return new String(buf, 0, n);
    }
}
