package io.sksteer.bpf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.BufferOverflowException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class CodecTest {

    @Test
    void encodesU32InHostByteOrder() {
        byte[] expected = ByteBuffer.allocate(4).order(ByteOrder.nativeOrder()).putInt(0x01020304).array();

        assertThat(Codec.u32().toBytes(0x01020304)).isEqualTo(expected);
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 8080, Integer.MAX_VALUE, Integer.MIN_VALUE, -1})
    void roundTripsU32(int value) {
        Codec<Integer> codec = Codec.u32();

        assertThat(codec.fromBytes(codec.toBytes(value))).isEqualTo(value);
    }

    @Test
    void readsU32AboveTwoToThe31AsNegative() {
        byte[] allOnes = {(byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff};

        assertThat(Codec.u32().fromBytes(allOnes)).isEqualTo(-1);
    }

    @Test
    void encodesU64InHostByteOrder() {
        long value = 0x0102030405060708L;
        byte[] expected = ByteBuffer.allocate(8).order(ByteOrder.nativeOrder()).putLong(value).array();

        assertThat(Codec.u64().toBytes(value)).isEqualTo(expected);
    }

    @ParameterizedTest
    @ValueSource(longs = {0L, 1L, 0x1122334455667788L, Long.MAX_VALUE, Long.MIN_VALUE, -1L})
    void roundTripsU64(long value) {
        Codec<Long> codec = Codec.u64();

        assertThat(codec.fromBytes(codec.toBytes(value))).isEqualTo(value);
    }

    @Test
    void declaresTheWidthOfEachFixedCodec() {
        assertThat(Codec.u32().size()).isEqualTo(4);
        assertThat(Codec.u64().size()).isEqualTo(8);
        assertThat(Codec.bytes(20).size()).isEqualTo(20);
    }

    @Test
    void keepsRawBytesInTheirOrder() {
        byte[] address = {127, 0, 0, 1};

        assertThat(Codec.bytes(4).toBytes(address)).containsExactly(127, 0, 0, 1);
    }

    @Test
    void roundTripsRawBytes() {
        Codec<byte[]> codec = Codec.bytes(5);
        byte[] value = {1, 2, 3, (byte) 0xfe, (byte) 0xff};

        assertThat(codec.fromBytes(codec.toBytes(value))).isEqualTo(value);
    }

    @Test
    void rejectsRawBytesShorterThanDeclared() {
        assertThatThrownBy(() -> Codec.bytes(4).toBytes(new byte[3]))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("expected 4 bytes, got 3");
    }

    @Test
    void rejectsRawBytesLongerThanDeclared() {
        assertThatThrownBy(() -> Codec.bytes(4).toBytes(new byte[5]))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("expected 4 bytes, got 5");
    }

    @Test
    void detectsCustomCodecThatWritesFewerBytesThanDeclared() {
        Codec<Integer> shortWriter = Codec.of(8, (v, b) -> b.putInt(v), ByteBuffer::getInt);

        assertThatThrownBy(() -> shortWriter.toBytes(7))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("wrote 4 bytes, declared 8");
    }

    @Test
    void failsForCustomCodecThatWritesMoreBytesThanDeclared() {
        Codec<Long> longWriter = Codec.of(4, (v, b) -> b.putLong(v), ByteBuffer::getLong);

        assertThatThrownBy(() -> longWriter.toBytes(7L)).isInstanceOf(BufferOverflowException.class);
    }

    @Test
    void encodesCustomCodecWithHostOrderBuffer() {
        Codec<Short> port = Codec.of(2, (v, b) -> b.putShort(v), ByteBuffer::getShort);
        byte[] expected = ByteBuffer.allocate(2).order(ByteOrder.nativeOrder()).putShort((short) 0x1f90).array();

        assertThat(port.toBytes((short) 0x1f90)).isEqualTo(expected);
    }
}
