package io.sksteer.steering;

import io.sksteer.bpf.sklookup.Protocol;
import java.net.InetSocketAddress;
import java.util.Objects;

/**
 * What a listener is: its name, protocol and the real socket's address and options.
 *
 * @param name the listener's name, as rules and handlers refer to it
 * @param protocol TCP or UDP
 * @param bind where the real socket binds; {@code null} for the default (loopback, ephemeral port,
 *     dual-stack where the kernel has IPv6)
 * @param backlog the accept backlog (TCP)
 * @param reusePort whether SO_REUSEPORT is set on the socket
 * @param origin the property path of the listener, for messages
 * @param adoptedFrom {@code null} when sksteer binds the socket; else who gives it (e.g. "the web
 *     server"), and then {@code bind} is the address that socket is known to be bound to, if any
 * @param bindOrigin where {@code bind} comes from, for messages (a property path)
 */
public record ListenerSpec(String name, Protocol protocol, InetSocketAddress bind, int backlog, boolean reusePort,
        String origin, String adoptedFrom, String bindOrigin) {

    public ListenerSpec {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(protocol, "protocol");
        origin = origin == null ? "listener '" + name + "'" : origin;
        bindOrigin = bindOrigin == null ? origin + ".bind" : bindOrigin;
    }

    /** A listener whose socket sksteer binds. */
    public ListenerSpec(String name, Protocol protocol, InetSocketAddress bind, int backlog, boolean reusePort, String origin) {
        this(name, protocol, bind, backlog, reusePort, origin, null, null);
    }

    /** Whether the application gives this listener's socket (sksteer does not bind it). */
    public boolean adopted() {
        return adoptedFrom != null;
    }

    /** Whether the socket can take IPv4 traffic: not bound to a specific IPv6 address. */
    public boolean acceptsIpv4() {
        return bind == null || !(bind.getAddress() instanceof java.net.Inet6Address) || bind.getAddress().isAnyLocalAddress();
    }

    /** Whether the socket can take IPv6 traffic: AF_INET6, i.e. not bound to an IPv4 address. */
    public boolean acceptsIpv6() {
        return bind == null || bind.getAddress() instanceof java.net.Inet6Address;
    }
}
