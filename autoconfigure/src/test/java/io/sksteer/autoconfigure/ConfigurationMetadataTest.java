package io.sksteer.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import io.sksteer.steering.PortSpec;
import io.sksteer.steering.Prefix;
import io.sksteer.steering.SteeringConfig;
import java.io.IOException;
import java.io.InputStream;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.Test;
import org.springframework.core.ResolvableType;
import org.springframework.util.ClassUtils;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The IDE's view of sksteer's configuration: the metadata the configuration processor writes
 * (merged with additional-spring-configuration-metadata.json) has an entry with a description for
 * every property of {@link SksteerProperties} — the per-listener and per-rule ones included, which
 * the processor does not reach by itself — and hints the values the parsers accept. The list of
 * properties comes from the properties classes by reflection ({@link SksteerPropertyKeys}).
 */
class ConfigurationMetadataTest {

    private static final List<SksteerPropertyKeys.Property> PROPERTIES = SksteerPropertyKeys.INSTANCE.properties();
    private static final List<SksteerPropertyKeys.Property> REPEATED = PROPERTIES.stream()
            .filter(SksteerPropertyKeys.Property::repeated).toList();

    private final JsonNode generated = ours("META-INF/spring-configuration-metadata.json");
    private final JsonNode additional = ours("META-INF/additional-spring-configuration-metadata.json");
    // What the IDE reads, as the processor merges it. Merged here too: the processor runs only when
    // Java sources compile, so after an edit of the additional file alone its merged copy is stale;
    // and the wildcard names ('*', '[*]'), which the processor never writes, come from the
    // additional file alone, so that one removed there fails here at once.
    private final Map<String, JsonNode> properties = merged("properties");
    private final Map<String, JsonNode> hints = merged("hints");

    @Test
    void reflectionFindsThePerListenerAndPerRuleProperties() {
        // A guard on the derivation itself: were it to find nothing, the tests below would pass vacuously.
        assertThat(REPEATED).extracting(SksteerPropertyKeys.Property::name).contains(
                "sksteer.listeners.*.protocol", "sksteer.listeners.*.rules", "sksteer.listeners.*.rules[*].ports",
                "sksteer.live-changes.allowed[*].prefixes");
    }

    @Test
    void everyPropertyHasAnEntryWithADescriptionAndItsType() {
        SoftAssertions softly = new SoftAssertions();
        for (SksteerPropertyKeys.Property p : PROPERTIES) {
            JsonNode entry = properties.get(p.name());
            softly.assertThat(entry).as("metadata entry for %s", p.name()).isNotNull();
            if (entry != null) {
                softly.assertThat(text(entry, "description")).as("description of %s", p.name()).isNotBlank();
                softly.assertThat(text(entry, "type")).as("type of %s", p.name()).isEqualTo(metadataType(p.type()));
            }
        }
        softly.assertAll();
    }

    @Test
    void theDescriptionsOfRepeatedPropertiesAreTheirJavadoc() throws IOException {
        // The processor takes the other descriptions from the Javadoc; these are copied by hand.
        String source = Files.readString(Path.of("src/main/java/io/sksteer/autoconfigure/SksteerProperties.java"));
        SoftAssertions softly = new SoftAssertions();
        for (SksteerPropertyKeys.Property p : REPEATED) {
            JsonNode entry = properties.get(p.name());
            softly.assertThat(entry == null ? null : text(entry, "description")).as("description of %s", p.name())
                    .isEqualTo(javadoc(source, p));
        }
        softly.assertAll();
    }

    @Test
    void protocolsAreHintedAsTcpAndUdp() {
        List<SksteerPropertyKeys.Property> protocols = REPEATED.stream().filter(p -> last(p).equals("protocol")).toList();
        assertThat(protocols).hasSize(2);
        for (SksteerPropertyKeys.Property p : protocols) {
            assertThat(hintValues(p.name())).as(p.name()).containsExactly("tcp", "udp");
            hintValues(p.name()).forEach(io.sksteer.steering.RuleGrammar::protocol);
        }
    }

    @Test
    void socketIsHintedWithEverySocketKind() {
        assertThat(hintValues("sksteer.listeners.*.socket"))
                .containsExactlyElementsOf(Arrays.stream(ListenerSocketKind.values()).map(ListenerSocketKind::value).toList());
    }

    @Test
    void onMissingSocketIsHintedAsDropAndPass() {
        assertThat(hintValues("sksteer.on-missing-socket")).containsExactly("drop", "pass");
    }

    @Test
    void portsAreHintedInEachFormAndEveryHintParses() {
        List<SksteerPropertyKeys.Property> ports = REPEATED.stream().filter(p -> last(p).equals("ports")).toList();
        assertThat(ports).hasSize(2);
        for (SksteerPropertyKeys.Property p : ports) {
            List<String> values = hintValues(p.name());
            assertThat(values).as(p.name()).contains("all").anyMatch(v -> v.matches("\\d+")).anyMatch(v -> v.matches("\\d+-\\d+"));
            values.forEach(v -> assertThatCode(() -> PortSpec.parse(v, p.name())).as(v).doesNotThrowAnyException());
        }
    }

