package io.sksteer.sample;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.springframework.boot.env.YamlPropertySourceLoader;
import org.springframework.core.io.ByteArrayResource;

/** A listener named twice in application.yml is refused when the file is read, naming the key. */
class DuplicateListenerYamlTest {

    @Test
    void aListenerNamedTwiceIsRefused() {
        String yaml = String.join("\n",
                "sksteer:",
                "  listeners:",
                "    web:",
                "      protocol: tcp",
                "    web:",
                "      protocol: udp",
                "");
        assertThatThrownBy(() -> new YamlPropertySourceLoader().load("application.yml",
                        new ByteArrayResource(yaml.getBytes(StandardCharsets.UTF_8))))
                .hasStackTraceContaining("duplicate key").hasStackTraceContaining("web");
    }
}
