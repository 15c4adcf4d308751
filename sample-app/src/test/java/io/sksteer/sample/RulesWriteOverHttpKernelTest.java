package io.sksteer.sample;

import static org.assertj.core.api.Assertions.assertThat;

import io.sksteer.testkit.KernelTest;
import io.sksteer.testkit.LabelledListeners;
import io.sksteer.testkit.TestNetns;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.boot.SpringApplication;
import org.springframework.context.ConfigurableApplicationContext;

/** {@code POST /actuator/sksteer/rules}: off by default, and when allowed it changes the rules live. */
@KernelTest
class RulesWriteOverHttpKernelTest {

    @RegisterExtension
    static final TestNetns ns = TestNetns.perClass();

    private static final String NEW_RULES = "{\"rules\": \"web 127.77.0.0/16 443; echo 127.77.0.0/16 5353\"}";

    @Test
    void theWriteOperationIsOffUnlessAllowed() throws Exception {
        try (ConfigurableApplicationContext app = start()) {
            HttpResponse<String> r = post(app, NEW_RULES);
            assertThat(r.statusCode()).as(r.body()).isGreaterThanOrEqualTo(400).isNotEqualTo(503);
            assertThat(LabelledListeners.httpGet(ns, new InetSocketAddress("127.77.1.2", 8123))).isNotEqualTo("refused");
        }
    }

    @Test
    void whenAllowedItReplacesTheRulesAndRejectsInvalidOnesWithA400() throws Exception {
        try (ConfigurableApplicationContext app = start("--management.endpoint.sksteer.access=unrestricted")) {
            HttpResponse<String> bad = post(app, NEW_RULES.replace(" 443;", " 99999;"));
            assertThat(bad.statusCode()).isEqualTo(400);
            assertThat(bad.body()).contains("rules.web[0].ports[0]").contains("99999");
            assertThat(LabelledListeners.httpGet(ns, new InetSocketAddress("127.77.1.2", 8123))).as("old rules stay")
                    .isNotEqualTo("refused");

            HttpResponse<String> ok = post(app, NEW_RULES);
            assertThat(ok.statusCode()).as(ok.body()).isEqualTo(200);
            assertThat(ok.body()).contains("\"rules\":2");
            assertThat(LabelledListeners.httpGet(ns, new InetSocketAddress("127.77.1.2", 8123))).isEqualTo("refused");
            assertThat(LabelledListeners.httpGet(ns, new InetSocketAddress("127.77.1.2", 443))).isNotEqualTo("refused");
        }
    }

    @Test
    void whenAllowedItAddsAndRemovesRules() throws Exception {
        try (ConfigurableApplicationContext app = start("--management.endpoint.sksteer.access=unrestricted")) {
            InetSocketAddress added = new InetSocketAddress("127.88.0.1", 8123);
            assertThat(LabelledListeners.httpGet(ns, added)).isEqualTo("refused");
            HttpResponse<String> add = post(app, "add", "{\"rules\": \"web 127.88.0.0/24 8123\"}");
            assertThat(add.statusCode()).as(add.body()).isEqualTo(200);
            assertThat(LabelledListeners.httpGet(ns, added)).isNotEqualTo("refused");

            HttpResponse<String> absent = post(app, "remove", "{\"rules\": \"web 127.89.0.0/24 8123\"}");
            assertThat(absent.statusCode()).isEqualTo(400);
            assertThat(absent.body()).contains("no such rule is in force");

            HttpResponse<String> remove = post(app, "remove", "{\"rules\": \"web 127.88.0.0/24 8123\"}");
            assertThat(remove.statusCode()).as(remove.body()).isEqualTo(200);
            assertThat(LabelledListeners.httpGet(ns, added)).isEqualTo("refused");
            assertThat(LabelledListeners.httpGet(ns, new InetSocketAddress("127.77.1.2", 8123))).as("the configured rules stay")
                    .isNotEqualTo("refused");
        }
    }

    private static ConfigurableApplicationContext start(String... extra) {
        String[] args = new String[extra.length + 2];
        args[0] = "--sksteer.netns=" + ns.path();
        args[1] = "--server.port=0";
        System.arraycopy(extra, 0, args, 2, extra.length);
        return SpringApplication.run(SampleApplication.class, args);
    }

    private static HttpResponse<String> post(ConfigurableApplicationContext app, String body) throws Exception {
        return post(app, "rules", body);
    }

    private static HttpResponse<String> post(ConfigurableApplicationContext app, String operation, String body) throws Exception {
        int port = Integer.parseInt(app.getEnvironment().getProperty("local.server.port"));
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/actuator/sksteer/" + operation))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
    }
}
