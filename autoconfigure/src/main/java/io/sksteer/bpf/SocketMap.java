package io.sksteer.bpf;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;

/**
 * A SOCKMAP or SOCKHASH. Updates take a socket of this process; lookups from user space return
 * the socket's cookie (with 8-byte values). A closed socket leaves every map by itself.
 *
 * @param <K> key type: {@code Integer} slots for a SOCKMAP
 */
public final class SocketMap<K> extends KernelMap {

    private final Codec<K> keys;

    private SocketMap(MapSpec spec, Codec<K> keys) {
        super(spec);
        this.keys = keys;
    }

    /** Creates a SOCKMAP (needs CAP_NET_ADMIN). */
    public static SocketMap<Integer> createSockMap(MapSpec spec) {
        if (spec.type() != MapType.SOCKMAP) {
            throw new IllegalArgumentException("map '" + spec.name() + "' is " + spec.type().kernelName() + ", not SOCKMAP");
        }
        return new SocketMap<>(spec, Codec.u32());
    }

    /** Creates a SOCKHASH (needs CAP_NET_ADMIN). */
    public static <K> SocketMap<K> createSockHash(MapSpec spec, Codec<K> keys) {
        if (spec.type() != MapType.SOCKHASH) {
            throw new IllegalArgumentException("map '" + spec.name() + "' is " + spec.type().kernelName() + ", not SOCKHASH");
        }
        if (keys.size() != spec.keySize()) {
            throw new IllegalArgumentException("map '" + spec.name() + "': key codec encodes " + keys.size()
                    + " bytes, spec says " + spec.keySize());
        }
        return new SocketMap<>(spec, keys);
    }

    /** Puts a socket under {@code key}, creating or replacing. */
    public void put(K key, SocketFd socket) {
        put(key, socket, UpdateFlag.ANY);
    }

    /**
     * Puts a socket under {@code key}. TCP sockets must be listening (or established); UDP ones may
     * be in any state. {@link UpdateFlag#EXIST} swaps the socket of a slot atomically.
     */
    public void put(K key, SocketFd socket, UpdateFlag flag) {
        ByteBuffer value = ByteBuffer.allocate(spec().valueSize()).order(ByteOrder.nativeOrder());
        if (spec().valueSize() == 8) {
            value.putLong(socket.value());
        } else {
            value.putInt(socket.value());
        }
        updateBytes(keys.toBytes(key), value.array(), flag);
    }

    /** The cookie of the socket under {@code key}, or empty if the slot is empty. Needs 8-byte values. */
    public OptionalLong cookie(K key) {
        if (spec().valueSize() != 8) {
            throw new IllegalStateException("map '" + name() + "' has 4-byte values: the kernel returns cookies only into 8-byte values");
        }
        byte[] v = lookupBytes(keys.toBytes(key), 8);
        return v == null ? OptionalLong.empty()
                : OptionalLong.of(ByteBuffer.wrap(v).order(ByteOrder.nativeOrder()).getLong());
    }

    /**
     * Removes the socket under {@code key}; false if the slot was empty. (For a SOCKMAP slot whose
     * socket was closed the kernel answers EINVAL, which is also reported as false.)
     */
    public boolean remove(K key) {
        try {
            return deleteBytes(keys.toBytes(key));
        } catch (BpfException e) {
            if (e.errnoValue() == Errno.EINVAL && spec().type() == MapType.SOCKMAP) {
                return false;
            }
            throw e;
        }
    }

    /**
     * The keys that hold a socket (a SOCKMAP iterates every slot, so empty ones are skipped). A
     * SOCKMAP must have 8-byte values for this: with 4-byte values the kernel refuses every
     * user-space lookup (ENOSPC), so it cannot tell a full slot from an empty one.
     */
    public List<K> keys() {
        boolean hash = spec().type() == MapType.SOCKHASH;
        if (!hash && spec().valueSize() != 8) {
            throw new IllegalStateException("map '" + name() + "' has 4-byte values: the kernel tells which SOCKMAP slots"
                    + " hold a socket only with 8-byte values");
        }
        List<K> out = new ArrayList<>();
        for (byte[] k : keyBytes()) {
            // A SOCKHASH iterates only keys that hold a socket; with 8-byte values the lookup
            // also drops keys removed meanwhile. (sock_map_lookup_sys / sock_hash_lookup_sys
            // answer ENOSPC for 4-byte values before looking at the key.)
            if ((hash && spec().valueSize() != 8) || lookupBytes(k, spec().valueSize()) != null) {
                out.add(keys.fromBytes(k));
            }
        }
        return out;
    }
}
