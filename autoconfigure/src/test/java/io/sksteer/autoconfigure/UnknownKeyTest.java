package io.sksteer.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sksteer.netty.ListenerHandler;
import io.sksteer.steering.InvalidRuleException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.autoconfigure.ImportAutoConfiguration;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.ConfigurationPropertySources;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.MapPropertySource;
import org.springframework.core.env.StandardEnvironment;
import org.springframework.core.env.SystemEnvironmentPropertySource;
import org.springframework.util.unit.DataSize;

/**
 * A key under sksteer that no property has fails startup, naming the key, its source and the
 * nearest known key; the relaxed forms the binder reads pass. These fail (or pass the check)
 * before any bean is made; the namespace is a path that does not exist, so a test that wrongly
 * got further could not attach anywhere.
 */
class UnknownKeyTest {

    private final ApplicationContextRunner runner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(SksteerAutoConfiguration.class))
            .withPropertyValues("sksteer.netns=/nonexistent/sksteer-test-guard")
            .withBean("web", ListenerHandler.class, () -> ch -> { });

    @Test
    void aMistypedListenersFailsStartupNamingTheKeyAndTheNearestKnownOne() {
        runner.withPropertyValues("sksteer.listners.web.rules[0].prefixes=127.77.0.0/16", "sksteer.listners.web.rules[0].ports=80")
                .run(context -> {
                    assertThat(context).hasFailed();
                    UnknownKeyException e = findCause(context.getStartupFailure());
                    assertThat(e.findings()).hasSize(1);
                    UnknownKeyException.Finding f = e.findings().get(0);
                    assertThat(f.key()).isEqualTo("sksteer.listners.web.rules[0].prefixes");
                    assertThat(f.nearest()).isEqualTo("sksteer.listeners.web.rules[0].prefixes");
                    assertThat(f.source()).isEqualTo("test"); // ApplicationContextRunner's property source
                    assertThat(f.stem()).isEqualTo("sksteer.listners");
                    assertThat(f.alike()).isEqualTo(1);
                    FailureAnalysis analysis = new UnknownKeyFailureAnalyzer().analyze(context.getStartupFailure());
                    System.out.println(analysis.getDescription() + "\n\nAction: " + analysis.getAction());
                    assertThat(analysis.getDescription()).contains("sksteer.listners.web.rules[0].prefixes")
                            .contains("and 1 more key under sksteer.listners").contains("Source:   test")
                            .contains("Nearest:  sksteer.listeners.web.rules[0].prefixes").contains("Nothing was attached");
                    assertThat(analysis.getAction()).contains("Correct the key");
                });
    }

    @Test
    @ExtendWith(OutputCaptureExtension.class)
    void aTypoInApplicationYamlIsReportedWithItsFileAndLine(@TempDir Path dir, CapturedOutput output) throws Exception {
        Path yaml = Files.writeString(dir.resolve("application.yml"), String.join("\n",
                "sksteer:",
                "  netns: /nonexistent/sksteer-test-guard",
                "  listners:",
                "    web:",
                "      rules:",
                "        - prefixes: [127.77.0.0/16]",
                "          ports: [80]",
                ""));
        SpringApplication app = new SpringApplication(TypoApplication.class);
        app.setWebApplicationType(WebApplicationType.NONE);
        assertThatThrownBy(() -> app.run("--spring.config.location=file:" + yaml, "--spring.main.banner-mode=off"))
                .isInstanceOf(UnknownKeyException.class);
        // The report of the failure analyzer, registered in spring.factories, as a user sees it.
        assertThat(output).contains("APPLICATION FAILED TO START")
                .contains("Key:      sksteer.listners.web.rules[0].prefixes[0]")
                .contains("and 1 more key under sksteer.listners")
                .contains("Source:   Config resource 'file [" + yaml + "]'")
                .contains("Origin:   URL [file:" + yaml + "] - 6:")
                .contains("Nearest:  sksteer.listeners.web.rules[0].prefixes[0]")
                .contains("Nothing was attached");
    }

    /** The sksteer auto-configuration alone, with the handler of listener 'web'. */
    @Configuration(proxyBeanMethods = false)
    @ImportAutoConfiguration(SksteerAutoConfiguration.class)
    static class TypoApplication {

        @Bean
        ListenerHandler web() {
            return ch -> { };
        }
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            listener property      | sksteer.listeners.web.protcol=udp               | sksteer.listeners.web.protocol
            rule property          | sksteer.listeners.web.rules[0].port=80          | sksteer.listeners.web.rules[0].ports
            rule of a list entry   | sksteer.listeners.web.rules[3].allowshadow=true | sksteer.listeners.web.rules[3].allow-shadowing
            top-level camelCase    | sksteer.onMissingSockets=pass                   | sksteer.on-missing-socket
            nested group           | sksteer.live-changes.enable=true                | sksteer.live-changes.enabled
            ceiling entry          | sksteer.live-changes.allowed[0].listner=web     | sksteer.live-changes.allowed[0].listener
            drain                  | sksteer.drain.timout=1s                         | sksteer.drain.timeout
            no listener name       | sksteer.listeners.rules[0].ports=80             | sksteer.listeners.<name>.rules[0].ports
            no rule index          | sksteer.listeners.web.rules.ports=80            | sksteer.listeners.web.rules[0].ports
            below a value          | sksteer.netns.path=/run/netns/x                 | sksteer.netns
            bracketed listener     | sksteer.listeners[my.api].protocl=udp           | sksteer.listeners[my.api].protocol
            """)
    void aTypoFailsStartupSuggestingTheNearestKnownKey(String name, String property, String nearest) {
        runner.withPropertyValues(property).run(context -> {
            assertThat(context).hasFailed();
            UnknownKeyException e = findCause(context.getStartupFailure());
            assertThat(e.findings()).singleElement().satisfies(f -> {
                assertThat(f.key()).isEqualTo(property.substring(0, property.indexOf('=')));
                assertThat(f.nearest()).isEqualTo(nearest);
            });
        });
    }

    @Test
    void theUnknownKeyIsReportedBeforeAnyOtherConfigurationError() {
        // The rule is invalid too (port 0), but the typo is what the user must see first.
        runner.withPropertyValues("sksteer.listeners.web.rules[0].prefixes=127.77.0.0/16", "sksteer.listeners.web.rules[0].ports=0",
                        "sksteer.listeners.web.protcol=udp")
                .run(context -> {
                    assertThat(context).hasFailed();
                    assertThat(findCause(context.getStartupFailure()).findings().get(0).key()).isEqualTo("sksteer.listeners.web.protcol");
                    for (Throwable c = context.getStartupFailure(); c != null; c = c.getCause()) {
                        assertThat(c).isNotInstanceOf(InvalidRuleException.class);
                    }
                });
    }

    @Test
    void aMistypedEnvironmentVariableIsNamedWithItsOrigin() {
        runner.withInitializer(c -> c.getEnvironment().getPropertySources().replace(
                        StandardEnvironment.SYSTEM_ENVIRONMENT_PROPERTY_SOURCE_NAME, environmentVariables(Map.of(
                                "SKSTEER_LISTNERS_WEB_PROTOCOL", "udp", "PATH", "/usr/bin"))))
                .run(context -> {
                    assertThat(context).hasFailed();
                    UnknownKeyException.Finding f = findCause(context.getStartupFailure()).findings().get(0);
                    assertThat(f.key()).isEqualTo("sksteer.listners.web.protocol");
                    assertThat(f.source()).isEqualTo("systemEnvironment");
                    assertThat(f.origin()).contains("SKSTEER_LISTNERS_WEB_PROTOCOL");
                    assertThat(f.nearest()).isEqualTo("sksteer.listeners.web.protocol");
                });
    }

    @Test
    void camelCaseAndBracketedFormsPassAndBind() {
        StandardEnvironment environment = environment(new MapPropertySource("application", Map.of(
                "sksteer.listeners.web.reusePort", "true",
                "sksteer.listeners[web].rules[0].allowShadowing", "true",
                "sksteer.listeners.web.rules[0].prefixes", "127.77.0.0/16",
                "sksteer.listeners.web.rules[0].ports[0]", "80",
                "sksteer.liveChanges.maxBodySize", "1KB",
                "sksteer.live-changes.allowed[0].prefixes[0]", "127.77.0.0/16",
                "sksteer.drain.quiet_period", "1s")));
        assertThatCode(() -> UnknownKeyCheck.check(environment, SksteerPropertyKeys.INSTANCE)).doesNotThrowAnyException();
        // And they are what the binder binds, not just what the check lets through.
        SksteerProperties bound = new Binder(ConfigurationPropertySources.get(environment), null, SksteerConverters.conversionService())
                .bind("sksteer", SksteerProperties.class).get();
        assertThat(bound.getListeners().get("web").getReusePort()).isTrue();
        assertThat(bound.getListeners().get("web").getRules().get(0).isAllowShadowing()).isTrue();
        assertThat(bound.getLiveChanges().getMaxBodySize()).isEqualTo(DataSize.ofKilobytes(1));
        assertThat(bound.getDrain().getQuietPeriod()).isEqualTo(java.time.Duration.ofSeconds(1));
    }

    @Test
    void environmentVariablesPassAndBindIncludingTheLegacyUnderscoreForm() {
        StandardEnvironment environment = environment(environmentVariables(Map.of(
                "SKSTEER_LISTENERS_WEB_RULES_0_PREFIXES", "127.77.0.0/16",
                "SKSTEER_LISTENERS_WEB_RULES_0_PORTS", "80,443",
                "SKSTEER_LISTENERS_WEB_REUSEPORT", "true",
                "SKSTEER_LISTENERS_WEB_RULES_0_ALLOW_SHADOWING", "true",
                "SKSTEER_LIVE_CHANGES_ENABLED", "true",
                "SKSTEER_LIVECHANGES_MAXBODYSIZE", "2KB",
                "SKSTEER_ON_MISSING_SOCKET", "pass")));
        assertThatCode(() -> UnknownKeyCheck.check(environment, SksteerPropertyKeys.INSTANCE)).doesNotThrowAnyException();
        SksteerProperties bound = new Binder(ConfigurationPropertySources.get(environment), null, SksteerConverters.conversionService())
                .bind("sksteer", SksteerProperties.class).get();
        SksteerProperties.Listener web = bound.getListeners().get("web");
        assertThat(web.getRules().get(0).getPorts()).containsExactly("80", "443");
        assertThat(web.getRules().get(0).isAllowShadowing()).isTrue();
        assertThat(web.getReusePort()).isTrue();
        assertThat(bound.getLiveChanges().isEnabled()).isTrue();
        assertThat(bound.getLiveChanges().getMaxBodySize()).isEqualTo(DataSize.ofKilobytes(2));
        assertThat(bound.getOnMissingSocket()).isEqualTo(io.sksteer.steering.OnMissingSocket.PASS);
    }

    @Test
    void validKeysInAContextGetPastTheCheck() {
        runner.withPropertyValues("sksteer.listeners.web.rules[0].prefixes=127.77.0.0/16", "sksteer.listeners.web.rules[0].ports=80",
                        "sksteer.listeners.web.reusePort=true", "sksteer.live-changes.enabled=false")
                .run(context -> {
                    // Past the check the context fails later, when steering starts on the guard namespace path.
                    assertThat(context).hasFailed();
                    assertThat(context.getStartupFailure()).hasMessageContaining("sksteerLifecycle");
                    for (Throwable c = context.getStartupFailure(); c != null; c = c.getCause()) {
                        assertThat(c).isNotInstanceOf(UnknownKeyException.class);
                    }
                });
    }

    @Test
    void listenerNamesAreFreeEvenWhenTheyLookLikeProperties() {
        StandardEnvironment environment = environment(new MapPropertySource("application", Map.of(
                "sksteer.listeners.rules.protocol", "udp",
                "sksteer.listeners.protocol.rules[0].ports", "53",
                "sksteer.listeners[my.api].socket", "web-server")));
        assertThatCode(() -> UnknownKeyCheck.check(environment, SksteerPropertyKeys.INSTANCE)).doesNotThrowAnyException();
    }

    @Test
    void theKernelTestsSwitchIsAcceptedAsASystemProperty() {
        // The build sets it in every test JVM, this one included: the check must let it through.
        runner.withSystemProperties("sksteer.kernel-tests=required")
                .withPropertyValues("sksteer.listeners.web.rules[0].prefixes=127.77.0.0/16", "sksteer.listeners.web.rules[0].ports=80")
                .run(context -> {
                    assertThat(System.getProperty("sksteer.kernel-tests")).isEqualTo("required");
                    // Past the check the context fails later, when steering starts on the guard namespace path.
                    assertThat(context.getStartupFailure()).hasMessageContaining("sksteerLifecycle");
                    for (Throwable c = context.getStartupFailure(); c != null; c = c.getCause()) {
                        assertThat(c).isNotInstanceOf(UnknownKeyException.class);
                    }
                });
    }

    @Test
    void theKernelTestsSwitchIsNoPropertyInTheApplicationsConfiguration() {
        runner.withPropertyValues("sksteer.kernel-tests=required").run(context -> {
            assertThat(context).hasFailed();
            assertThat(findCause(context.getStartupFailure()).findings().get(0).key()).isEqualTo("sksteer.kernel-tests");
        });
    }

    @Test
    void aDisabledStarterChecksNothing() {
        runner.withPropertyValues("sksteer.enabled=false", "sksteer.listners.web.protocol=udp")
                .run(context -> assertThat(context).hasNotFailed().doesNotHaveBean(UnknownKeyCheck.class));
    }

    @Test
    void aLargeEnvironmentIsCheckedInOnePassAndReportsABoundedNumberOfKeys() {
        Map<String, Object> other = new LinkedHashMap<>();
        for (int i = 0; i < 200_000; i++) {
            other.put("app.setting" + i, "x");
        }
        Map<String, Object> ours = new LinkedHashMap<>();
        for (int i = 0; i < 20_000; i++) {
            ours.put("sksteer.listeners.l" + i + ".rules[0].ports", "80");
            ours.put("sksteer.unknown" + i + ".key", "x");
        }
        StandardEnvironment environment = environment(new MapPropertySource("other", other), new MapPropertySource("ours", ours));
        long t0 = System.nanoTime();
        assertThatThrownBy(() -> UnknownKeyCheck.check(environment, SksteerPropertyKeys.INSTANCE))
                .isInstanceOfSatisfying(UnknownKeyException.class, e -> {
                    assertThat(e.findings()).hasSize(UnknownKeyCheck.MAX_REPORTED);
                    assertThat(e.unreported()).isEqualTo(20_000 - UnknownKeyCheck.MAX_REPORTED);
                });
        long ms = (System.nanoTime() - t0) / 1_000_000;
        System.out.println("checked 240,000 keys (40,000 under sksteer, 20,000 unknown) in " + ms + " ms");
        // Generous for a shared machine: quadratic work here would take minutes.
        assertThat(ms).isLessThan(10_000);
    }

    private static SystemEnvironmentPropertySource environmentVariables(Map<String, Object> variables) {
        return new SystemEnvironmentPropertySource(StandardEnvironment.SYSTEM_ENVIRONMENT_PROPERTY_SOURCE_NAME, variables);
    }

    private static StandardEnvironment environment(org.springframework.core.env.PropertySource<?>... sources) {
        StandardEnvironment environment = new StandardEnvironment();
        environment.getPropertySources().remove(StandardEnvironment.SYSTEM_ENVIRONMENT_PROPERTY_SOURCE_NAME);
        for (org.springframework.core.env.PropertySource<?> s : sources) {
            environment.getPropertySources().addLast(s);
        }
        return environment;
    }

    private static UnknownKeyException findCause(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof UnknownKeyException e) {
                return e;
            }
        }
        throw new AssertionError("no UnknownKeyException in the cause chain of " + t, t);
    }
}
