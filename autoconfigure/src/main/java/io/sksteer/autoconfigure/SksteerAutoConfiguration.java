package io.sksteer.autoconfigure;

import io.sksteer.engine.Drain;
import io.sksteer.netty.ListenerHandler;
import io.sksteer.steering.InvalidRuleException;
import io.sksteer.steering.SteeringConfig;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.springframework.beans.factory.BeanFactory;
import org.springframework.beans.factory.NoSuchBeanDefinitionException;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.annotation.BeanFactoryAnnotationUtils;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.context.properties.ConfigurationPropertiesBinding;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Conditional;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.Environment;

/**
 * Steers the traffic of {@code sksteer.listeners} with an sk_lookup program: to Netty listeners
 * sksteer binds, and to the application's own embedded web server. Off with
 * {@code sksteer.enabled=false}, and on anything but Linux.
 */
@AutoConfiguration
@Conditional(OnLinuxCondition.class)
@ConditionalOnProperty(prefix = "sksteer", name = "enabled", havingValue = "true", matchIfMissing = true)
@EnableConfigurationProperties(SksteerProperties.class)
public final class SksteerAutoConfiguration {

    /** Before any bean is created: a mistyped key fails startup before anything reaches the kernel. */
    @Bean
    static UnknownKeyCheck sksteerUnknownKeyCheck() {
        return new UnknownKeyCheck();
    }

    /**
     * The binder's converter for the value types: static, so binding the properties does not wait
     * for this class (converters are looked up before any sksteer bean is made).
     */
    @Bean
    @ConfigurationPropertiesBinding
    static SksteerConverters sksteerConverters() {
        return new SksteerConverters();
    }

    @Bean
    @ConditionalOnMissingBean
    SteeringConfig sksteerConfig(SksteerProperties properties, Environment environment) {
        SteeringConfig.Builder b = new SteeringConfig.Builder(SksteerPropertyPaths.INSTANCE)
                .netns(properties.getNetns())
                .onMissingSocket(properties.getOnMissingSocket())
                .maxRules(properties.getMaxRules());
        properties.getListeners().forEach((name, l) -> {
            String path = SksteerPropertyPaths.INSTANCE.listener(name);
            // Rules are text, read by the rule grammar (see SksteerProperties.Rule), named by their property paths.
            List<SteeringConfig.RuleDefinition> rules = new ArrayList<>();
            for (int i = 0; i < l.getRules().size(); i++) {
                SksteerProperties.Rule r = l.getRules().get(i);
                rules.add(r == null ? null : parse(r, SksteerPropertyPaths.INSTANCE.rule(name, i)));
            }
            ListenerSocketKind kind = ListenerSocketKind.parse(l.getSocket(), path + ".socket");
            int backlog = l.getBacklog() == null ? 1024 : l.getBacklog();
            boolean reusePort = Boolean.TRUE.equals(l.getReusePort());
            if (kind == ListenerSocketKind.BIND) {
                b.listener(name, new SteeringConfig.ListenerDefinition(l.getProtocol(), l.getBind(), backlog, reusePort, rules));
                return;
            }
            rejectBindOptions(l, path, kind);
            InetAddress address = serverAddress(environment, kind);
            b.listener(name, new SteeringConfig.ListenerDefinition(l.getProtocol(), address == null ? null : address.getHostAddress(),
                    backlog, false, rules, kind.description(), kind.addressProperty()));
        });
        try {
            return b.build();
        } catch (InvalidRuleException e) {
            throw SksteerPropertyPaths.mapped(e);
        }
    }

    private static SteeringConfig.RuleDefinition parse(SksteerProperties.Rule r, String path) {
        if (r.getPrefixes().isEmpty()) {
            throw new InvalidRuleException(path + ".prefixes", null, "a rule needs at least one prefix");
        }
        if (r.getPorts().isEmpty()) {
            throw new InvalidRuleException(path + ".ports", null, "a rule needs at least one port, range or 'all'");
        }
        return new SteeringConfig.RuleText(r.getPrefixes(), r.getPorts(), r.isAllowShadowing()).parse(path);
    }

    /** bind, backlog and reuse-port belong to a socket sksteer binds; the server's own settings rule its socket. */
    private static void rejectBindOptions(SksteerProperties.Listener l, String path, ListenerSocketKind kind) {
        String hint = "the socket is " + kind.description() + "'s own (set " + kind.addressProperty() + " and "
                + kind.portProperty() + " instead)";
        if (l.getBind() != null) {
            throw new InvalidRuleException(path + ".bind", l.getBind(), "must not be set with socket '" + kind.value() + "': " + hint);
        }
        if (l.getBacklog() != null) {
            throw new InvalidRuleException(path + ".backlog", l.getBacklog().toString(), "must not be set with socket '"
                    + kind.value() + "': " + hint);
        }
        if (l.getReusePort() != null) {
            throw new InvalidRuleException(path + ".reuse-port", l.getReusePort().toString(), "must not be set with socket '"
                    + kind.value() + "': " + hint);
        }
    }

    /** {@code server.address} (or the management server's), bound as Spring Boot binds it: names resolve. */
    private static InetAddress serverAddress(Environment environment, ListenerSocketKind kind) {
        try {
            return Binder.get(environment).bind(kind.addressProperty(), InetAddress.class).orElse(null);
        } catch (RuntimeException e) {
            throw new InvalidRuleException(kind.addressProperty(), environment.getProperty(kind.addressProperty()),
                    "is not an address: " + e.getMessage());
        }
    }

