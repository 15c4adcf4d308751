package io.sksteer.actuate;

import static io.sksteer.testkit.LabelledListeners.tcpLine;
import static io.sksteer.testkit.TestSockets.addr;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.sksteer.autoconfigure.SksteerAutoConfiguration;
import io.sksteer.autoconfigure.SksteerLifecycle;
import io.sksteer.autoconfigure.SksteerRules;
import io.sksteer.bpf.BpfProgram;
import io.sksteer.bpf.NetnsLink;
import io.sksteer.bpf.ProbeAnswers;
import io.sksteer.bpf.sklookup.SkLookupProgram;
import io.sksteer.netty.ListenerHandler;
import io.sksteer.testkit.Awaits;
import io.sksteer.testkit.KernelTest;
import io.sksteer.testkit.LabelledListeners;
import io.sksteer.testkit.TestNetns;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.boot.actuate.endpoint.web.WebEndpointResponse;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.health.contributor.Status;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

/** The report, explain, health and metrics, read from the kernel while real traffic flows. */
@KernelTest
class ObservabilityKernelTest {

    @RegisterExtension
    static final TestNetns ns = TestNetns.perClass("2001:db8::/64");

    private ApplicationContextRunner runner() {
        return new ApplicationContextRunner()
                .withConfiguration(AutoConfigurations.of(SksteerAutoConfiguration.class, SksteerActuatorAutoConfiguration.class))
                .withPropertyValues(
                        "sksteer.netns=" + ns.path(),
                        // Live changes here move rules anywhere on loopback: a ceiling that says so.
                        "sksteer.live-changes.allowed[0].prefixes=127.0.0.0/8", "sksteer.live-changes.allowed[0].ports=all",
                        "sksteer.listeners.web.rules[0].prefixes=127.77.0.0/16,2001:db8::/64",
                        "sksteer.listeners.web.rules[0].ports=80,443,8000-8999",
                        "sksteer.listeners.api.rules[0].prefixes=127.77.1.0/24",
                        "sksteer.listeners.api.rules[0].ports=8000-8099",
                        "sksteer.listeners.admin.rules[0].prefixes=127.77.1.2,2001:db8::2",
                        "sksteer.listeners.admin.rules[0].ports=all")
                .withBean("web", ListenerHandler.class, () -> LabelledListeners.tcp("web"))
                .withBean("api", ListenerHandler.class, () -> LabelledListeners.tcp("api"))
                .withBean("admin", ListenerHandler.class, () -> LabelledListeners.tcp("admin"));
    }

    private static SteeringInspector inspector(org.springframework.context.ApplicationContext context) {
        return context.getBean(SteeringInspector.class);
    }

    @Test
    void explainAgreesWithRealTrafficForATableOfTuples() {
        List<String[]> tuples = List.of(
                new String[] {"127.77.1.2", "22"}, new String[] {"127.77.1.2", "80"}, new String[] {"127.77.1.3", "80"},
                new String[] {"127.77.1.3", "8000"}, new String[] {"127.77.1.3", "8099"}, new String[] {"127.77.1.3", "8100"},
                new String[] {"127.77.2.3", "7999"}, new String[] {"127.77.2.3", "8000"}, new String[] {"127.77.2.3", "8999"},
                new String[] {"127.77.2.3", "9000"}, new String[] {"127.77.255.255", "443"}, new String[] {"127.76.255.255", "443"},
                new String[] {"127.78.0.0", "443"}, new String[] {"127.77.0.0", "80"}, new String[] {"127.77.1.255", "8050"},
                new String[] {"2001:db8::2", "22"}, new String[] {"2001:db8::3", "443"}, new String[] {"2001:db8::3", "444"},
                new String[] {"2001:db8::ffff", "8000"}, new String[] {"2001:db8::5", "22"}, new String[] {"127.0.0.1", "443"});
        runner().run(context -> {
            SteeringInspector inspector = inspector(context);
            for (String[] t : tuples) {
                String line = tcpLine(ns, addr(t[0], Integer.parseInt(t[1])));
                ExplainReport r = inspector.explain("tcp", t[0], Integer.parseInt(t[1]), null, null);
                String real = line.equals("refused") ? null : line.split(" ")[0];
                assertThat(r.listener()).as("explain %s:%s (real traffic said %s)", t[0], t[1], line).isEqualTo(real);
                assertThat(r.steered()).isEqualTo(real != null);
                assertThat(r.verdict()).isEqualTo("pass");
                assertThat(r.rule() == null).isEqualTo(real == null);
            }
        });
    }

