package io.sksteer.webserver;

import static io.sksteer.testkit.TestSockets.addr;
import static org.assertj.core.api.Assertions.assertThat;

import io.sksteer.autoconfigure.SksteerLifecycle;
import io.sksteer.testkit.HttpProbe;
import io.sksteer.testkit.KernelTest;
import io.sksteer.testkit.TestNetns;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.boot.actuate.audit.AuditEventRepository;
import org.springframework.boot.actuate.audit.InMemoryAuditEventRepository;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.security.autoconfigure.actuate.web.servlet.EndpointRequest;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.http.HttpMethod;
import org.springframework.security.config.Customizer;
import org.springframework.security.config.annotation.web.builders.HttpSecurity;
import org.springframework.security.config.http.SessionCreationPolicy;
import org.springframework.security.core.userdetails.User;
import org.springframework.security.provisioning.InMemoryUserDetailsManager;
import org.springframework.security.web.SecurityFilterChain;

/**
 * The recipe of docs/security.md with the real spring-boot-starter-security, on Tomcat inside a
 * namespace of the test's own: the sksteer write operations need the role SKSTEER_ADMIN, reads
 * need a login, health is open; HTTP Basic, no session, CSRF tokens not used because a write only
 * takes a JSON body (a cross-site form cannot send one without a CORS preflight, which nothing
 * allows).
 */
@KernelTest
class ActuatorSecurityKernelTest {

    @RegisterExtension
    static final TestNetns ns = TestNetns.perClass();
    private static ConfigurableApplicationContext app;
    private static InetSocketAddress actuator;

    /** The recipe. */
    @Configuration(proxyBeanMethods = false)
    static class ActuatorSecurity {

        @Bean
        SecurityFilterChain actuatorSecurity(HttpSecurity http) throws Exception {
            http.securityMatcher(EndpointRequest.toAnyEndpoint())
                    .authorizeHttpRequests(requests -> requests
                            .requestMatchers(EndpointRequest.to("sksteer").withHttpMethod(HttpMethod.POST)).hasRole("SKSTEER_ADMIN")
                            .requestMatchers(EndpointRequest.to("health")).permitAll()
                            .anyRequest().authenticated())
                    .httpBasic(Customizer.withDefaults())
                    .sessionManagement(s -> s.sessionCreationPolicy(SessionCreationPolicy.STATELESS))
                    .csrf(csrf -> csrf.ignoringRequestMatchers(EndpointRequest.to("sksteer")));
            return http.build();
        }

        @Bean
        InMemoryUserDetailsManager users() {
            return new InMemoryUserDetailsManager(
                    User.withUsername("ops").password("{noop}ops-secret").roles("SKSTEER_ADMIN").build(),
                    User.withUsername("viewer").password("{noop}viewer-secret").roles("VIEWER").build());
        }

        @Bean
        AuditEventRepository auditEvents() {
            return new InMemoryAuditEventRepository();
        }
    }

    @BeforeAll
    static void start() {
        app = ns.call(() -> new SpringApplicationBuilder(MvcTestApp.class, ActuatorSecurity.class).properties(
                "spring.main.banner-mode=off",
                "spring.autoconfigure.exclude=org.springframework.boot.jetty.autoconfigure.servlet.JettyServletWebServerAutoConfiguration,"
                        + "org.springframework.boot.jetty.autoconfigure.actuate.web.server.JettyServletManagementContextAutoConfiguration",
                "spring.main.web-application-type=servlet",
                "sksteer.netns=" + ns.path(),
                "sksteer.listeners.site.socket=web-server",
                "sksteer.listeners.site.rules[0].prefixes[0]=127.77.0.0/16",
                "sksteer.listeners.site.rules[0].ports[0]=8000-8099",
                "sksteer.live-changes.enabled=true",
                "management.endpoint.sksteer.access=unrestricted",
                "management.endpoints.web.exposure.include=sksteer,health",
                // The actuator apart, on loopback: the steered addresses reach the controllers only.
                "management.server.port=0", "management.server.address=127.0.0.1",
                "server.port=0").run());
        actuator = addr("127.0.0.1", Integer.parseInt(app.getEnvironment().getProperty("local.management.port")));
    }

