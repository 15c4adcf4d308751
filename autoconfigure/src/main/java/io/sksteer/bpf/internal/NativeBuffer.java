package io.sksteer.bpf.internal;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;

/**
 * A block of native memory for one kernel call: a {@code bpf_attr}, a key, a value, a log. Zeroed
 * on allocation; native byte order, as the kernel expects.
 */
public final class NativeBuffer {

    private final Memory memory;

    private NativeBuffer(long size) {
        this.memory = new Memory(Math.max(1, size));
        memory.clear();
    }

    /** A zeroed buffer of {@code size} bytes. */
    public static NativeBuffer allocate(long size) {
        return new NativeBuffer(size);
    }

    /** A buffer holding a copy of {@code bytes}. */
    public static NativeBuffer of(byte[] bytes) {
        NativeBuffer b = new NativeBuffer(bytes.length);
        b.memory.write(0, bytes, 0, bytes.length);
        return b;
    }

    /** A NUL-terminated copy of an ASCII string. */
    public static NativeBuffer cString(String s) {
        byte[] chars = s.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        NativeBuffer b = new NativeBuffer(chars.length + 1L);
        b.memory.write(0, chars, 0, chars.length);
        return b;
    }

    public long size() {
        return memory.size();
    }

    long address() {
        return Pointer.nativeValue(memory);
    }

    public NativeBuffer putInt(long offset, int value) {
        memory.setInt(offset, value);
        return this;
    }

    public NativeBuffer putLong(long offset, long value) {
        memory.setLong(offset, value);
        return this;
    }

    public NativeBuffer putBytes(long offset, byte[] bytes) {
        memory.write(offset, bytes, 0, bytes.length);
        return this;
    }

    /** Stores the address of {@code other} as a u64 at {@code offset} (or 0 for {@code null}). */
    public NativeBuffer putPointer(long offset, NativeBuffer other) {
        memory.setLong(offset, other == null ? 0 : other.address());
        return this;
    }

    public int getInt(long offset) {
        return memory.getInt(offset);
    }

    public long getLong(long offset) {
        return memory.getLong(offset);
    }

    /** Copies {@code length} bytes at {@code offset} into {@code target[targetOffset...]}. */
    public void read(long offset, byte[] target, int targetOffset, int length) {
        memory.read(offset, target, targetOffset, length);
    }

    public byte[] getBytes(long offset, int length) {
        return memory.getByteArray(offset, length);
    }

    /** The bytes up to the first NUL (or the whole buffer), decoded as ASCII. */
    public String getCString(long offset, int maxLength) {
        byte[] bytes = memory.getByteArray(offset, maxLength);
        int n = 0;
        while (n < bytes.length && bytes[n] != 0) {
            n++;
        }
        return new String(bytes, 0, n, java.nio.charset.StandardCharsets.US_ASCII);
    }
}