    @Test
    void explainRejectsBadParametersWithAMessage() {
        runner().run(context -> {
            SteeringInspector inspector = inspector(context);
            assertThatThrownBy(() -> inspector.explain("sctp", "127.77.1.2", 80, null, null)).hasMessageContaining("tcp or udp");
            assertThatThrownBy(() -> inspector.explain("tcp", "example.com", 80, null, null)).hasMessageContaining("IPv4 or IPv6");
            assertThatThrownBy(() -> inspector.explain("tcp", "127.77.1.2", 0, null, null)).hasMessageContaining("1 to 65535");
            assertThatThrownBy(() -> inspector.explain("tcp", "127.77.1.2", 80, "::1", null)).hasMessageContaining("one family");
        });
    }

    @Test
    void explainAnswers503NamingLinux513WhereTheKernelCannotTestRunPrograms() {
        runner().run(context -> {
            // Steering runs for real, and on this kernel explain answers.
            assertThat(inspector(context).explain("tcp", "127.77.1.2", 22, null, null).listener()).isEqualTo("admin");
            // This kernel has test runs: only the probe's answer is that of a kernel before 5.13.
            SteeringInspector before513 = new SteeringInspector(context.getBean(SksteerLifecycle.class)::engine,
                    ProbeAnswers.skLookupTestRunBefore513());
            SksteerEndpoint endpoint = new SksteerEndpoint(before513, context.getBean(SksteerRules.class));
            WebEndpointResponse<Object> r = endpoint.explain("explain", "tcp", "127.77.1.2", 22, null, null);
            assertThat(r.getStatus()).isEqualTo(503);
            assertThat(r.getBody()).isEqualTo(Map.of("error", "this kernel cannot test-run sk_lookup programs (needs Linux 5.13): "
                    + "test run of program 'sksteer_probe': ENOTSUPP"));
        });
    }

    @Test
    void theReportShowsProgramLinkListenersRulesAndASecondProgramOnTheNamespace() {
        runner().run(context -> {
            SteeringReport report = inspector(context).report();
            assertThat(report.running()).isTrue();
            assertThat(report.program().position()).isEqualTo(1);
            assertThat(report.program().programsOnNamespace()).isEqualTo(1);
            assertThat(report.link().attached()).isTrue();
            assertThat(report.listeners()).extracting(SteeringReport.ListenerReport::name).containsExactly("web", "api", "admin");
            assertThat(report.listeners()).allMatch(SteeringReport.ListenerReport::inSockmap);
            assertThat(report.rules().get(0).prefix()).isIn("127.77.1.2/32", "2001:db8::2/128");
            assertThat(report.features()).allMatch(SteeringReport.FeatureReport::available);

            try (BpfProgram foreign = BpfProgram.load(SkLookupProgram.builder("foreign").build(), List.of());
                    NetnsLink link = NetnsLink.attach(foreign, ns.namespace())) {
                SteeringReport two = inspector(context).report();
                assertThat(two.program().programsOnNamespace()).isEqualTo(2);
                assertThat(two.program().programIds()).containsExactly(report.program().id(), foreign.id());
            }
        });
    }

