package io.sksteer.netty;

/**
 * What one steered UDP listener has done with replies so far.
 *
 * @param replySockets reply sockets open now
 * @param repliesFromOriginalDestination replies sent through a reply socket, from the address and
 *     port the client had sent to
 * @param repliesFromListener replies that asked for a source the listener could not bind (another
 *     socket owns it, or binding is not permitted) and left from the listener's own address
 *     instead; a connected client drops those
 * @param strayDatagrams datagrams that reached a reply socket instead of the listener and were
 *     dropped (only possible while the steering program does not steer that destination)
 */
public record UdpSteeringStats(int replySockets, long repliesFromOriginalDestination, long repliesFromListener,
        long strayDatagrams) {
}
