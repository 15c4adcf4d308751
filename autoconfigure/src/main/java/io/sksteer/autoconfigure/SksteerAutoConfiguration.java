package io.sksteer.autoconfigure;

import io.sksteer.netty.ListenerHandler;
import io.sksteer.steering.InvalidRuleException;
import io.sksteer.steering.SteeringConfig;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.springframework.beans.factory.BeanFactory;
import org.springframework.beans.factory.NoSuchBeanDefinitionException;
import org.springframework.beans.factory.annotation.BeanFactoryAnnotationUtils;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Conditional;

/**
 * Steers the traffic of {@code sksteer.listeners} to Netty listeners with an sk_lookup program.
 * Off with {@code sksteer.enabled=false}, and on anything but Linux.
 */
@AutoConfiguration
@Conditional(OnLinuxCondition.class)
@ConditionalOnProperty(prefix = "sksteer", name = "enabled", havingValue = "true", matchIfMissing = true)
@EnableConfigurationProperties(SksteerProperties.class)
public final class SksteerAutoConfiguration {

    @Bean
    @ConditionalOnMissingBean
    SteeringConfig sksteerConfig(SksteerProperties properties) {
        SteeringConfig.Builder b = new SteeringConfig.Builder("sksteer")
                .netns(properties.getNetns())
                .onMissingSocket(properties.getOnMissingSocket())
                .maxRules(properties.getMaxRules());
        properties.getListeners().forEach((name, l) -> {
            List<SteeringConfig.RuleText> rules = new ArrayList<>();
            for (SksteerProperties.Rule r : l.getRules()) {
                rules.add(new SteeringConfig.RuleText(r.getPrefixes(), r.getPorts()));
            }
            b.listener(name, new SteeringConfig.ListenerText(l.getProtocol(), l.getBind(), l.getBacklog(), l.isReusePort(), rules));
        });
        return b.build();
    }

    @Bean
    @ConditionalOnMissingBean
    SksteerLifecycle sksteerLifecycle(SteeringConfig config, BeanFactory beanFactory) {
        Map<String, ListenerHandler> handlers = new LinkedHashMap<>();
        for (String name : config.listeners().keySet()) {
            try {
                // By bean name, or by @Qualifier("name").
                handlers.put(name, BeanFactoryAnnotationUtils.qualifiedBeanOfType(beanFactory, ListenerHandler.class, name));
            } catch (NoSuchBeanDefinitionException e) {
                throw new InvalidRuleException("sksteer.listeners." + name, null, "listener '" + name
                        + "' has no handler: define a ListenerHandler bean named '" + name + "' (or qualified with @Qualifier(\""
                        + name + "\"))");
            }
        }
        return new SksteerLifecycle(config, handlers);
    }

    @Bean
    @ConditionalOnMissingBean
    SksteerRules sksteerRules(SksteerLifecycle lifecycle) {
        return new SksteerRules(lifecycle);
    }
}