    @Test
    void healthTurnsDownWithinASecondOfAListenerClosingAndNamesIt() {
        runner().run(context -> {
            SksteerHealthIndicator health = context.getBean(SksteerHealthIndicator.class);
            assertThat(health.health().getStatus()).isEqualTo(Status.UP);
            context.getBean(SksteerLifecycle.class).engine().listeners().get("api").channel().close().sync();
            var down = Awaits.until(health::health, h -> h.getStatus().equals(Status.DOWN), Duration.ofSeconds(1));
            assertThat(down.getStatus()).isEqualTo(Status.DOWN);
            assertThat(down.getDetails().get("problems").toString()).contains("listener 'api'");
        });
    }

    @Test
    void healthTurnsDownWhenTheLinkIsDetached() {
        runner().run(context -> {
            SksteerHealthIndicator health = context.getBean(SksteerHealthIndicator.class);
            context.getBean(SksteerLifecycle.class).engine().link().detach();
            assertThat(health.health().getStatus()).isEqualTo(Status.DOWN);
            assertThat(health.health().getDetails().get("problems").toString()).contains("detached");
        });
    }

    @Test
    void metricsFollowTheKernelCounters() {
        runner().run(context -> {
            SimpleMeterRegistry registry = new SimpleMeterRegistry();
            SksteerMetrics metrics = context.getBean(SksteerMetrics.class);
            metrics.bindTo(registry);
            metrics.start();
            for (int i = 0; i < 5; i++) {
                assertThat(tcpLine(ns, addr("127.77.1.2", 22))).startsWith("admin");
            }
            double steered = registry.get("sksteer.lookups").tag("listener", "admin").tag("outcome", "steered")
                    .tag("rule", "tcp 127.77.1.2/32 all").functionCounter().count();
            assertThat(steered).isEqualTo(5.0);
            assertThat(registry.get("sksteer.rules").gauge().value()).isEqualTo(9.0);
            assertThat(registry.get("sksteer.listeners").gauge().value()).isEqualTo(3.0);
        });
    }

    @Test
    void metersFollowRulesAddedAndRemovedAndTheOthersStay() {
        runner().run(context -> {
            SimpleMeterRegistry registry = new SimpleMeterRegistry();
            SksteerMetrics metrics = context.getBean(SksteerMetrics.class);
            metrics.bindTo(registry);
            metrics.start();
            io.micrometer.core.instrument.FunctionCounter kept = registry.get("sksteer.lookups").tag("listener", "admin")
                    .tag("outcome", "steered").tag("rule", "tcp 127.77.1.2/32 all").functionCounter();
            io.sksteer.autoconfigure.SksteerRules rules = context.getBean(io.sksteer.autoconfigure.SksteerRules.class);
            java.util.Map<String, java.util.List<io.sksteer.steering.SteeringConfig.RuleText>> added = java.util.Map.of("api",
                    java.util.List.of(new io.sksteer.steering.SteeringConfig.RuleText(java.util.List.of("127.88.0.0/24"), java.util.List.of("80"))));
            rules.add(added);
            for (int i = 0; i < 3; i++) {
                assertThat(tcpLine(ns, addr("127.88.0.9", 80))).startsWith("api");
            }
            assertThat(registry.get("sksteer.lookups").tag("outcome", "steered").tag("rule", "tcp 127.88.0.0/24 80")
                    .functionCounter().count()).isEqualTo(3.0);
            assertThat(registry.get("sksteer.rules").gauge().value()).isEqualTo(10.0);
            rules.remove(added);
            assertThat(registry.find("sksteer.lookups").tag("rule", "tcp 127.88.0.0/24 80").functionCounters())
                    .as("the removed rule's meters are gone").isEmpty();
            assertThat(registry.get("sksteer.lookups").tag("listener", "admin").tag("outcome", "steered")
                    .tag("rule", "tcp 127.77.1.2/32 all").functionCounter()).as("a rule that stays keeps its meter").isSameAs(kept);
            assertThat(registry.find("sksteer.lookups").functionCounters()).hasSize(9 * 4);
        });
    }
}
