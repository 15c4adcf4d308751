package io.sksteer.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;

import io.sksteer.netty.ListenerHandler;
import io.sksteer.steering.InvalidRuleException;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

/**
 * Each class of invalid configuration fails startup with a report naming the property and value.
 * These fail while the configuration is read, before anything touches the kernel; the namespace
 * is a path that does not exist, so a test that wrongly got further could not attach anywhere.
 */
class InvalidConfigurationTest {

    private final ApplicationContextRunner runner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(SksteerAutoConfiguration.class))
            .withPropertyValues("sksteer.netns=/nonexistent/sksteer-test-guard")
            .withBean("web", ListenerHandler.class, () -> ch -> { })
            .withBean("api", ListenerHandler.class, () -> ch -> { });

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', quoteCharacter = '"', textBlock = """
            prefix length too long    | sksteer.listeners.web.rules[0].prefixes=127.77.0.0/33 | sksteer.listeners.web.rules[0].prefixes[0] | 127.77.0.0/33 | prefix length
            not an address            | sksteer.listeners.web.rules[0].prefixes=example.com   | sksteer.listeners.web.rules[0].prefixes[0] | example.com   | not an IPv4 or IPv6 address
            host bits set             | sksteer.listeners.web.rules[0].prefixes=127.77.1.0/16 | sksteer.listeners.web.rules[0].prefixes[0] | 127.77.1.0/16 | the network is 127.77.0.0/16
            IPv4-mapped IPv6 prefix   | sksteer.listeners.web.rules[0].prefixes=::ffff:127.0.0.1 | sksteer.listeners.web.rules[0].prefixes[0] | ::ffff:127.0.0.1 | IPv4-mapped
            port zero                 | sksteer.listeners.web.rules[0].ports=0                | sksteer.listeners.web.rules[0].ports[0]    | 0             | ports are 1 to 65535
            port above 65535          | sksteer.listeners.web.rules[0].ports=65536            | sksteer.listeners.web.rules[0].ports[0]    | 65536         | ports are 1 to 65535
            inverted range            | sksteer.listeners.web.rules[0].ports=9000-8000        | sksteer.listeners.web.rules[0].ports[0]    | 9000-8000     | inverted
            not a port                | sksteer.listeners.web.rules[0].ports=http             | sksteer.listeners.web.rules[0].ports[0]    | http          | expected a port
            unknown protocol          | sksteer.listeners.web.protocol=sctp                   | sksteer.listeners.web.protocol             | sctp          | 'tcp' or 'udp'
            unknown policy            | sksteer.on-missing-socket=maybe                       | sksteer.on-missing-socket                  | maybe         | 'drop' or 'pass'
            IPv6 on an IPv4 socket    | sksteer.listeners.web.bind=127.0.0.1                  | sksteer.listeners.web.rules[0].prefixes[0] | fd00::/64     | IPv6 traffic cannot reach it
            bad bind address          | sksteer.listeners.web.bind=[::1                       | sksteer.listeners.web.bind                 | [::1          | missing ']'
            too many rules            | sksteer.max-rules=1                                   | sksteer.max-rules                          | 1             | raise sksteer.max-rules
            address typed as a name   | sksteer.listeners.web.rules[0].prefixes=999.1.1.1     | sksteer.listeners.web.rules[0].prefixes[0] | 999.1.1.1     | not an IP address
            unknown socket kind       | sksteer.listeners.web.socket=webserver                | sksteer.listeners.web.socket               | webserver     | 'bind', 'web-server' or 'management-server'
            negative drain timeout    | sksteer.drain.timeout=-1s                             | sksteer.drain.timeout                      | PT-1S         | must not be negative
            empty body limit          | sksteer.live-changes.max-body-size=0B                 | sksteer.live-changes.max-body-size         | 0B            | at least 1B
            ceiling protocol          | sksteer.live-changes.allowed[0].protocol=sctp         | sksteer.live-changes.allowed[0].protocol   | sctp          | 'tcp' or 'udp'
            """)
    void failsStartupNamingThePropertyAndValue(String name, String override, String property, String value, String reason) {
        runner.withPropertyValues(
                        "sksteer.listeners.web.rules[0].prefixes=fd00::/64",
                        "sksteer.listeners.web.rules[0].ports=443,80",
                        "sksteer.live-changes.allowed[0].prefixes=fd00::/64", "sksteer.live-changes.allowed[0].ports=all",
                        override)
                .run(context -> {
                    assertThat(context).hasFailed();
                    InvalidRuleException e = findCause(context.getStartupFailure());
                    assertThat(e.property()).isEqualTo(property);
                    assertThat(e.value()).isEqualTo(value);
                    assertThat(e.problem()).contains(reason);
                    FailureAnalysis analysis = new InvalidRuleFailureAnalyzer().analyze(context.getStartupFailure());
                    assertThat(analysis.getDescription()).contains(property).contains(value).contains(reason);
                    assertThat(analysis.getAction()).contains(property);
                });
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', quoteCharacter = '"', textBlock = """
            same single port          | 80        | 80
            intersecting ranges       | 8000-8100 | 8100-8200
            both all                  | all       | all
            """)
    void twoListenersClaimingTheSameTrafficIsAnErrorNamingBoth(String name, String webPorts, String apiPorts) {
        runner.withPropertyValues(
                        "sksteer.listeners.web.rules[0].prefixes=127.77.0.0/16",
                        "sksteer.listeners.web.rules[0].ports=" + webPorts,
                        "sksteer.listeners.api.rules[0].prefixes=127.77.0.0/16",
                        "sksteer.listeners.api.rules[0].ports=" + apiPorts)
                .run(context -> {
                    assertThat(context).hasFailed();
                    InvalidRuleException e = findCause(context.getStartupFailure());
                    assertThat(e.getMessage()).contains("sksteer.listeners.web.rules[0]").contains("sksteer.listeners.api.rules[0]")
                            .contains("'web'").contains("'api'");
                });
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', quoteCharacter = '"', textBlock = """
            different prefixes        | 127.77.0.0/16 | 127.77.1.0/24 | 80   | 80
            single beside a range     | 127.77.0.0/16 | 127.77.0.0/16 | 80   | 1-1000
            a range beside all        | 127.77.0.0/16 | 127.77.0.0/16 | 1-10 | all
            disjoint ranges           | 127.77.0.0/16 | 127.77.0.0/16 | 1-10 | 11-20
            """)
    void overlapsAtDifferentPrecedenceAreNotConflicts(String name, String webPrefix, String apiPrefix, String webPorts,
            String apiPorts) {
        runner.withPropertyValues(
                        "sksteer.listeners.web.rules[0].prefixes=" + webPrefix,
                        "sksteer.listeners.web.rules[0].ports=" + webPorts,
                        "sksteer.listeners.api.rules[0].prefixes=" + apiPrefix,
                        "sksteer.listeners.api.rules[0].ports=" + apiPorts)
                .run(context -> {
                    // The configuration is valid: the context fails later, when steering starts (on the
                    // guard namespace path as root, on the missing capabilities otherwise).
                    assertThat(context).hasFailed();
                    assertThat(context.getStartupFailure()).hasMessageContaining("sksteerLifecycle");
                    for (Throwable c = context.getStartupFailure(); c != null; c = c.getCause()) {
                        assertThat(c).isNotInstanceOf(InvalidRuleException.class);
                    }
                });
    }

    @org.junit.jupiter.api.Test
    void aListenerWithoutHandlerFailsNamingTheBeanToDefine() {
        new ApplicationContextRunner()
                .withConfiguration(AutoConfigurations.of(SksteerAutoConfiguration.class))
                .withPropertyValues("sksteer.netns=/nonexistent/sksteer-test-guard",
                        "sksteer.listeners.dns.protocol=udp",
                        "sksteer.listeners.dns.rules[0].prefixes=127.77.0.0/16",
                        "sksteer.listeners.dns.rules[0].ports=53")
                .run(context -> {
                    assertThat(context).hasFailed();
                    InvalidRuleException e = findCause(context.getStartupFailure());
                    assertThat(e.property()).isEqualTo("sksteer.listeners.dns");
                    assertThat(e.problem()).contains("ListenerHandler bean named 'dns'");
                });
    }

    @org.junit.jupiter.api.Test
    void disabledCreatesNoSteeringBeans() {
        runner.withPropertyValues("sksteer.enabled=false", "sksteer.listeners.web.rules[0].prefixes=nonsense")
                .run(context -> assertThat(context).hasNotFailed().doesNotHaveBean(SksteerLifecycle.class));
    }

    /** The problem as the failure report reads it: steering's, or a value the binder could not convert. */
    private static InvalidRuleException findCause(Throwable t) {
        InvalidRuleException e = InvalidRuleFailureAnalyzer.problem(t);
        if (e == null) {
            throw new AssertionError("no sksteer problem in the cause chain of " + t, t);
        }
        return e;
    }
}
