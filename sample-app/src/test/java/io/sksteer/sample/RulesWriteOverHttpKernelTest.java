package io.sksteer.sample;

import static org.assertj.core.api.Assertions.assertThat;

import io.sksteer.testkit.HttpProbe;
import io.sksteer.testkit.KernelTest;
import io.sksteer.testkit.LabelledListeners;
import io.sksteer.testkit.TestNetns;
import java.net.InetSocketAddress;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
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
            HttpProbe.Answer r = post(app, NEW_RULES);
            assertThat(r.status()).as(r.body()).isGreaterThanOrEqualTo(400).isNotEqualTo(503);
            assertThat(LabelledListeners.httpGet(ns, new InetSocketAddress("127.77.1.2", 8123))).isNotEqualTo("refused");
        }
    }

    @Test
    void whenAllowedItReplacesTheRulesAndRejectsInvalidOnesWithA400() throws Exception {
        try (ConfigurableApplicationContext app = start("--management.endpoint.sksteer.access=unrestricted", "--sksteer.live-changes.enabled=true",
                "--sksteer.live-changes.allowed[0].prefixes=127.0.0.0/8", "--sksteer.live-changes.allowed[0].ports=all")) {
            HttpProbe.Answer bad = post(app, NEW_RULES.replace(" 443;", " 99999;"));
            assertThat(bad.status()).isEqualTo(400);
            assertThat(bad.body()).contains("rules.web[0].ports[0]").contains("99999");
            assertThat(LabelledListeners.httpGet(ns, new InetSocketAddress("127.77.1.2", 8123))).as("old rules stay")
                    .isNotEqualTo("refused");

            HttpProbe.Answer ok = post(app, NEW_RULES);
            assertThat(ok.status()).as(ok.body()).isEqualTo(200);
            assertThat(ok.body()).contains("\"rules\":2");
            assertThat(LabelledListeners.httpGet(ns, new InetSocketAddress("127.77.1.2", 8123))).isEqualTo("refused");
            assertThat(LabelledListeners.httpGet(ns, new InetSocketAddress("127.77.1.2", 443))).isNotEqualTo("refused");
        }
    }

    @Test
    void whenAllowedItAddsAndRemovesRules() throws Exception {
        try (ConfigurableApplicationContext app = start("--management.endpoint.sksteer.access=unrestricted", "--sksteer.live-changes.enabled=true",
                "--sksteer.live-changes.allowed[0].prefixes=127.0.0.0/8", "--sksteer.live-changes.allowed[0].ports=all")) {
            InetSocketAddress added = new InetSocketAddress("127.88.0.1", 8123);
            assertThat(LabelledListeners.httpGet(ns, added)).isEqualTo("refused");
            HttpProbe.Answer add = post(app, "add", "{\"rules\": \"web 127.88.0.0/24 8123\"}");
            assertThat(add.status()).as(add.body()).isEqualTo(200);
            assertThat(LabelledListeners.httpGet(ns, added)).isNotEqualTo("refused");

            HttpProbe.Answer absent = post(app, "remove", "{\"rules\": \"web 127.89.0.0/24 8123\"}");
            assertThat(absent.status()).isEqualTo(400);
            assertThat(absent.body()).contains("no such rule is in force");

            HttpProbe.Answer remove = post(app, "remove", "{\"rules\": \"web 127.88.0.0/24 8123\"}");
            assertThat(remove.status()).as(remove.body()).isEqualTo(200);
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
        return SampleApp.run(ns, args);
    }

    private static HttpProbe.Answer post(ConfigurableApplicationContext app, String body) throws Exception {
        return post(app, "rules", body);
    }

    private static HttpProbe.Answer post(ConfigurableApplicationContext app, String operation, String body) {
        return SampleApp.post(ns, app, "/actuator/sksteer/" + operation, body);
    }
}
