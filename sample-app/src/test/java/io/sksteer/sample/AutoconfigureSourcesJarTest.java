package io.sksteer.sample;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.JarURLConnection;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.jar.JarFile;
import java.util.zip.ZipEntry;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The auto-configuration module publishes a sources jar with the source of every class it ships:
 * IDEs read the properties' Javadoc from it. The jar comes from this build's package phase of the
 * autoconfigure module (a test dependency of this module, resolved in the reactor).
 */
class AutoconfigureSourcesJarTest {

    private static final String PROPERTIES = "io/sksteer/autoconfigure/SksteerProperties";

    @Test
    void theSourcesJarHoldsTheSourceOfEveryClassOfTheAutoconfigureJar() throws IOException {
        URL classes = getClass().getClassLoader().getResource(PROPERTIES + ".class");
        assertThat(classes).isNotNull();
        // A build that stops before package (mvn test) gets the module's class directory for
        // every artifact of it: there is no jar to check yet.
        Assumptions.assumeTrue(classes.getProtocol().equals("jar"),
                () -> "the autoconfigure module was not packaged in this build (" + classes + "): its sources jar is made in package");
        URL sources = getClass().getClassLoader().getResource(PROPERTIES + ".java");
        assertThat(sources).as("SksteerProperties.java on the test class path (the sources jar)").isNotNull();
        try (JarFile sourcesJar = jar(sources); JarFile classesJar = jar(classes)) {
            assertThat(sourcesJar.getName()).endsWith("-sources.jar");
            List<String> topLevelClasses = classesJar.stream().map(ZipEntry::getName)
                    .filter(n -> n.startsWith("io/sksteer/") && n.endsWith(".class") && !n.contains("$"))
                    .map(n -> n.substring(0, n.length() - ".class".length())).toList();
            assertThat(topLevelClasses).hasSizeGreaterThan(50);
            assertThat(topLevelClasses).allSatisfy(c -> assertThat(sourcesJar.getEntry(c + ".java")).as(c + ".java").isNotNull());
            String properties = new String(sourcesJar.getInputStream(sourcesJar.getEntry(PROPERTIES + ".java")).readAllBytes(),
                    StandardCharsets.UTF_8);
            // What an IDE shows for sksteer.listeners.NAME.protocol.
            assertThat(properties).contains("/** The transport: 'tcp' or 'udp'. Default: tcp. */");
        }
    }

    private static JarFile jar(URL entry) throws IOException {
        JarURLConnection c = (JarURLConnection) entry.openConnection();
        c.setUseCaches(false);
        return c.getJarFile();
    }
}
