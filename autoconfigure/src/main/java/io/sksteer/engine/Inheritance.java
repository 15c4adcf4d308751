package io.sksteer.engine;

import io.sksteer.bpf.BpfException;
import io.sksteer.bpf.FdStore;
import io.sksteer.bpf.NetnsLink;
import io.sksteer.bpf.NetworkNamespace;
import io.sksteer.netty.BoundChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;

/**
 * What a start takes over from a service manager's descriptor store ({@link FdStore}): the
 * dispatcher link a previous process of the service left there (the listener sockets it left are
 * taken by {@link io.sksteer.netty.NettyListeners#inherit}), and, once attached, what it hands
 * back to be kept for the next one.
 */
final class Inheritance {

    private static final System.Logger LOG = System.getLogger(Inheritance.class.getName());

    private Inheritance() {
    }

    /**
     * The dispatcher link a previous process left in the store, attached to {@code ns}; {@code
     * null} when there is none or it does not fit (it is then dropped from the store).
     */
    static NetnsLink link(FdStore store, NetworkNamespace ns) {
        OptionalInt taken = store.take(FdStore.LINK_NAME);
        if (taken.isEmpty()) {
            return null;
        }
        try {
            return NetnsLink.adopt(taken.getAsInt(), ns);
        } catch (BpfException e) {
            LOG.log(System.Logger.Level.WARNING, "sksteer: the inherited link is not taken over (" + e.getMessage()
                    + "); a new one is attached");
            store.forget(FdStore.LINK_NAME);
            return null;
        }
    }

    /**
     * After the attach: closes and drops what nobody took, then, when the store is storing, hands
     * it the link and the sockets of the listeners sksteer bound.
     *
     * @return whether the store now keeps them all (a stop then leaves them attached and open)
     */
    static boolean keep(FdStore store, NetnsLink link, Map<String, SteeredListener> listeners) {
        List<String> released = store.releaseUnclaimed();
        if (!released.isEmpty()) {
            LOG.log(System.Logger.Level.INFO, "sksteer: closed the inherited descriptors no listener took: " + released);
        }
        if (!store.storing()) {
            // Taken over without a store to give them back to: drop its copies, or they would
            // keep a detached link and the ports for as long as the service manager runs.
            store.claimed().forEach(store::forget);
            return false;
        }
        List<String> kept = new ArrayList<>();
        try {
            store.keep(link);
            for (SteeredListener l : listeners.values()) {
                if (l.source() instanceof BoundChannel) {
                    store.keep(l.name(), l.socket().value());
                    kept.add(l.name());
                }
            }
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "sksteer: the service manager's descriptor store did not take the link and the"
                    + " listener sockets (" + e.getMessage() + "): a stop detaches and drains as without one");
            return false;
        }
        LOG.log(System.Logger.Level.INFO, "sksteer: link " + link.id() + " and the sockets of " + kept
                + " are kept in the service manager's descriptor store: a restart keeps them attached and open");
        return true;
    }

    /** "; 'echo' and 'dns' took inherited sockets", for the start line. */
    static String summary(Map<String, SteeredListener> listeners) {
        List<String> names = listeners.values().stream()
                .filter(l -> l.source() instanceof BoundChannel b && b.inherited()).map(SteeredListener::name).toList();
        return names.isEmpty() ? "" : "; inherited the sockets of " + names;
    }
}
