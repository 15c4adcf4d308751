package io.sksteer.autoconfigure;

import io.sksteer.bpf.sklookup.Protocol;
import io.sksteer.steering.OnMissingSocket;
import io.sksteer.steering.PortSpec;
import io.sksteer.steering.Prefix;
import io.sksteer.steering.RuleGrammar;
import org.springframework.boot.convert.ApplicationConversionService;
import org.springframework.core.convert.ConversionService;
import org.springframework.core.convert.converter.Converter;

/**
 * The binder's converters for sksteer's value types, each reading its text as the rule grammar
 * does ({@link RuleGrammar}): a bad value fails binding, and Spring's binder names the property,
 * its value and where it was written. Registered by {@link SksteerAutoConfiguration} as
 * {@code @ConfigurationPropertiesBinding} beans.
 */
final class SksteerConverters {

    private SksteerConverters() {
    }

    /** {@code 10.0.0.0/8}, {@code 2001:db8::/32} or a bare address. */
    static final class ToPrefix implements Converter<String, Prefix> {
        @Override
        public Prefix convert(String source) {
            return Prefix.parse(source);
        }
    }

    /** {@code 443}, {@code 8000-8999} or {@code all}. */
    static final class ToPortSpec implements Converter<String, PortSpec> {
        @Override
        public PortSpec convert(String source) {
            return PortSpec.parse(source);
        }
    }

    /** {@code tcp} or {@code udp}. */
    static final class ToProtocol implements Converter<String, Protocol> {
        @Override
        public Protocol convert(String source) {
            return RuleGrammar.protocol(source);
        }
    }

    /** {@code drop} or {@code pass}. */
    static final class ToOnMissingSocket implements Converter<String, OnMissingSocket> {
        @Override
        public OnMissingSocket convert(String source) {
            return OnMissingSocket.parse(source);
        }
    }

    /** Spring Boot's conversions with sksteer's, for binding outside the context's binder (a refresh). */
    static ConversionService conversionService() {
        ApplicationConversionService service = new ApplicationConversionService();
        service.addConverter(new ToPrefix());
        service.addConverter(new ToPortSpec());
        service.addConverter(new ToProtocol());
        service.addConverter(new ToOnMissingSocket());
        return service;
    }
}
