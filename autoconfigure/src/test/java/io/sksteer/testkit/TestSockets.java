package io.sksteer.testkit;

import io.sksteer.bpf.SocketFd;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.reflect.Method;
import java.net.DatagramPacket;
import java.net.InetSocketAddress;
import java.net.PortUnreachableException;
import java.net.ProtocolFamily;
import java.net.SocketAddress;
import java.net.SocketTimeoutException;
import java.net.StandardProtocolFamily;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.channels.NetworkChannel;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;

/**
 * Real sockets for kernel tests, created inside a {@link TestNetns}. Every wait is bounded; a
 * failure says what was expected.
 */
public final class TestSockets {

    /** How long a connect, accept or receive may take before the test fails. */
    public static final int TIMEOUT_MS = 3000;

    private TestSockets() {
    }

    /** The descriptor of a JDK channel (needs {@code --add-opens java.base/sun.nio.ch=ALL-UNNAMED}). */
    public static SocketFd fd(NetworkChannel channel) {
        try {
            Method m = Class.forName("sun.nio.ch.SelChImpl").getMethod("getFDVal");
            m.setAccessible(true);
            return new SocketFd((Integer) m.invoke(channel));
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot read the fd of " + channel + " (is sun.nio.ch opened?)", e);
        }
    }

    public static ServerSocketChannel tcpListener(TestNetns ns, ProtocolFamily family, String host, int port) {
        return ns.call(() -> {
            ServerSocketChannel s = ServerSocketChannel.open(family);
            s.bind(new InetSocketAddress(host, port), 64);
            return s;
        });
    }

    public static DatagramChannel udpSocket(TestNetns ns, ProtocolFamily family, String host, int port) {
        return ns.call(() -> {
            DatagramChannel d = DatagramChannel.open(family);
            d.bind(new InetSocketAddress(host, port));
            return d;
        });
    }

    /**
     * Connects to {@code target} from inside {@code ns} and accepts on {@code server}; returns the
     * accepted connection's local address (the destination the kernel delivered to).
     */
    public static InetSocketAddress connectAndAccept(TestNetns ns, ServerSocketChannel server, InetSocketAddress target) {
        try (SocketChannel client = connect(ns, target)) {
            server.socket().setSoTimeout(TIMEOUT_MS);
            try (SocketChannel accepted = server.socket().accept().getChannel()) {
                return (InetSocketAddress) accepted.getLocalAddress();
            }
        } catch (SocketTimeoutException e) {
            throw new AssertionError("connected to " + target + " but " + server + " accepted nothing in " + TIMEOUT_MS + " ms");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Opens a TCP connection from inside {@code ns}, with a bounded wait. */
    public static SocketChannel connect(TestNetns ns, InetSocketAddress target) {
        return ns.call(() -> {
            SocketChannel c = SocketChannel.open(family(target));
            try {
                c.socket().connect(target, TIMEOUT_MS);
                return c;
            } catch (IOException e) {
                c.close();
                throw e;
            }
        });
    }

    /** True when a TCP connect from inside {@code ns} to {@code target} is refused (RST). */
    public static boolean tcpRefused(TestNetns ns, InetSocketAddress target) {
        try (SocketChannel c = connect(ns, target)) {
            return false;
        } catch (IOException e) {
            return false; // from close(): the connect itself worked
        } catch (RuntimeException e) {
            if (isRefused(e)) {
                return true;
            }
            throw e;
        }
    }

    private static boolean isRefused(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof java.net.ConnectException && String.valueOf(t.getMessage()).contains("refused")) {
                return true;
            }
        }
        return false;
    }

    /**
     * Sends {@code payload} from a connected UDP socket inside {@code ns} to {@code target} and
     * returns what {@code server} received, with the sender.
     */
    public static String sendAndReceive(TestNetns ns, DatagramChannel server, InetSocketAddress target, String payload) {
        try (DatagramChannel client = ns.call(() -> DatagramChannel.open(family(target)).connect(target))) {
            client.write(ByteBuffer.wrap(payload.getBytes(StandardCharsets.UTF_8)));
            server.socket().setSoTimeout(TIMEOUT_MS);
            DatagramPacket p = new DatagramPacket(new byte[2048], 2048);
            server.socket().receive(p);
            return new String(p.getData(), 0, p.getLength(), StandardCharsets.UTF_8);
        } catch (SocketTimeoutException e) {
            throw new AssertionError("sent to " + target + " but " + server + " received nothing in " + TIMEOUT_MS + " ms");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * True when a datagram from a connected socket inside {@code ns} to {@code target} is answered
     * with ICMP port unreachable (ECONNREFUSED on the next receive).
     */
    public static boolean udpRefused(TestNetns ns, InetSocketAddress target) {
        try (DatagramChannel client = ns.call(() -> DatagramChannel.open(family(target)).connect(target))) {
            client.write(ByteBuffer.wrap(new byte[] {1}));
            client.socket().setSoTimeout(TIMEOUT_MS);
            client.socket().receive(new DatagramPacket(new byte[16], 16));
            return false;
        } catch (PortUnreachableException e) {
            return true;
        } catch (SocketTimeoutException e) {
            return false;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static InetSocketAddress addr(String host, int port) {
        return new InetSocketAddress(host, port);
    }

    public static int port(NetworkChannel channel) {
        try {
            SocketAddress a = channel.getLocalAddress();
            return ((InetSocketAddress) a).getPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static ProtocolFamily family(InetSocketAddress target) {
        return target.getAddress() instanceof java.net.Inet6Address ? StandardProtocolFamily.INET6 : StandardProtocolFamily.INET;
    }
}
