package io.sksteer.steering;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** Addresses are literals only: what is not one is refused, never looked up (see ExplainResolvesNoNamesKernelTest). */
class PrefixLiteralTest {

    @Test
    void refusesWhatOnlyANameLookupCouldMakeAnAddressOf() {
        for (String text : new String[] {"999.1.1.1", "256.0.0.0/8", "1:2::3::4", "dead.beef", "127.1", "2135752962", "localhost",
                "example.com", "::ffff:999.1.1.1", "1.2.3.4.5", "[::1]", "fe80::1%lo"}) {
            assertThatThrownBy(() -> Prefix.parse(text, "p")).as(text).isInstanceOf(InvalidRuleException.class);
        }
    }

    @Test
    void takesTheLiteralsOfBothFamilies() {
        assertThat(Prefix.parse("255.255.255.255", "p").length()).isEqualTo(32);
        assertThat(Prefix.parse("0.0.0.0/0", "p").length()).isZero();
        assertThat(Prefix.parse("2001:db8::/32", "p").toString()).isEqualTo("2001:db8::/32");
        assertThat(Prefix.parse("::1", "p").isIpv4()).isFalse();
    }
}
