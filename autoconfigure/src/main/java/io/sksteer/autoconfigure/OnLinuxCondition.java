package io.sksteer.autoconfigure;

import org.springframework.boot.autoconfigure.condition.ConditionOutcome;
import org.springframework.boot.autoconfigure.condition.SpringBootCondition;
import org.springframework.context.annotation.ConditionContext;
import org.springframework.core.type.AnnotatedTypeMetadata;

/** Matches on Linux, where sk_lookup exists. */
class OnLinuxCondition extends SpringBootCondition {

    @Override
    public ConditionOutcome getMatchOutcome(ConditionContext context, AnnotatedTypeMetadata metadata) {
        String os = System.getProperty("os.name", "");
        return os.toLowerCase().contains("linux") ? ConditionOutcome.match("running on Linux")
                : ConditionOutcome.noMatch("sk_lookup needs Linux; running on " + os);
    }
}