    @AfterAll
    static void stop() {
        if (app != null) {
            app.close();
        }
        assertThat(ns.namespace().skLookupProgramIds()).isEmpty();
    }

    private static HttpProbe.Answer post(String user, String contentType, String body) {
        Map<String, String> headers = new java.util.HashMap<>();
        if (user != null) {
            headers.put("Authorization", "Basic " + Base64.getEncoder().encodeToString(user.getBytes(StandardCharsets.UTF_8)));
        }
        if (contentType != null) {
            headers.put("Content-Type", contentType);
        }
        return HttpProbe.request(ns, actuator, "POST", "/actuator/sksteer/add", headers, body);
    }

    @Test
    void aWriteNeedsCredentialsAndTheRole() {
        String add = "{\"rules\": \"site 127.77.1.0/24 8001\"}";
        assertThat(post(null, null, add).status()).as("no credentials").isEqualTo(401);
        assertThat(post("ops:wrong", null, add).status()).as("a wrong password").isEqualTo(401);
        assertThat(post("viewer:viewer-secret", null, add).status()).as("without the role").isEqualTo(403);
        int before = app.getBean(SksteerLifecycle.class).engine().rules().size();
        HttpProbe.Answer ok = post("ops:ops-secret", null, add);
        assertThat(ok.status()).as(ok.body()).isEqualTo(200);
        assertThat(app.getBean(SksteerLifecycle.class).engine().rules().size()).isEqualTo(before + 1);

        // The change is in the audit, with the principal, as Spring Boot's audit events too.
        var events = app.getBean(AuditEventRepository.class).find("ops", null, "SKSTEER_RULES_APPLIED");
        assertThat(events).hasSize(1);
        assertThat(events.get(0).getData()).containsEntry("operation", "add").containsEntry("added", 1);
        assertThat((String) events.get(0).getData().get("origin")).startsWith("http principal=ops remote=127.0.0.1:");
    }

    @Test
    void aCrossSiteFormCannotWriteEvenWithCredentials() {
        // What a page on another site can send without a CORS preflight: a form, text/plain. The
        // write operation takes JSON only.
        HttpProbe.Answer form = post("ops:ops-secret", "text/plain", "{\"rules\": \"site 127.77.2.0/24 8002\"}");
        assertThat(form.status()).as(form.body()).isEqualTo(415);
    }

    @Test
    void readsNeedALoginAndHealthIsOpen() {
        assertThat(HttpProbe.get(ns, actuator, "/actuator/sksteer").status()).isEqualTo(401);
        assertThat(HttpProbe.request(ns, actuator, "GET", "/actuator/sksteer", Map.of("Authorization",
                "Basic " + Base64.getEncoder().encodeToString("viewer:viewer-secret".getBytes(StandardCharsets.UTF_8))), null).status())
                .isEqualTo(200);
        assertThat(HttpProbe.get(ns, actuator, "/actuator/health").status()).isEqualTo(200);
    }

    @Test
    void aRequestFromARebindingPageGetsNothingWithoutCredentials() {
        // DNS rebinding: a browser's page from evil.example, its name now pointing at 127.0.0.1,
        // reaches the loopback port with its own Host header and without our credentials.
        HttpProbe.Answer r = HttpProbe.request(ns, actuator, "POST", "/actuator/sksteer/add", Map.of("Host", "evil.example:" + actuator.getPort(),
                "Origin", "http://evil.example"), "{\"rules\": \"site 127.77.3.0/24 8003\"}");
        assertThat(r.status()).isEqualTo(401);
        // And the steered addresses never reach the actuator: it is on a management server of its own.
        assertThat(HttpProbe.get(ns, addr("127.77.9.9", 8050), "/actuator/sksteer").status()).isEqualTo(404);
        assertThat(((WebServerApplicationContext) app).getWebServer().getPort()).isNotEqualTo(actuator.getPort());
    }
}
