package io.sksteer.testkit;

import java.net.DatagramPacket;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * A UDP client that sends one numbered request at a time ({@code PREFIX N}) and waits for its
 * reply before the next, until stopped: the request loop of the restart tests. A reply that does
 * not answer the request, no reply within the timeout, and a refused send (ICMP port unreachable)
 * are failures, each reported as a line.
 */
public final class UdpRequestLoop implements Runnable {

    private final InetSocketAddress target;
    private final String prefix;
    private final int timeoutMs;
    private final Predicate<String[]> answers;
    private final AtomicBoolean stop;
    private final Runnable onReply;
    private final Consumer<String> onFailure;

    /**
     * @param answers whether {@code {sent, received}} is the reply to the request
     */
    public UdpRequestLoop(InetSocketAddress target, String prefix, int timeoutMs, Predicate<String[]> answers, AtomicBoolean stop,
            Runnable onReply, Consumer<String> onFailure) {
        this.target = target;
        this.prefix = prefix;
        this.timeoutMs = timeoutMs;
        this.answers = answers;
        this.stop = stop;
        this.onReply = onReply;
        this.onFailure = onFailure;
    }

    @Override
    public void run() {
        try (DatagramChannel client = DatagramChannel.open().connect(target)) {
            client.socket().setSoTimeout(timeoutMs);
            int n = 0;
            while (!stop.get()) {
                String sent = prefix + n++;
                DatagramPacket p = new DatagramPacket(new byte[256], 256);
                try {
                    client.write(ByteBuffer.wrap(sent.getBytes(StandardCharsets.US_ASCII)));
                    client.socket().receive(p);
                    String got = new String(p.getData(), 0, p.getLength(), StandardCharsets.US_ASCII);
                    if (answers.test(new String[] {sent, got})) {
                        onReply.run();
                    } else {
                        onFailure.accept("udp: sent '" + sent + "', got '" + got + "'");
                    }
                } catch (SocketTimeoutException e) {
                    onFailure.accept("udp: no reply to '" + sent + "' in " + timeoutMs + " ms");
                } catch (java.io.IOException e) {
                    onFailure.accept("udp: '" + sent + "': " + e);
                    // A refused send comes back at once: pace the next one.
                    java.util.concurrent.locks.LockSupport.parkNanos(1_000_000);
                }
            }
        } catch (java.io.IOException e) {
            onFailure.accept("udp: " + e);
        }
    }
}