    @Test
    void prefixesAreHintedAndEveryHintParses() {
        List<SksteerPropertyKeys.Property> prefixes = REPEATED.stream().filter(p -> last(p).equals("prefixes")).toList();
        assertThat(prefixes).hasSize(2);
        for (SksteerPropertyKeys.Property p : prefixes) {
            List<String> values = hintValues(p.name());
            assertThat(values).as(p.name()).anyMatch(v -> v.contains(".")).anyMatch(v -> v.contains(":"));
            values.forEach(v -> assertThatCode(() -> Prefix.parse(v, p.name())).as(v).doesNotThrowAnyException());
        }
    }

    @Test
    void theAdditionalMetadataNamesOnlyPropertiesThatExist() {
        // A renamed property must not leave its hand-written entry or hint behind.
        List<String> names = PROPERTIES.stream().map(SksteerPropertyKeys.Property::name).toList();
        for (String section : List.of("properties", "hints")) {
            for (JsonNode n : additional.get(section)) {
                assertThat(names).as(section).contains(text(n, "name"));
            }
        }
        for (JsonNode g : additional.get("groups")) {
            assertThat(names).as("a property in group %s", text(g, "name")).anyMatch(n -> n.startsWith(text(g, "name")));
        }
    }

    private List<String> hintValues(String name) {
        JsonNode hint = hints.get(name);
        assertThat(hint).as("hint for %s", name).isNotNull();
        List<String> values = new ArrayList<>();
        for (JsonNode v : hint.get("values")) {
            assertThat(text(v, "description")).as("description of hint %s of %s", text(v, "value"), name).isNotBlank();
            values.add(text(v, "value"));
        }
        return values;
    }

    private static String last(SksteerPropertyKeys.Property p) {
        return p.steps().get(p.steps().size() - 1).name();
    }

    /** The type as the metadata writes it: wrappers for primitives, generics without spaces. */
    private static String metadataType(ResolvableType type) {
        String name = ClassUtils.resolvePrimitiveIfNecessary(type.resolve(Object.class)).getName();
        if (!type.hasGenerics()) {
            return name;
        }
        return name + Arrays.stream(type.getGenerics()).map(ConfigurationMetadataTest::metadataType)
                .collect(Collectors.joining(",", "<", ">"));
    }

    /** The Javadoc of the field behind {@code p} in its class's source, as the processor renders Javadoc. */
    private static String javadoc(String source, SksteerPropertyKeys.Property p) {
        int start = source.indexOf("class " + p.owner().getSimpleName() + " ");
        int end = source.indexOf(" class ", start + 1);
        String body = source.substring(start, end < 0 ? source.length() : end);
        String field = Arrays.stream(last(p).split("-")).map(w -> Character.toUpperCase(w.charAt(0)) + w.substring(1))
                .collect(Collectors.joining());
        field = Character.toLowerCase(field.charAt(0)) + field.substring(1);
        Matcher m = Pattern.compile("/\\*\\*((?:(?!\\*/).)*)\\*/\\s*private [^;=]*\\b" + field + "\\b", Pattern.DOTALL).matcher(body);
        if (!m.find()) {
            return "(no Javadoc for " + field + " in " + p.owner().getSimpleName() + ")";
        }
        return m.group(1).replaceAll("(?m)^\\s*\\*", " ").replaceAll("\\{@(?:code|link) ([^}]*)}", "$1").replaceAll("\\s+", " ").trim();
    }

    private static String text(JsonNode node, String field) {
        JsonNode v = node.get(field);
        return v == null ? null : v.asString();
    }

    private Map<String, JsonNode> merged(String section) {
        Map<String, JsonNode> out = new LinkedHashMap<>();
        for (JsonNode metadata : List.of(generated, additional)) {
            for (JsonNode n : metadata.get(section)) {
                if (metadata == additional || !text(n, "name").contains("*")) {
                    out.put(text(n, "name"), n);
                }
            }
        }
        return out;
    }

    /** This module's copy of {@code resource}: the one that knows sksteer.on-missing-socket. */
    private static JsonNode ours(String resource) {
        try {
            for (URL url : Collections.list(ConfigurationMetadataTest.class.getClassLoader().getResources(resource))) {
                try (InputStream in = url.openStream()) {
                    String json = new String(in.readAllBytes(), StandardCharsets.UTF_8);
                    if (json.contains("\"sksteer.on-missing-socket\"")) {
                        return JsonMapper.builder().build().readTree(json);
                    }
                }
            }
        } catch (IOException e) {
            throw new AssertionError(e);
        }
        throw new AssertionError("no " + resource + " of sksteer on the class path");
    }
}
