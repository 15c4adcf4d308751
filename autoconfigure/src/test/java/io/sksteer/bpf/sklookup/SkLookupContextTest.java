package io.sksteer.bpf.sklookup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class SkLookupContextTest {

    private static final InetSocketAddress LOCAL4 = new InetSocketAddress("10.1.2.3", 8080);
    private static final InetSocketAddress REMOTE4 = new InetSocketAddress("192.0.2.7", 54321);
    private static final InetSocketAddress LOCAL6 = new InetSocketAddress("2001:db8::1", 443);
    private static final InetSocketAddress REMOTE6 = new InetSocketAddress("2001:db8:0:0:0:0:0:abcd", 40000);

    @Test
    void encodesTheWholeStructOf72Bytes() {
        assertThat(new SkLookupContext(Protocol.TCP, LOCAL4, REMOTE4).encode()).hasSize(72);
    }

    @Test
    void encodesIpv4FamilyAtOffset8InHostOrder() {
        assertThat(hostInt(tcp4(), 8)).isEqualTo(2);
    }

    @Test
    void encodesTcpProtocolAtOffset12InHostOrder() {
        assertThat(hostInt(tcp4(), 12)).isEqualTo(6);
    }

    @Test
    void encodesUdpProtocolAtOffset12InHostOrder() {
        assertThat(hostInt(new SkLookupContext(Protocol.UDP, LOCAL4, REMOTE4).encode(), 12)).isEqualTo(17);
    }

    @Test
    void encodesLocalIp4AtOffset40InNetworkOrder() {
        assertThat(Arrays.copyOfRange(tcp4(), 40, 44)).containsExactly(10, 1, 2, 3);
    }

    @Test
    void encodesRemoteIp4AtOffset16InNetworkOrder() {
        assertThat(Arrays.copyOfRange(tcp4(), 16, 20)).containsExactly(192, 0, 2, 7);
    }

    @Test
    void encodesRemotePortBigEndianAtOffset36WithZeroPadding() {
        // 54321 = 0xd431
        assertThat(Arrays.copyOfRange(tcp4(), 36, 40)).containsExactly(0xd4, 0x31, 0x00, 0x00);
    }

    @Test
    void encodesLocalPortAsHostOrderU32AtOffset60() {
        byte[] ctx = tcp4();
        byte[] expected = ByteBuffer.allocate(4).order(ByteOrder.nativeOrder()).putInt(8080).array();

        assertThat(Arrays.copyOfRange(ctx, 60, 64)).isEqualTo(expected);
    }

    @Test
    void leavesIngressIfindexAndTailPaddingZero() {
        assertThat(Arrays.copyOfRange(tcp4(), 64, 72)).containsOnly(0);
    }

    @Test
    void leavesSkZero() {
        assertThat(Arrays.copyOfRange(tcp4(), 0, 8)).containsOnly(0);
    }

    @Test
    void leavesIpv6FieldsZeroForAnIpv4Lookup() {
        byte[] ctx = tcp4();

        assertThat(Arrays.copyOfRange(ctx, 20, 36)).containsOnly(0);
        assertThat(Arrays.copyOfRange(ctx, 44, 60)).containsOnly(0);
    }

    @Test
    void encodesIpv6FamilyAtOffset8() {
        assertThat(hostInt(tcp6(), 8)).isEqualTo(10);
    }

    @Test
    void encodesLocalIp6AtOffset44InNetworkOrder() {
        assertThat(Arrays.copyOfRange(tcp6(), 44, 60)).containsExactly(
                0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01);
    }

    @Test
    void encodesRemoteIp6AtOffset20InNetworkOrder() {
        assertThat(Arrays.copyOfRange(tcp6(), 20, 36)).containsExactly(
                0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xab, 0xcd);
    }

    @Test
    void encodesPortsTheSameWayForIpv6() {
        byte[] ctx = tcp6();

        // 40000 = 0x9c40
        assertThat(Arrays.copyOfRange(ctx, 36, 40)).containsExactly(0x9c, 0x40, 0x00, 0x00);
        assertThat(hostInt(ctx, 60)).isEqualTo(443);
    }

    @Test
    void leavesIpv4FieldsZeroForAnIpv6Lookup() {
        byte[] ctx = tcp6();

        assertThat(Arrays.copyOfRange(ctx, 16, 20)).containsOnly(0);
        assertThat(Arrays.copyOfRange(ctx, 40, 44)).containsOnly(0);
    }

    @Test
    void reportsTheFamilyOfItsAddresses() {
        assertThat(new SkLookupContext(Protocol.TCP, LOCAL4, REMOTE4).family()).isEqualTo(2);
        assertThat(new SkLookupContext(Protocol.TCP, LOCAL6, REMOTE6).family()).isEqualTo(10);
    }

    @Test
    void rejectsIpv4LocalWithIpv6Remote() {
        assertThatThrownBy(() -> new SkLookupContext(Protocol.TCP, LOCAL4, REMOTE6))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("different families");
    }

    @Test
    void rejectsIpv6LocalWithIpv4Remote() {
        assertThatThrownBy(() -> new SkLookupContext(Protocol.UDP, LOCAL6, REMOTE4))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("different families");
    }

    @Test
    void rejectsUnresolvedAddresses() {
        InetSocketAddress unresolved = InetSocketAddress.createUnresolved("example.invalid", 80);

        assertThatThrownBy(() -> new SkLookupContext(Protocol.TCP, unresolved, REMOTE4))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("IP literals");
    }

    private static byte[] tcp4() {
        return new SkLookupContext(Protocol.TCP, LOCAL4, REMOTE4).encode();
    }

    private static byte[] tcp6() {
        return new SkLookupContext(Protocol.TCP, LOCAL6, REMOTE6).encode();
    }

    private static int hostInt(byte[] bytes, int offset) {
        return ByteBuffer.wrap(bytes).order(ByteOrder.nativeOrder()).getInt(offset);
    }
}
