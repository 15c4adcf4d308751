package io.sksteer.netty;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelConfig;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.IoEvent;
import io.netty.channel.IoEventLoop;
import io.netty.channel.IoRegistration;
import io.netty.channel.RecvByteBufAllocator;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollIoHandle;
import io.netty.channel.epoll.EpollIoOps;
import io.netty.channel.socket.DatagramPacket;
import io.netty.channel.unix.FileDescriptor;
import io.netty.util.UncheckedBooleanSupplier;
import io.netty.util.concurrent.Future;
import io.sksteer.bpf.DatagramReceiver;
import io.sksteer.bpf.ReceivedDatagram;
import io.sksteer.bpf.SocketFd;
import java.net.InetSocketAddress;

/**
 * Reads an AF_INET6 listener in Netty's place, so that each datagram carries its original
 * destination, IPv6 included.
 *
 * <p>Netty 4.2's epoll transport cannot: its {@code IP_RECVORIGDSTADDR} option sets only the IPv4
 * socket option, and its native {@code recvmsg} reads only an {@code SOL_IP/IP_ORIGDSTADDR}
 * control message; an IPv6 datagram gets the channel's own local address as recipient. So the
 * listener's reads are taken over: the {@link DatagramReceiver} of the kernel layer holds a
 * duplicate of the socket's descriptor (the original stays registered with the channel, and epoll
 * refuses the same descriptor twice), this handle watches the duplicate level-triggered on the
 * channel's own event loop, and each datagram received with {@code recvmsg} is fired into the
 * channel's pipeline as a {@link DatagramPacket} with recipient = original destination. Netty's
 * own reading never starts because {@link SteeredDatagramHandler} keeps {@code read()} requests
 * from reaching the channel and hands them to {@link #read()} instead.
 *
 * <p>Buffers come from the channel's allocator and {@code RecvByteBufAllocator}, as Netty's own
 * read loop would take them, and the channel's auto-read setting is honoured.
 */
final class OriginalDestinationReader implements EpollIoHandle {

    private final EpollDatagramChannel channel;
    private final DatagramReceiver receiver;
    private final FileDescriptor watched;      // Netty's view of the receiver's descriptor; never closed through it
    private RecvByteBufAllocator.Handle allocHandle;
    private IoRegistration registration;
    private EpollIoOps interest = EpollIoOps.NONE;
    private boolean wantRead;
    private boolean pending = true;   // registration not completed yet
    private boolean closed;

    private OriginalDestinationReader(EpollDatagramChannel channel, DatagramReceiver receiver) {
        this.channel = channel;
        this.receiver = receiver;
        this.watched = new FileDescriptor(receiver.descriptor().value());
    }

    /**
     * Opens a receiver on the channel's socket and registers it with the channel's event loop.
     * Call on that loop, once the channel is registered.
     */
    static OriginalDestinationReader start(EpollDatagramChannel channel) {
        if (!(channel.eventLoop() instanceof IoEventLoop loop) || !loop.isCompatible(OriginalDestinationReader.class)) {
            throw new IllegalStateException("a steered AF_INET6 listener needs an epoll IoEventLoop (Netty 4.2"
                    + " MultiThreadIoEventLoopGroup with EpollIoHandler), not " + channel.eventLoop());
        }
        DatagramReceiver receiver = DatagramReceiver.open(new SocketFd(channel.fd().intValue()));
        OriginalDestinationReader reader = new OriginalDestinationReader(channel, receiver);
        // From the loop itself this completes at once; the code does not rely on it.
        loop.register(reader).addListener(reader::registrationDone);
        return reader;
    }

    private void registrationDone(Future<?> f) {
        pending = false;
        if (!f.isSuccess()) {
            receiver.close();
            if (!closed) {
                closed = true;
                channel.pipeline().fireExceptionCaught(f.cause());
            }
            return;
        }
        registration = (IoRegistration) f.getNow();
        if (closed) {
            release();      // closed while the registration was on its way
        } else {
            updateInterest();
        }
    }

    /** Starts reading (a {@code read()} request of the pipeline); with auto-read off, for one batch. */
    void read() {
        if (!closed) {
            wantRead = true;
            updateInterest();
        }
    }

