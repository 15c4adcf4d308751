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
    SksteerEndpoint sksteerEndpoint(SteeringInspector inspector, io.sksteer.autoconfigure.SksteerRules rules) {
        return new SksteerEndpoint(inspector, rules);
    }

    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(name = "org.springframework.boot.health.contributor.HealthIndicator")
    static class Health {
        @Bean
        @ConditionalOnMissingBean(name = "sksteerHealthIndicator")
        SksteerHealthIndicator sksteerHealthIndicator(SksteerLifecycle lifecycle) {
            return new SksteerHealthIndicator(lifecycle::engine);
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
