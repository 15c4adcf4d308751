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

/**
 * Puts {@link SksteerRequestGuard} in front of the {@code sksteer} endpoint, in whichever servlet
 * context serves the actuator: the main one, or the management server's own (a management
 * context configuration goes to both).
 */
@ManagementContextConfiguration(value = ManagementContextType.ANY, proxyBeanMethods = false)
@ConditionalOnWebApplication(type = ConditionalOnWebApplication.Type.SERVLET)
@ConditionalOnClass(name = "jakarta.servlet.Filter")
@ConditionalOnBean({SksteerEndpoint.class, PathMappedEndpoints.class})
class SksteerRequestGuardConfiguration {

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
