package io.sksteer.bpf;

/**
 * A socket's file descriptor that somebody else owns (Netty, a test). The kernel layer reads from
 * it and passes it to {@code bpf()}, and never closes it.
 *
 * @param value the descriptor number in this process
 */
public record SocketFd(int value) {

    public SocketFd {
        if (value < 0) {
            throw new IllegalArgumentException("not a file descriptor: " + value);
        }
    }
}
