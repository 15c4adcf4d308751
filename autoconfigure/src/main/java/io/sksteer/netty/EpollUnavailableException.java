package io.sksteer.netty;

/** Netty's epoll transport, which sksteer's listeners need, cannot be loaded here. */
public final class EpollUnavailableException extends RuntimeException {

    public EpollUnavailableException(Throwable cause) {
        super("Netty's epoll transport is not available: " + (cause == null ? "unknown cause" : cause.getMessage()), cause);
    }
}
