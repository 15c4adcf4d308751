package io.sksteer.bpf;

import io.sksteer.bpf.internal.Bpf;
import io.sksteer.bpf.internal.Fd;
import io.sksteer.bpf.internal.NativeBuffer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A live map: one kernel object, one file descriptor. The typed views ({@link BpfMap},
 * {@link PerCpuArray}, {@link SocketMap}) add the operations that make sense for their types.
 */
public abstract sealed class KernelMap implements AutoCloseable permits BpfMap, PerCpuArray, SocketMap {

    private final MapSpec spec;
    private final Fd fd;
    private final int id;

    KernelMap(MapSpec spec) {
        this.spec = spec;
        this.fd = Bpf.mapCreate(spec.type().number(), spec.keySize(), spec.valueSize(), spec.maxEntries(),
                MapFlag.mask(spec.flags()), spec.name(), "create map '" + spec.name() + "' (" + spec.type().kernelName() + ")");
        int mapId;
        try {
            mapId = readInfo().id();
        } catch (RuntimeException e) {
            fd.close();
            throw e;
        }
        this.id = mapId;
    }

    /** The blueprint this map was created from. */
    public MapSpec spec() {
        return spec;
    }

    /** The name shown by {@code bpftool map}. */
    public String name() {
        return spec.name();
    }

    /** The kernel-wide map id. */
    public int id() {
        return id;
    }

    /** What the kernel reports about this map now. */
    public MapInfo info() {
        return readInfo();
    }

    /**
     * Kernel memory charged to this map, in bytes ({@code memlock} in its fdinfo), or -1 if the
     * kernel does not report it.
     */
    public long memlockBytes() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/fdinfo/" + fd.get()))) {
                if (line.startsWith("memlock:")) {
                    return Long.parseLong(line.substring(8).trim());
                }
            }
            return -1;
        } catch (IOException e) {
            return -1;
        }
    }

    public boolean isOpen() {
        return fd.isOpen();
    }

    /** For the program loader: the descriptor to place in {@code ld_imm64}. */
    final Fd fd() {
        return fd;
    }

    /**
     * Closes this process's descriptor. The kernel frees the map when nothing else refers to it; a
     * loaded program that uses the map keeps it alive until the program is freed. Idempotent.
     */
    @Override
    public void close() {
        fd.close();
    }

    @Override
    public String toString() {
        return getClass().getSimpleName() + "[" + spec.name() + ", id " + id + ", " + spec.type().kernelName() + "]";
    }

    private MapInfo readInfo() {
        NativeBuffer info = Bpf.objInfo(fd, 88, "read info of map '" + spec.name() + "'");
        int type = info.getInt(0);
        return new MapInfo(info.getInt(4), MapType.of(type), type, info.getCString(24, 16), info.getInt(8),
                info.getInt(12), info.getInt(16), info.getInt(20));
    }

    // ---- byte-level operations for the typed views -----------------------------------------------

    final String op(String verb) {
        return verb + " in map '" + spec.name() + "'";
    }

    /** The value bytes (of {@code valueBytes} length), or {@code null} when the key is absent. */
    final byte[] lookupBytes(byte[] key, int valueBytes) {
        NativeBuffer value = NativeBuffer.allocate(valueBytes);
        if (!Bpf.mapLookup(fd, NativeBuffer.of(checkKey(key)), value, op("look up"))) {
            return null;
        }
        return value.getBytes(0, valueBytes);
    }

    final void updateBytes(byte[] key, byte[] value, UpdateFlag flag) {
        Bpf.mapUpdate(fd, NativeBuffer.of(checkKey(key)), NativeBuffer.of(value), flag.value(), op("update"));
    }

    /** Writes many elements in one call where the kernel allows it, else one by one. */
    final void updateAllBytes(List<byte[]> keys, List<byte[]> values, int valueBytes, UpdateFlag flag) {
        int n = keys.size();
        if (n == 0) {
            return;
        }
        NativeBuffer k = NativeBuffer.allocate((long) n * spec.keySize());
        NativeBuffer v = NativeBuffer.allocate((long) n * valueBytes);
        for (int i = 0; i < n; i++) {
            k.putBytes((long) i * spec.keySize(), checkKey(keys.get(i)));
            v.putBytes((long) i * valueBytes, values.get(i));
        }
        if (!batchUnsupported) {
            int done = Bpf.mapUpdateBatch(fd, k, v, n, flag.value(), op("batch update"));
            if (done == n) {
                return;
            }
            batchUnsupported = true;
        }
        for (int i = 0; i < n; i++) {
            updateBytes(keys.get(i), values.get(i), flag);
        }
    }

    private volatile boolean batchUnsupported;

    /** Deletes many keys in as few calls as the kernel allows; absent keys are skipped. */
    final void deleteAllBytes(List<byte[]> keys) {
        int n = keys.size();
        int done = 0;
        if (!batchUnsupported && n > 0) {
            NativeBuffer k = NativeBuffer.allocate((long) n * spec.keySize());
            for (int i = 0; i < n; i++) {
                k.putBytes((long) i * spec.keySize(), checkKey(keys.get(i)));
            }
            int r = Bpf.mapDeleteBatch(fd, k, n, op("batch delete"));
            if (r < 0) {
                batchUnsupported = true;
            } else {
                done = r;
            }
        }
        // One by one from where a batch stopped (a missing key ends a batch), or all without batches.
        for (int i = done; i < n; i++) {
            deleteBytes(keys.get(i));
        }
    }

    final boolean deleteBytes(byte[] key) {
        return Bpf.mapDelete(fd, NativeBuffer.of(checkKey(key)), op("delete"));
    }

    /** Every key, in the kernel's iteration order. Keys added or removed meanwhile may be missed. */
    final List<byte[]> keyBytes() {
        List<byte[]> keys = new ArrayList<>();
        NativeBuffer next = NativeBuffer.allocate(spec.keySize());
        NativeBuffer current = null;
        while (Bpf.mapNextKey(fd, current, next, op("iterate"))) {
            byte[] k = next.getBytes(0, spec.keySize());
            keys.add(k);
            current = NativeBuffer.of(k);
        }
        return keys;
    }

    private byte[] checkKey(byte[] key) {
        if (key.length != spec.keySize()) {
            throw new IllegalArgumentException("map '" + spec.name() + "' keys are " + spec.keySize()
                    + " bytes, got " + key.length);
        }
        return key;
    }
}
