package io.sksteer.bpf;

import io.sksteer.bpf.internal.Fd;
import io.sksteer.bpf.internal.Os;
import io.sksteer.bpf.internal.RecvMsg;
import java.nio.ByteBuffer;

/**
 * Reads a UDP socket with {@code recvmsg(2)} and reports, for every datagram, the destination the
 * client sent it to. That is how a socket learns the original destination of a datagram an
 * sk_lookup program steered to it: the kernel attaches {@code IP_ORIGDSTADDR} (IPv4, also IPv4 on
 * a dual-stack AF_INET6 socket) or {@code IPV6_ORIGDSTADDR} (IPv6) once the matching
 * {@code *_RECVORIGDSTADDR} option is on.
 *
 * <p>A receiver owns a duplicate of the socket's descriptor, so that an event loop can watch the
 * duplicate while the owner of the original (Netty, a test) keeps its own registration. The socket
 * itself lives until both are closed: close the receiver when its socket's owner closes.
 *
 * <p>Not thread-safe: one thread receives (the native message header is reused).
 */
public final class DatagramReceiver implements AutoCloseable {

    private static final int SOL_IP = 0;
    private static final int IP_RECVORIGDSTADDR = 20;
    private static final int SOL_IPV6 = 41;
    private static final int IPV6_RECVORIGDSTADDR = 74;

    private final Fd fd;
    private final RecvMsg message = new RecvMsg();

    private DatagramReceiver(Fd fd) {
        this.fd = fd;
    }

    /**
     * Turns on original-destination reporting for a UDP socket: {@code IP_RECVORIGDSTADDR}, and for
     * an AF_INET6 socket also {@code IPV6_RECVORIGDSTADDR}. Datagrams queued before this carry no
     * destination, so call it before the socket is bound or steered to. Idempotent.
     *
     * @throws BpfException if the socket is not UDP or refuses an option
     */
    public static void enableOriginalDestination(SocketFd socket) {
        if (Sockets.protocol(socket) != Sockets.IPPROTO_UDP) {
            throw BpfException.invalid("enable original destinations on fd " + socket.value(), "not a UDP socket");
        }
        Os.setIntSockopt(socket.value(), SOL_IP, IP_RECVORIGDSTADDR, 1, "set IP_RECVORIGDSTADDR");
        if (Sockets.family(socket) == Sockets.AF_INET6) {
            Os.setIntSockopt(socket.value(), SOL_IPV6, IPV6_RECVORIGDSTADDR, 1, "set IPV6_RECVORIGDSTADDR");
        }
    }

    /**
     * Enables original destinations on {@code socket} ({@link #enableOriginalDestination}) and opens
     * a receiver on a duplicate of its descriptor ({@code F_DUPFD_CLOEXEC}).
     */
    public static DatagramReceiver open(SocketFd socket) {
        enableOriginalDestination(socket);
        return new DatagramReceiver(Os.duplicate(socket.value(), "datagram receiver of socket fd " + socket.value()));
    }

    /**
     * The receiver's own descriptor of the socket, for a poller to watch for readability. It
     * belongs to this receiver: whoever polls it must stop before {@link #close()}, and never
     * closes it.
     */
    public SocketFd descriptor() {
        return new SocketFd(fd.get());
    }

    /**
     * Takes one waiting datagram without blocking, storing it from {@code into}'s position (which
     * advances by the length stored). A direct buffer is filled in place.
     *
     * @return the datagram, or {@code null} when none is waiting
     * @throws BpfException when {@code recvmsg} fails for another reason than EAGAIN
     * @throws IllegalStateException when the receiver is closed
     */
    public ReceivedDatagram receive(ByteBuffer into) {
        int n = message.receive(fd, into);
        if (n < 0) {
            return null;
        }
        return new ReceivedDatagram(n, message.truncated(), message.sender(), message.originalDestination());
    }

    public boolean isOpen() {
        return fd.isOpen();
    }

    /**
     * Closes the receiver's duplicate descriptor. The socket stays open while its owner's
     * descriptor does; when both are closed the kernel releases it (and removes it from every
     * SOCKMAP). Idempotent.
     */
    @Override
    public void close() {
        fd.close();
    }

    @Override
    public String toString() {
        return "DatagramReceiver[" + fd + "]";
    }
}
