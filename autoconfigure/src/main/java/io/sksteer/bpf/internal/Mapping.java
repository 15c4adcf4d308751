package io.sksteer.bpf.internal;

import com.sun.jna.LastErrorException;
import com.sun.jna.Pointer;
import io.sksteer.bpf.BpfException;

/**
 * A shared, writable mapping of a map's values ({@code mmap} of a map created with
 * {@code BPF_F_MMAPABLE}): stores through it reach the map without a system call, as plain
 * aligned stores of the sizes written (4 and 8 bytes are single stores).
 */
public final class Mapping implements AutoCloseable {

    private static final int PROT_READ = 1;
    private static final int PROT_WRITE = 2;
    private static final int MAP_SHARED = 1;

    private final Pointer base;
    private final long address;
    private final long length;
    private boolean open = true;

    private Mapping(long address, long length) {
        this.address = address;
        this.length = length;
        this.base = new Pointer(address);
    }

    /**
     * Maps {@code bytes} bytes (rounded up to whole pages) of the map behind {@code fd}.
     *
     * @throws BpfException naming the map if the kernel refuses
     */
    public static Mapping of(Fd fd, long bytes, String what) {
        long page = LibC.getpagesize();
        long length = (bytes + page - 1) / page * page;
        try {
            return new Mapping(LibC.mmap(0, length, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0), length);
        } catch (LastErrorException e) {
            throw new BpfException(what, e.getErrorCode(), "the map must be created with BPF_F_MMAPABLE (Linux 5.5)", e);
        }
    }

    public long length() {
        return length;
    }

    public void putInt(long offset, int value) {
        check(offset, 4);
        base.setInt(offset, value);
    }

    public void putLong(long offset, long value) {
        check(offset, 8);
        base.setLong(offset, value);
    }

    public void put(long offset, byte[] bytes) {
        check(offset, bytes.length);
        base.write(offset, bytes, 0, bytes.length);
    }

    public int getInt(long offset) {
        check(offset, 4);
        return base.getInt(offset);
    }

    public long getLong(long offset) {
        check(offset, 8);
        return base.getLong(offset);
    }

    private void check(long offset, int size) {
        if (!open) {
            throw new IllegalStateException("mapping closed");
        }
        if (offset < 0 || offset + size > length) {
            throw new IndexOutOfBoundsException("offset " + offset + " + " + size + " outside " + length + " bytes");
        }
    }

    @Override
    public void close() {
        if (open) {
            open = false;
            LibC.munmap(address, length);
        }
    }
}
