package io.sksteer.netty;

import java.net.InetSocketAddress;

/** A listener's socket could not be created or bound. */
public final class ListenerBindException extends RuntimeException {

    private final String listener;
    private final transient InetSocketAddress address;

    public ListenerBindException(String listener, String origin, InetSocketAddress address, Throwable cause) {
        super("listener '" + listener + "' (" + origin + ") could not bind " + address + ": " + cause.getMessage(), cause);
        this.listener = listener;
        this.address = address;
    }

    public String listener() {
        return listener;
    }

    public InetSocketAddress address() {
        return address;
    }
}
