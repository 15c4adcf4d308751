package io.sksteer.bpf;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.function.BiConsumer;
import java.util.function.Function;

/**
 * Encodes map keys and values to the exact bytes the kernel stores. Buffers are in host byte
 * order; fields the kernel keeps in network order (addresses) are written as bytes.
 *
 * @param <T> the Java type
 */
public interface Codec<T> {

    /** Bytes per encoded value. */
    int size();

    /** Writes exactly {@link #size()} bytes at the buffer's position. */
    void encode(T value, ByteBuffer out);

    /** Reads exactly {@link #size()} bytes at the buffer's position. */
    T decode(ByteBuffer in);

    default byte[] toBytes(T value) {
        ByteBuffer b = ByteBuffer.allocate(size()).order(ByteOrder.nativeOrder());
        encode(value, b);
        if (b.position() != size()) {
            throw new IllegalStateException("codec wrote " + b.position() + " bytes, declared " + size());
        }
        return b.array();
    }

    default T fromBytes(byte[] bytes) {
        return decode(ByteBuffer.wrap(bytes).order(ByteOrder.nativeOrder()));
    }

    /** A codec from a size, a writer and a reader. */
    static <T> Codec<T> of(int size, BiConsumer<T, ByteBuffer> encoder, Function<ByteBuffer, T> decoder) {
        return new Codec<>() {
            @Override
            public int size() {
                return size;
            }

            @Override
            public void encode(T value, ByteBuffer out) {
                encoder.accept(value, out);
            }

            @Override
            public T decode(ByteBuffer in) {
                return decoder.apply(in);
            }
        };
    }

    /** A host-order u32 (as a Java int; values above 2^31 read back negative). */
    static Codec<Integer> u32() {
        return of(4, (v, b) -> b.putInt(v), ByteBuffer::getInt);
    }

    /** A host-order u64. */
    static Codec<Long> u64() {
        return of(8, (v, b) -> b.putLong(v), ByteBuffer::getLong);
    }

    /** Raw bytes of a fixed length. */
    static Codec<byte[]> bytes(int size) {
        return of(size, (v, b) -> {
            if (v.length != size) {
                throw new IllegalArgumentException("expected " + size + " bytes, got " + v.length);
            }
            b.put(v);
        }, b -> {
            byte[] out = new byte[size];
            b.get(out);
            return out;
        });
    }
}
