package io.sksteer.bpf.sklookup;

import io.sksteer.bpf.Sockets;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Objects;

/**
 * An input to {@code BPF_PROG_TEST_RUN} for sk_lookup: the lookup the kernel would make for a
 * packet from {@code remote} to {@code local}. Both addresses must be of one family.
 *
 * @param protocol TCP or UDP
 * @param local the destination the packet was sent to
 * @param remote the sender
 */
public record SkLookupContext(Protocol protocol, InetSocketAddress local, InetSocketAddress remote) {

    public SkLookupContext {
        Objects.requireNonNull(protocol, "protocol");
        Objects.requireNonNull(local, "local");
        Objects.requireNonNull(remote, "remote");
        if (local.isUnresolved() || remote.isUnresolved()) {
            throw new IllegalArgumentException("addresses must be IP literals, not names");
        }
        if ((local.getAddress() instanceof Inet4Address) != (remote.getAddress() instanceof Inet4Address)) {
            throw new IllegalArgumentException("local " + local + " and remote " + remote + " are of different families");
        }
    }

    /** The family of the lookup: AF_INET or AF_INET6. */
    public int family() {
        return local.getAddress() instanceof Inet4Address ? Sockets.AF_INET : Sockets.AF_INET6;
    }

    /**
     * {@code struct bpf_sk_lookup} as PROG_TEST_RUN wants it: {@code sk} 0, addresses in network
     * order, {@code remote_port} big-endian, {@code local_port} host order, everything after
     * {@code local_port} (ingress_ifindex included) zero.
     */
    public byte[] encode() {
        ByteBuffer b = ByteBuffer.allocate(SkLookup.CONTEXT_SIZE).order(ByteOrder.nativeOrder());
        b.putInt(SkLookup.FAMILY, family());
        b.putInt(SkLookup.PROTOCOL, protocol.number());
        InetAddress l = local.getAddress();
        InetAddress r = remote.getAddress();
        if (l instanceof Inet6Address) {
            b.put(SkLookup.LOCAL_IP6, l.getAddress());
            b.put(SkLookup.REMOTE_IP6, r.getAddress());
        } else {
            b.put(SkLookup.LOCAL_IP4, l.getAddress());
            b.put(SkLookup.REMOTE_IP4, r.getAddress());
        }
        b.put(SkLookup.REMOTE_PORT, (byte) (remote.getPort() >> 8));
        b.put(SkLookup.REMOTE_PORT + 1, (byte) remote.getPort());
        b.putInt(SkLookup.LOCAL_PORT, local.getPort());
        return b.array();
    }
}
