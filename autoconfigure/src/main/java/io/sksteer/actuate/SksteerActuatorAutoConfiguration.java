package io.sksteer.actuate;

import io.sksteer.autoconfigure.SksteerAutoConfiguration;
import io.sksteer.autoconfigure.SksteerLifecycle;
import org.springframework.boot.actuate.autoconfigure.endpoint.condition.ConditionalOnAvailableEndpoint;
import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** The {@code sksteer} actuator endpoint, health indicator and metrics, where the user has actuator. */
@AutoConfiguration(after = SksteerAutoConfiguration.class)
@ConditionalOnClass(Endpoint.class)
@ConditionalOnBean(SksteerLifecycle.class)
public final class SksteerActuatorAutoConfiguration {

    @Bean
    @ConditionalOnMissingBean
    SteeringInspector sksteerInspector(SksteerLifecycle lifecycle) {
        return new SteeringInspector(lifecycle::engine);
    }

    @Bean
    @ConditionalOnMissingBean
    @ConditionalOnAvailableEndpoint
    SksteerEndpoint sksteerEndpoint(SteeringInspector inspector, io.sksteer.autoconfigure.SksteerRules rules,
            io.sksteer.autoconfigure.SksteerProperties properties) {
        var live = properties.getLiveChanges();
        return new SksteerEndpoint(inspector, rules, live.isEnabled(), properties.getMaxRules(), live.getMaxBodySize().toBytes());
    }

    /** Audit events for rule changes, where the application keeps them (an AuditEventRepository bean). */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(name = "org.springframework.boot.actuate.audit.AuditEventRepository")
    static class Audit {
        @Bean
        org.springframework.beans.factory.SmartInitializingSingleton sksteerAuditEvents(io.sksteer.autoconfigure.SksteerRules rules,
                org.springframework.beans.factory.ObjectProvider<org.springframework.boot.actuate.audit.AuditEventRepository> repository,
                org.springframework.context.ApplicationEventPublisher publisher) {
            return () -> {
                if (repository.getIfAvailable() != null) {
                    rules.audit().sendTo(e -> publisher.publishEvent(new org.springframework.boot.actuate.audit.listener.AuditApplicationEvent(
                            e.principal(), "SKSTEER_RULES_" + e.outcome().toUpperCase(java.util.Locale.ROOT), e.data())));
                }
            };
        }
    }

    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(name = "org.springframework.boot.health.contributor.HealthIndicator")
    static class Health {
        @Bean
        @ConditionalOnMissingBean(name = "sksteerHealthIndicator")
        SksteerHealthIndicator sksteerHealthIndicator(SksteerLifecycle lifecycle, io.sksteer.autoconfigure.SksteerRules rules) {
            return new SksteerHealthIndicator(lifecycle::engine, rules::warnings);
        }
    }

    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(name = "io.micrometer.core.instrument.binder.MeterBinder")
    static class Metrics {
        @Bean
        @ConditionalOnMissingBean
        SksteerMetrics sksteerMetrics(SksteerLifecycle lifecycle) {
            return new SksteerMetrics(lifecycle::engine);
        }
    }
}
