package io.sksteer.bpf;

import io.sksteer.bpf.internal.Bpf;
import io.sksteer.bpf.internal.Fd;
import io.sksteer.bpf.internal.NativeBuffer;
import java.nio.file.Path;

/**
 * An sk_lookup program attached to a network namespace through a BPF link
 * ({@code BPF_LINK_CREATE}, the only way sk_lookup attaches). From the moment it exists the program
 * runs on every TCP and UDP socket lookup of that namespace.
 */
public final class NetnsLink implements AutoCloseable {

    private final Fd fd;
    private final int id;
    private final String namespace;

    private NetnsLink(Fd fd, String namespace) {
        this.fd = fd;
        this.namespace = namespace;
        int linkId;
        try {
            linkId = info().id();
        } catch (RuntimeException e) {
            fd.close();
            throw e;
        }
        this.id = linkId;
    }

    /** Attaches {@code program} to the namespace behind {@code namespace}; runs after programs attached earlier. */
    public static NetnsLink attach(BpfProgram program, NetworkNamespace namespace) {
        String operation = "attach program '" + program.name() + "' to network namespace " + namespace.description();
        Fd fd = Bpf.linkCreate(program.fd(), namespace.fd(), AttachType.SK_LOOKUP.number(),
                "sk_lookup link of '" + program.name() + "'", operation);
        return new NetnsLink(fd, namespace.description());
    }

    /** Attaches to the namespace file at {@code path} (default target: {@link NetworkNamespace#PROCESS}). */
    public static NetnsLink attach(BpfProgram program, Path path) {
        try (NetworkNamespace ns = NetworkNamespace.open(path)) {
            // The link holds its own reference to the namespace's net; our handle can go.
            return attach(program, ns);
        }
    }

    /**
     * Takes over a link this process inherited (from a service manager's descriptor store): it
     * must be an sk_lookup link attached to {@code namespace}. The descriptor is owned by the
     * returned link; on refusal it is closed (which detaches nothing while another holder keeps it).
     *
     * @throws BpfException naming what the descriptor is instead
     */
    public static NetnsLink adopt(int fd, NetworkNamespace namespace) {
        Fd owned = Fd.adopt(fd, "inherited sk_lookup link (fd " + fd + ")");
        try {
            NativeBuffer info = Bpf.objInfo(owned, 48, "read info of inherited fd " + fd);
            int type = info.getInt(0);
            long netns = Integer.toUnsignedLong(info.getInt(16));
            int attachType = info.getInt(20);
            if (type != LINK_TYPE_NETNS || attachType != AttachType.SK_LOOKUP.number()) {
                throw new BpfException("adopt inherited link fd " + fd, Errno.EINVAL.number(),
                        "it is a link of type " + type + ", attach type " + attachType + ", not an sk_lookup link");
            }
            if (netns != namespace.inode()) {
                throw new BpfException("adopt inherited link fd " + fd, Errno.EINVAL.number(), "it is attached to the network namespace of inode "
                        + netns + ", not to " + namespace.description() + " (inode " + namespace.inode() + ")");
            }
            return new NetnsLink(owned, namespace.description());
        } catch (RuntimeException e) {
            owned.close();
            throw e;
        }
    }

    /** {@code BPF_LINK_TYPE_NETNS}. */
    private static final int LINK_TYPE_NETNS = 5;

    /** The link's descriptor, to hand to a descriptor store. */
    int descriptor() {
        return fd.get();
    }

    /** The kernel-wide link id. */
    public int id() {
        return id;
    }

    /** The namespace this link was attached to, as given. */
    public String namespace() {
        return namespace;
    }

    /** What the kernel reports about the link now; {@link LinkInfo#attached()} turns false when the namespace dies. */
    public LinkInfo info() {
        NativeBuffer info = Bpf.objInfo(fd, 48, "read info of " + fd.description());
        return new LinkInfo(info.getInt(4), info.getInt(8), Integer.toUnsignedLong(info.getInt(16)), info.getInt(20));
    }

    /** Replaces the program atomically, keeping the link's place in the run order. */
    public void update(BpfProgram program) {
        Bpf.linkUpdate(fd, program.fd(), "replace program of link " + id + " with '" + program.name() + "'");
    }

    /** Detaches the program now, keeping the descriptor (its info then reports not attached). */
    public void detach() {
        Bpf.linkDetach(fd, "detach link " + id);
    }

    public boolean isOpen() {
        return fd.isOpen();
    }

    /**
     * Closes the link. Unless the link was pinned in bpffs (this layer never pins), the kernel
     * detaches the program from the namespace now; the same happens if the process dies.
     * Idempotent.
     */
    @Override
    public void close() {
        fd.close();
    }

    @Override
    public String toString() {
        return "NetnsLink[id " + id + ", " + namespace + "]";
    }
}