    @Override
    public FileDescriptor fd() {
        return watched;
    }

    @Override
    public void handle(IoRegistration registration, IoEvent event) {
        if (closed) {
            return;
        }
        ChannelConfig config = channel.config();
        ChannelPipeline pipeline = channel.pipeline();
        if (allocHandle == null) {
            allocHandle = config.getRecvByteBufAllocator().newHandle();
        }
        // Also on a bare EPOLLERR (reported even while paused): like Netty's own read loop, a
        // recvmsg then returns and clears the socket error.
        RecvByteBufAllocator.Handle handle = allocHandle;
        handle.reset(config);
        int delivered = 0;
        Throwable failure = null;
        try {
            do {
                ByteBuf buf = handle.allocate(config.getAllocator());
                ReceivedDatagram d;
                try {
                    handle.attemptedBytesRead(buf.writableBytes());
                    d = receiver.receive(buf.internalNioBuffer(buf.writerIndex(), buf.writableBytes()));
                } catch (RuntimeException e) {
                    buf.release();
                    throw e;
                }
                if (d == null) {
                    buf.release();
                    break;
                }
                buf.writerIndex(buf.writerIndex() + d.length());
                handle.lastBytesRead(d.length());
                handle.incMessagesRead(1);
                // Without a control message (queued before the option was on; the handler turns
                // it on before bind) the socket's own address is the best answer, and Netty's.
                InetSocketAddress recipient = d.destination() != null ? d.destination()
                        : UdpSteering.normalise(channel.localAddress());
                delivered++;
                pipeline.fireChannelRead(new DatagramPacket(buf, recipient, d.sender()));
            } while (!closed && continueReading(handle));
        } catch (Throwable t) {
            failure = t;
        }
        handle.readComplete();
        pipeline.fireChannelReadComplete();
        if (failure != null) {
            pipeline.fireExceptionCaught(failure);
        }
        if (!closed && !config.isAutoRead() && delivered > 0) {
            // Like Netty: without auto-read, each read() request yields one batch.
            wantRead = false;
            updateInterest();
        }
    }

    private static boolean continueReading(RecvByteBufAllocator.Handle handle) {
        // Every datagram is one message whatever its size, so "the buffer was not filled" must
        // not end the batch (Netty's datagram channels pass the same supplier).
        return handle instanceof RecvByteBufAllocator.ExtendedHandle extended
                ? extended.continueReading(UncheckedBooleanSupplier.TRUE_SUPPLIER)
                : handle.continueReading();
    }

    private void updateInterest() {
        if (registration == null || closed) {
            return;
        }
        // Level-triggered: a batch cut short by maxMessagesPerRead is picked up on the next wakeup.
        EpollIoOps wanted;
        if (wantRead) {
            wanted = EpollIoOps.EPOLLIN;
        } else if (interest.equals(EpollIoOps.NONE)) {
            return;                        // not in epoll yet: nothing to pause
        } else {
            // Paused. Not NONE: Netty 4.2.18 answers submit(NONE) with EPOLL_CTL_DEL but keeps the
            // registration "added", so the next submit does EPOLL_CTL_MOD and fails with ENOENT.
            // EPOLLERR is reported whatever the mask says, so this mask means "nothing more".
            wanted = EpollIoOps.EPOLLERR;
        }
        if (!wanted.equals(interest)) {
            registration.submit(wanted);
            interest = wanted;
        }
    }

    /**
     * Stops reading and closes the receiver's descriptor after taking it out of epoll. Idempotent;
     * also called by the event loop when it shuts down.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (!pending) {
            release();
        }
        // else registrationDone() releases once the registration has arrived.
    }

    private void release() {
        // The descriptor must leave epoll before it is closed: epoll keys its entries by open file
        // and descriptor number, and an entry of a closed duplicate would linger while the
        // listener's own descriptor keeps the file open. On the loop, cancel() removes it at once
        // and calls unregistered(); from elsewhere it does so later, on the loop.
        registration.cancel();
        if (channel.eventLoop().inEventLoop()) {
            receiver.close();
        }
    }

    @Override
    public void unregistered() {
        receiver.close();
    }
}
