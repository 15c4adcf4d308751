package io.sksteer.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sksteer.steering.InvalidRuleException;
import io.sksteer.steering.SteeringConfig;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.core.env.MapPropertySource;
import org.springframework.core.env.PropertySource;
import org.springframework.core.env.StandardEnvironment;
import org.springframework.core.env.SystemEnvironmentPropertySource;

/** {@link RuleProperties} reads the rules as Spring's Binder binds them, on every form a user may write. */
class RulePropertiesTest {

    private static StandardEnvironment environment(List<PropertySource<?>> sources) {
        StandardEnvironment env = new StandardEnvironment();
        // Only the given sources: the machine's own environment and system properties are not part of the case.
        List.copyOf(env.getPropertySources().stream().map(PropertySource::getName).toList()).forEach(env.getPropertySources()::remove);
        sources.forEach(env.getPropertySources()::addLast);
        return env;
    }

    private static MapPropertySource map(String name, String... keyValues) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < keyValues.length; i += 2) {
            m.put(keyValues[i], keyValues[i + 1]);
        }
        return new MapPropertySource(name, m);
    }

    @Test
    void readsWhatTheBinderBindsAcrossSourcesFormsAndPrecedence() {
        Map<String, Object> envVars = new HashMap<>();
        envVars.put("SKSTEER_LISTENERS_C_RULES_0_PREFIXES", "192.0.2.0/24");
        envVars.put("SKSTEER_LISTENERS_C_RULES_0_PORTS", "53");
        envVars.put("SKSTEER_LISTENERS_C_RULES_1_PREFIXES_0", "198.51.100.0/24");
        envVars.put("SKSTEER_LISTENERS_C_RULES_1_PORTS_0", "all");
        StandardEnvironment env = environment(List.of(
                map("high",
                        "sksteer.listeners.a.rules[0].prefixes", "10.0.0.0/8, 10.1.0.0/16",
                        "sksteer.listeners.a.rules[0].ports", "80,443",
                        "sksteer.listeners.a.rules[0].allow-shadowing", "yes",
                        "sksteer.listeners.d.rules[0].prefixes[0]", "2001:db8::/64",
                        "sksteer.listeners.d.rules[0].ports[0]", "${my.port}",
                        "sksteer.listeners.d.rules[0].allowShadowing", "true",
                        "sksteer.listeners.e.protocol", "udp",
                        // Spellings the hand parser leaves to Spring's names.
                        "sksteer.listeners.Mixed_Case.rules[0].prefixes", "10.9.0.0/16",
                        "sksteer.listeners.Mixed_Case.rules[0].ports", "all",
                        "sksteer.listeners[odd.name].rules[0].prefixes[0]", "10.8.0.0/16",
                        "sksteer.listeners[odd.name].rules[0].ports", "7",
                        "sksteer.listeners.f.rules[0].PORTS", "99",
                        "sksteer.listeners.f.rules[0].prefixes", "10.7.0.0/16",
                        "my.port", "8443"),
                new SystemEnvironmentPropertySource(StandardEnvironment.SYSTEM_ENVIRONMENT_PROPERTY_SOURCE_NAME, envVars),
                map("low",
                        // Replaced whole by 'high' (lists are not merged across sources) ...
                        "sksteer.listeners.a.rules[0].prefixes", "172.16.0.0/12",
                        "sksteer.listeners.a.rules[1].prefixes", "172.17.0.0/16",
                        "sksteer.listeners.a.rules[1].ports", "22",
                        // ... while a listener only here is read from here.
                        "sksteer.listeners.b.rules[0].prefixes[0]", "127.0.0.1/32",
                        "sksteer.listeners.b.rules[0].prefixes[1]", "127.0.0.2/32",
                        "sksteer.listeners.b.rules[0].ports", "8000-8099",
                        "sksteer.listeners.b.rules[1].prefixes", "127.0.0.3/32",
                        "sksteer.listeners.b.rules[1].ports", "9000",
                        "sksteer.listeners.b.rules[1].allow-shadowing", "off")));
        Map<String, List<SteeringConfig.RuleText>> read = RuleProperties.read(env);
        assertThat(read).isEqualTo(ConfigurationRefresh.bound(env));
        assertThat(read.get("a")).containsExactly(new SteeringConfig.RuleText(List.of("10.0.0.0/8", "10.1.0.0/16"), List.of("80", "443"), true));
        assertThat(read.get("d")).containsExactly(new SteeringConfig.RuleText(List.of("2001:db8::/64"), List.of("8443"), true));
        assertThat(read.get("c")).hasSize(2);
        assertThat(read.get("b")).hasSize(2);
        assertThat(read.get("e")).isEmpty();
        assertThat(read.get("odd.name")).containsExactly(new SteeringConfig.RuleText(List.of("10.8.0.0/16"), List.of("7"), false));
        assertThat(read.get("f")).containsExactly(new SteeringConfig.RuleText(List.of("10.7.0.0/16"), List.of("99"), false));
        assertThat(read).containsKey("Mixed_Case");
    }

    @Test
    void tenThousandRulesAreReadLikeTheBinderReadsThem() {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < 10_000; i++) {
            m.put("sksteer.listeners.a.rules[" + i + "].prefixes", "127.88." + (i >> 8) + "." + (i & 0xff));
            m.put("sksteer.listeners.a.rules[" + i + "].ports", "8080");
        }
        StandardEnvironment env = environment(List.of(new MapPropertySource("big", m)));
        assertThat(RuleProperties.read(env)).isEqualTo(ConfigurationRefresh.bound(env));
    }

    @Test
    void aGapAnUnknownFieldOrANonBooleanIsRefusedNamingTheKey() {
        assertThatThrownBy(() -> RuleProperties.read(environment(List.of(map("s",
                "sksteer.listeners.a.rules[0].prefixes", "10.0.0.0/8", "sksteer.listeners.a.rules[0].ports", "80",
                "sksteer.listeners.a.rules[2].prefixes", "10.0.0.0/8", "sksteer.listeners.a.rules[2].ports", "80")))))
                .isInstanceOf(InvalidRuleException.class).hasMessageContaining("sksteer.listeners.a.rules[2]")
                .hasMessageContaining("rules[1] is missing");
        assertThatThrownBy(() -> RuleProperties.read(environment(List.of(map("s",
                "sksteer.listeners.a.rules[0].prefix", "10.0.0.0/8")))))
                .isInstanceOf(InvalidRuleException.class).hasMessageContaining("sksteer.listeners.a.rules[0].prefix")
                .hasMessageContaining("no such rule property 'prefix'");
        assertThatThrownBy(() -> RuleProperties.read(environment(List.of(map("s",
                "sksteer.listeners.a.rules[0].prefixes", "10.0.0.0/8", "sksteer.listeners.a.rules[0].allow-shadowing", "maybe")))))
                .isInstanceOf(InvalidRuleException.class).hasMessageContaining("allow-shadowing").hasMessageContaining("maybe");
    }

    @Test
    void aSourceThatCannotListItsKeysLeavesItToTheBinder() {
        PropertySource<Object> opaque = new PropertySource<>("opaque", new Object()) {
            @Override
            public Object getProperty(String name) {
                return name.equals("sksteer.listeners.a.rules[0].prefixes") ? "10.0.0.0/8" : null;
            }
        };
        assertThat(RuleProperties.read(environment(List.of(opaque)))).isNull();
    }
}
