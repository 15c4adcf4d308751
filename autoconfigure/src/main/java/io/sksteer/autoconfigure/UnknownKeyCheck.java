package io.sksteer.autoconfigure;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.springframework.beans.factory.config.BeanFactoryPostProcessor;
import org.springframework.beans.factory.config.ConfigurableListableBeanFactory;
import org.springframework.boot.context.properties.source.ConfigurationProperty;
import org.springframework.boot.context.properties.source.ConfigurationPropertyName;
import org.springframework.boot.context.properties.source.ConfigurationPropertySource;
import org.springframework.boot.context.properties.source.ConfigurationPropertySources;
import org.springframework.boot.context.properties.source.IterableConfigurationPropertySource;
import org.springframework.boot.origin.Origin;
import org.springframework.boot.origin.PropertySourceOrigin;
import org.springframework.context.EnvironmentAware;
import org.springframework.core.env.Environment;
import org.springframework.core.env.PropertySource;
import org.springframework.core.env.StandardEnvironment;
import org.springframework.core.env.SystemEnvironmentPropertySource;

/**
 * Fails startup on a configuration key under {@code sksteer} that no sksteer property has (the
 * binder would ignore it: a mistyped {@code sksteer.listners} would start with no listeners and
 * attach an empty program). Runs as a bean factory post-processor, before any bean is created, so
 * before anything reaches the kernel and before another configuration error could hide the typo.
 *
 * <p>Keys are read as the binder reads them, from every enumerable property source: relaxed forms
 * ({@code reusePort}, {@code SKSTEER_LISTENERS_WEB_RULES_0_PORTS}) are the canonical kebab names.
 * The cost is one pass over the environment's names; the nearest key is computed only for the keys
 * reported, at most {@value #MAX_REPORTED}.
 */
final class UnknownKeyCheck implements BeanFactoryPostProcessor, EnvironmentAware {

    static final int MAX_REPORTED = 10;

    /**
     * Not a property: the build's switch for the kernel tests, read by the test kit
     * (KernelTestExtension) from a system property. The build sets it in every test JVM
     * ({@code -Dsksteer.kernel-tests=auto|required}), so every application a test starts in that
     * JVM sees it. It is accepted from the system properties only, where the test kit reads it.
     */
    static final ConfigurationPropertyName KERNEL_TESTS_SWITCH = ConfigurationPropertyName.of("sksteer.kernel-tests");

    private Environment environment;

    @Override
    public void setEnvironment(Environment environment) {
        this.environment = environment;
    }

    @Override
    public void postProcessBeanFactory(ConfigurableListableBeanFactory beanFactory) {
        check(environment, SksteerPropertyKeys.INSTANCE);
    }

    /** @throws UnknownKeyException naming the unknown keys, their sources and the nearest known keys */
    static void check(Environment environment, SksteerPropertyKeys keys) {
        // The first key of each unknown stem per source (a mistyped 'listners:' in YAML is one
        // mistake however many keys are under it), in the sources' order of precedence.
        Map<String, Unknown> unknown = new LinkedHashMap<>();
        for (ConfigurationPropertySource source : ConfigurationPropertySources.get(environment)) {
            if (!(source instanceof IterableConfigurationPropertySource iterable)) {
                continue;
            }
            Object underlying = source.getUnderlyingSource();
            String sourceName = underlying instanceof PropertySource<?> p ? p.getName() : String.valueOf(underlying);
            // The binder reads environment variables in a legacy form too: SKSTEER_LIVE_CHANGES_ENABLED
            // is sksteer.live-changes.enabled, so there adjacent elements may make one dashed name.
            boolean environmentVariables = underlying instanceof SystemEnvironmentPropertySource;
            boolean systemProperties = StandardEnvironment.SYSTEM_PROPERTIES_PROPERTY_SOURCE_NAME.equals(sourceName);
            iterable.stream().filter(SksteerPropertyKeys.ROOT::isAncestorOf).forEach(name -> {
                if (systemProperties && name.equals(KERNEL_TESTS_SWITCH) || keys.isKnown(name, environmentVariables)) {
                    return;
                }
                ConfigurationPropertyName stem = keys.unknownStem(name, environmentVariables);
                unknown.computeIfAbsent(sourceName + "\u0000" + stem, k -> new Unknown(source, sourceName, name, stem, environmentVariables)).alike++;
            });
        }
        if (unknown.isEmpty()) {
            return;
        }
        List<UnknownKeyException.Finding> findings = new ArrayList<>();
        for (Unknown u : unknown.values()) {
            if (findings.size() == MAX_REPORTED) {
                break;
            }
            ConfigurationProperty property = u.source.getConfigurationProperty(u.name);
            String key = SksteerPropertyKeys.display(u.name);
            findings.add(new UnknownKeyException.Finding(key, u.sourceName, origin(property, key, u.environmentVariables),
                    keys.nearest(u.name), u.alike - 1, SksteerPropertyKeys.display(u.stem)));
        }
        throw new UnknownKeyException(findings, unknown.size() - findings.size());
    }

    /**
     * The file and line, or the name as the source spells it (an environment variable's); a bare
     * "'key' from property source 'name'" says nothing the key and the source do not.
     */
    private static String origin(ConfigurationProperty property, String key, boolean environmentVariables) {
        Origin o = property == null ? null : property.getOrigin();
        if (o instanceof PropertySourceOrigin p) {
            if (p.getOrigin() != null) {
                return p.getOrigin().toString();
            }
            return p.getPropertyName().equals(key) ? null
                    : (environmentVariables ? "environment variable " : "key ") + p.getPropertyName();
        }
        return o == null ? null : o.toString();
    }

    private static final class Unknown {
        final ConfigurationPropertySource source;
        final String sourceName;
        final ConfigurationPropertyName name;
        final ConfigurationPropertyName stem;
        final boolean environmentVariables;
        int alike;

        Unknown(ConfigurationPropertySource source, String sourceName, ConfigurationPropertyName name, ConfigurationPropertyName stem,
                boolean environmentVariables) {
            this.environmentVariables = environmentVariables;
            this.source = source;
            this.sourceName = sourceName;
            this.name = name;
            this.stem = stem;
        }
    }
}
