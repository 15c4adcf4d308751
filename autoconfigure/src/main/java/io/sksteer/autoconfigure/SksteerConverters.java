package io.sksteer.autoconfigure;

import io.sksteer.bpf.sklookup.Protocol;
import io.sksteer.steering.OnMissingSocket;
import io.sksteer.steering.PortSpec;
import io.sksteer.steering.Prefix;
import io.sksteer.steering.RuleGrammar;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.springframework.boot.convert.ApplicationConversionService;
import org.springframework.core.convert.ConversionService;
import org.springframework.core.convert.TypeDescriptor;
import org.springframework.core.convert.converter.GenericConverter;

/**
 * The binder's converter for sksteer's value types, each read from its text by the parser the
 * rule grammar uses: {@code Prefix} ({@code 10.0.0.0/8}, {@code 2001:db8::/32}, a bare address),
 * {@code PortSpec} ({@code 443}, {@code 8000-8999}, {@code all}), {@code Protocol} ({@code tcp},
 * {@code udp}) and {@code OnMissingSocket} ({@code drop}, {@code pass}). A bad value fails
 * binding, and Spring's binder names the property, its value and where it was written.
 * Registered by {@link SksteerAutoConfiguration} as a {@code @ConfigurationPropertiesBinding} bean.
 */
final class SksteerConverters implements GenericConverter {

    private static final Map<Class<?>, Function<String, ?>> PARSERS = Map.of(
            Prefix.class, Prefix::parse,
            PortSpec.class, PortSpec::parse,
            Protocol.class, RuleGrammar::protocol,
            OnMissingSocket.class, OnMissingSocket::parse);

    @Override
    public Set<ConvertiblePair> getConvertibleTypes() {
        return PARSERS.keySet().stream().map(type -> new ConvertiblePair(String.class, type)).collect(Collectors.toSet());
    }

    @Override
    public Object convert(Object source, TypeDescriptor sourceType, TypeDescriptor targetType) {
        // The parsers throw InvalidValueException, which the binder wraps with the property it was binding.
        return source == null ? null : PARSERS.get(targetType.getType()).apply((String) source);
    }

    /** Spring Boot's conversions with sksteer's, for binding outside the context's binder (a refresh). */
    static ConversionService conversionService() {
        ApplicationConversionService service = new ApplicationConversionService();
        service.addConverter(new SksteerConverters());
        return service;
    }
}
