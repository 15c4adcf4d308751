package io.sksteer.actuate;

import io.sksteer.autoconfigure.SksteerProperties;
import org.springframework.boot.actuate.autoconfigure.web.ManagementContextConfiguration;
import org.springframework.boot.actuate.autoconfigure.web.ManagementContextType;
import org.springframework.boot.actuate.endpoint.EndpointId;
import org.springframework.boot.actuate.endpoint.web.PathMappedEndpoints;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * Puts the request guard in front of the {@code sksteer} endpoint, in whichever context serves
 * the actuator: the main one, or the management server's own (a management context
 * configuration goes to both). Servlet: {@link SksteerRequestGuard}; WebFlux:
 * {@link SksteerReactiveRequestGuard}. Each in a class of its own, so that neither loads the
 * other's types.
 */
@ManagementContextConfiguration(value = ManagementContextType.ANY, proxyBeanMethods = false)
@ConditionalOnBean({SksteerEndpoint.class, PathMappedEndpoints.class})
class SksteerRequestGuardConfiguration {

    @Configuration(proxyBeanMethods = false)
    @ConditionalOnWebApplication(type = ConditionalOnWebApplication.Type.SERVLET)
    @ConditionalOnClass(name = "jakarta.servlet.Filter")
    static class Servlet {

        @Bean
        FilterRegistrationBean<SksteerRequestGuard> sksteerRequestGuard(PathMappedEndpoints endpoints, SksteerProperties properties) {
            String path = endpoints.getPath(EndpointId.of("sksteer"));
            FilterRegistrationBean<SksteerRequestGuard> registration = new FilterRegistrationBean<>(
                    new SksteerRequestGuard(path, properties.getLiveChanges().getMaxBodySize().toBytes()));
            registration.addUrlPatterns(path, path + "/*");
            // After Spring Security's filters (-100): an unauthenticated request is refused before its body is looked at.
            registration.setOrder(0);
            return registration;
        }
    }

    @Configuration(proxyBeanMethods = false)
    @ConditionalOnWebApplication(type = ConditionalOnWebApplication.Type.REACTIVE)
    @ConditionalOnClass(name = "org.springframework.web.server.WebFilter")
    static class Reactive {

        @Bean
        SksteerReactiveRequestGuard sksteerReactiveRequestGuard(PathMappedEndpoints endpoints, SksteerProperties properties) {
            return new SksteerReactiveRequestGuard(endpoints.getPath(EndpointId.of("sksteer")),
                    properties.getLiveChanges().getMaxBodySize().toBytes());
        }
    }
}