    @Bean
    @ConditionalOnMissingBean
    SksteerLifecycle sksteerLifecycle(SteeringConfig config, SksteerProperties properties, BeanFactory beanFactory,
            ObjectProvider<WebServerSockets> webServerSockets) {
        Map<String, ListenerHandler> handlers = new LinkedHashMap<>();
        boolean adopts = false;
        for (var spec : config.listeners().values()) {
            if (spec.adopted()) {
                adopts = true;
                continue;
            }
            String name = spec.name();
            try {
                // By bean name, or by @Qualifier("name").
                handlers.put(name, BeanFactoryAnnotationUtils.qualifiedBeanOfType(beanFactory, ListenerHandler.class, name));
            } catch (NoSuchBeanDefinitionException e) {
                throw new InvalidRuleException("sksteer.listeners." + name, null, "listener '" + name
                        + "' has no handler: define a ListenerHandler bean named '" + name + "' (or qualified with @Qualifier(\""
                        + name + "\")), or set sksteer.listeners." + name + ".socket: web-server to steer to the web server");
            }
        }
        AdoptedSockets adopted = AdoptedSockets.NONE;
        if (adopts) {
            WebServerSockets sockets = webServerSockets.getIfAvailable();
            if (sockets == null) {
                String name = config.listeners().values().stream().filter(s -> s.adopted()).findFirst().orElseThrow().name();
                throw new InvalidRuleException("sksteer.listeners." + name + ".socket", null, "listener '" + name
                        + "' takes the web server's socket, but this application has no embedded web server support"
                        + " (add spring-boot-starter-web or spring-boot-starter-webflux)");
            }
            adopted = sockets.all();
        }
        Drain drain = new Drain(nonNegative(properties.getDrain().getTimeout(), "sksteer.drain.timeout"),
                nonNegative(properties.getDrain().getQuietPeriod(), "sksteer.drain.quiet-period"));
        if (properties.getLiveChanges().getMaxBodySize() == null || properties.getLiveChanges().getMaxBodySize().toBytes() < 1) {
            throw new InvalidRuleException("sksteer.live-changes.max-body-size", String.valueOf(properties.getLiveChanges().getMaxBodySize()),
                    "must be at least 1B");
        }
        io.sksteer.bpf.FdStore fdStore = io.sksteer.bpf.FdStore.fromEnvironment(System.getenv(), ProcessHandle.current().pid(),
                properties.getFdStore().isEnabled());
        if (properties.getFdStore().isEnabled() && !fdStore.storing()) {
            org.apache.commons.logging.LogFactory.getLog(SksteerAutoConfiguration.class).warn("sksteer.fd-store.enabled is true, but"
                    + " the descriptor store is " + fdStore.state() + ": a stop detaches and drains as without it");
        }
        return new SksteerLifecycle(config, handlers, adopted, drain, fdStore);
    }

    private static java.time.Duration nonNegative(java.time.Duration d, String property) {
        if (d == null || d.isNegative()) {
            throw new InvalidRuleException(property, String.valueOf(d), "must not be negative");
        }
        return d;
    }

    @Bean
    @ConditionalOnMissingBean
    SksteerRules sksteerRules(SksteerLifecycle lifecycle, SksteerProperties properties) {
        return new SksteerRules(lifecycle, ceiling(lifecycle.config(), properties.getLiveChanges().getAllowed()));
    }

    /** {@code sksteer.live-changes.allowed}, parsed: every prefix with every port spec of each entry. */
    static List<io.sksteer.steering.RuleScope> ceiling(SteeringConfig config, List<SksteerProperties.Allowed> allowed) {
        List<io.sksteer.steering.RuleScope> out = new ArrayList<>();
        for (int i = 0; i < allowed.size(); i++) {
            SksteerProperties.Allowed a = allowed.get(i);
            String path = "sksteer.live-changes.allowed[" + i + "]";
            if (a.getListener() != null && !config.listeners().containsKey(a.getListener())) {
                throw new InvalidRuleException(path + ".listener", a.getListener(), "no listener named '" + a.getListener()
                        + "' (listeners: " + config.listeners().keySet() + ")");
            }
            if (a.getPrefixes().isEmpty() || a.getPorts().isEmpty()) {
                throw new InvalidRuleException(path, null, "needs at least one prefix and one port spec");
            }
            for (io.sksteer.steering.Prefix prefix : a.getPrefixes()) {
                for (io.sksteer.steering.PortSpec ports : a.getPorts()) {
                    out.add(new io.sksteer.steering.RuleScope(a.getProtocol(), prefix, ports, a.getListener(), path));
                }
            }
        }
        return out;
    }

    /** Where the application has Spring Cloud's context: rules follow refreshed configuration. */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(name = "org.springframework.cloud.context.environment.EnvironmentChangeEvent")
    static class Refresh {

        @Bean
        @ConditionalOnMissingBean
        ConfigurationRefresh sksteerConfigurationRefresh(Environment environment, SksteerRules rules, SksteerLifecycle lifecycle) {
            return new ConfigurationRefresh(environment, rules, lifecycle);
        }
    }

    /** Where the application has an embedded web server: its sockets, found once it is bound. */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(name = "org.springframework.boot.web.server.context.WebServerInitializedEvent")
    static class WebServers {

        @Bean
        @ConditionalOnMissingBean
        static WebServerSockets sksteerWebServerSockets(SksteerProperties properties, Environment environment) {
            Map<String, WebServerSockets.Wanted> wanted = new LinkedHashMap<>();
            properties.getListeners().forEach((name, l) -> {
                ListenerSocketKind kind = ListenerSocketKind.parse(l.getSocket(), "sksteer.listeners." + name + ".socket");
                if (kind != ListenerSocketKind.BIND) {
                    wanted.put(name, new WebServerSockets.Wanted(kind, serverAddress(environment, kind)));
                }
            });
            return new WebServerSockets(wanted);
        }
    }
}
