package io.sksteer.bpf;

import java.net.InetSocketAddress;

/**
 * One datagram taken by a {@link DatagramReceiver}: how much of it was stored, and between which
 * addresses it travelled. IPv4 peers of a dual-stack socket appear as plain IPv4 addresses.
 *
 * @param length the bytes stored in the caller's buffer
 * @param truncated whether the datagram was longer than the buffer and its tail was dropped
 * @param sender the address and port the datagram came from
 * @param destination the address and port the client sent it to (the original destination, also
 *     when an sk_lookup program steered it to a socket bound elsewhere), or {@code null} when the
 *     kernel attached none (a datagram queued before the option was turned on)
 */
public record ReceivedDatagram(int length, boolean truncated, InetSocketAddress sender, InetSocketAddress destination) {
}
