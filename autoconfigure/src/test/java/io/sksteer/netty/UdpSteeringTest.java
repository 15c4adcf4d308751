package io.sksteer.netty;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The pure parts: address normalisation and option checks. */
class UdpSteeringTest {

    @Test
    void anIpv4MappedAddressBecomesPlainIpv4() throws Exception {
        // Built with a scope so that the JDK keeps it as an Inet6Address, as a kernel address may be.
        byte[] mapped = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, (byte) 0xff, (byte) 0xff, 127, 77, 1, 2};
        InetSocketAddress in = new InetSocketAddress(Inet6Address.getByAddress(null, mapped, 0), 5353);
        assertThat(in.getAddress()).isInstanceOf(Inet6Address.class);

        InetSocketAddress out = UdpSteering.normalise(in);
        assertThat(out).isEqualTo(new InetSocketAddress("127.77.1.2", 5353));
        assertThat(out.getAddress()).isInstanceOf(Inet4Address.class);
    }

    @Test
    void otherAddressesStayAsTheyAre() throws Exception {
        InetSocketAddress v6 = new InetSocketAddress(InetAddress.getByName("2001:db8::7"), 5353);
        InetSocketAddress v4 = new InetSocketAddress("127.77.1.2", 5353);
        InetSocketAddress compatible = new InetSocketAddress(InetAddress.getByName("::127.77.1.2"), 5353);
        assertThat(UdpSteering.normalise(v6)).isSameAs(v6);
        assertThat(UdpSteering.normalise(v4)).isSameAs(v4);
        assertThat(UdpSteering.normalise(compatible)).isSameAs(compatible);
        assertThat(UdpSteering.normalise(null)).isNull();
    }

    @Test
    void replySocketOptionsRefuseNonsense() {
        assertThatThrownBy(() -> new ReplySocketOptions(Duration.ZERO, 1)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("idleTimeout");
        assertThatThrownBy(() -> new ReplySocketOptions(Duration.ofSeconds(1), 0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("maxOpen");
        assertThat(ReplySocketOptions.DEFAULTS).isEqualTo(new ReplySocketOptions(Duration.ofSeconds(30), 64));
    }
}
