package io.sksteer.bpf;

import io.sksteer.bpf.internal.Notify;
import io.sksteer.bpf.internal.Os;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;

/**
 * Descriptors the service manager keeps for this service across its restarts: those it passed at
 * start (socket activation, {@code LISTEN_PID}/{@code LISTEN_FDS}/{@code LISTEN_FDNAMES}, fds
 * 3, 4, …) and those the service gives it to keep ({@code FDSTORE=1} notifications to
 * {@code $NOTIFY_SOCKET}, with {@code FDNAME}). systemd implements both; a unit opts into the store
 * with {@code FileDescriptorStoreMax=}, and systemd 254 and later then tell the service how many
 * it may store in {@code $FDSTORE}.
 *
 * <p>A descriptor kept there outlives the process: a listening socket keeps queuing SYNs and
 * datagrams while no process runs, and an sk_lookup link stays attached. The next process is
 * handed the same objects again. systemd drops a descriptor that is already in the store (same
 * object), so keeping the same socket or link again is harmless.
 */
public final class FdStore {

    private static final System.Logger LOG = System.getLogger(FdStore.class.getName());

    /** The name the dispatcher's sk_lookup link is kept under. */
    public static final String LINK_NAME = "sksteer-link";
    /** More inherited descriptors than this is a malformed environment, not a service's sockets. */
    static final int MAX_INHERITED = 1024;
    private static final int FIRST_FD = 3;
    private static final int MAX_NAME = 255;

    /** One descriptor passed at start, and the name the service manager gave it. */
    public record Inherited(String name, int fd) {
    }

    private final String notifySocket;
    private final boolean storing;
    private final String state;
    private final Map<String, Deque<Integer>> inherited = new LinkedHashMap<>();
    private final List<String> claimed = new ArrayList<>();

    private FdStore(String notifySocket, boolean storing, String state, List<Inherited> passed) {
        this.notifySocket = notifySocket;
        this.storing = storing;
        this.state = state;
        for (Inherited i : passed) {
            inherited.computeIfAbsent(i.name(), n -> new ArrayDeque<>()).add(i.fd());
        }
    }

    /** Nothing inherited, nothing stored: for tests and applications outside a service manager. */
    public static FdStore none() {
        return new FdStore(null, false, "off", List.of());
    }

    /**
     * Descriptors handed over by other means than the environment (a launcher of the
     * application's own), owned by the store until taken; nothing is stored.
     */
    public static FdStore of(List<Inherited> passed) {
        return new FdStore(null, false, "off", passed);
    }

    /**
     * Reads what this process was given ({@code env} is the process environment, {@code pid} this
     * process's id) and marks the inherited descriptors close-on-exec.
     *
     * @param store whether to keep the link and the listener sockets in the store (only where
     *     {@code $NOTIFY_SOCKET} names one)
     */
    public static FdStore fromEnvironment(Map<String, String> env, long pid, boolean store) {
        List<Inherited> passed = inherited(env, pid);
        for (Inherited i : passed) {
            Os.setCloseOnExec(i.fd());
        }
        String socket = env.get("NOTIFY_SOCKET");
        String state;
        boolean storing = false;
        if (!store) {
            state = "off";
        } else if (socket == null || socket.isEmpty()) {
            state = "unavailable: NOTIFY_SOCKET is not set (not started by a service manager)";
        } else if (env.containsKey("FDSTORE") && parseCount(env.get("FDSTORE")) < 1) {
            state = "unavailable: the service manager allows no stored descriptors (FDSTORE=" + env.get("FDSTORE")
                    + "; set FileDescriptorStoreMax= in the unit)";
        } else {
            state = "storing";
            storing = true;
        }
        return new FdStore(socket == null || socket.isEmpty() ? null : socket, storing, state, passed);
    }

    /**
     * The descriptors passed at start, as {@code sd_listen_fds_with_names} reads them: none unless
     * {@code LISTEN_PID} is {@code pid} (the variables are meant for one process, not its
     * children); names {@code unknown} when {@code LISTEN_FDNAMES} is missing or does not match.
     */
    static List<Inherited> inherited(Map<String, String> env, long pid) {
        String listenPid = env.get("LISTEN_PID");
        if (listenPid == null || !listenPid.equals(Long.toString(pid))) {
            return List.of();
        }
        int count = parseCount(env.get("LISTEN_FDS"));
        if (count < 1) {
            return List.of();
        }
        if (count > MAX_INHERITED) {
            LOG.log(System.Logger.Level.WARNING, "sksteer: LISTEN_FDS=" + count + " is more than " + MAX_INHERITED
                    + " descriptors; none is taken");
            return List.of();
        }
        String names = env.get("LISTEN_FDNAMES");
        String[] split = names == null ? new String[0] : names.split(":", -1);
        if (names != null && split.length != count) {
            LOG.log(System.Logger.Level.WARNING, "sksteer: LISTEN_FDNAMES names " + split.length + " descriptors, LISTEN_FDS "
                    + count + "; their names are ignored");
        }
        List<Inherited> out = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            out.add(new Inherited(split.length == count ? split[i] : "unknown", FIRST_FD + i));
        }
        return out;
    }

    private static int parseCount(String text) {
        if (text == null || text.isEmpty() || text.length() > 9) {
            return -1;
        }
        for (int i = 0; i < text.length(); i++) {
            if (text.charAt(i) < '0' || text.charAt(i) > '9') {
                return -1;
            }
        }
        return Integer.parseInt(text);
    }

    /** Whether a name may label a stored descriptor: printable ASCII, no colon, 1 to 255 characters. */
    public static boolean validName(String name) {
        if (name == null || name.isEmpty() || name.length() > MAX_NAME) {
            return false;
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c <= ' ' || c >= 0x7f || c == ':') {
                return false;
            }
        }
        return true;
    }

    /** Takes one inherited descriptor named {@code name}; the caller owns it from now on. */
    public synchronized OptionalInt take(String name) {
        Deque<Integer> fds = inherited.get(name);
        if (fds == null || fds.isEmpty()) {
            return OptionalInt.empty();
        }
        claimed.add(name);
        return OptionalInt.of(fds.poll());
    }

    /** Whether {@link #keep} hands descriptors to the service manager. */
    public boolean storing() {
        return storing;
    }

    /** "storing", "off", or why the store cannot be used. */
    public String state() {
        return state;
    }

    /** The names of the descriptors taken so far. */
    public synchronized List<String> claimed() {
        return List.copyOf(claimed);
    }

    /**
     * Gives the service manager {@code link} to keep under {@link #LINK_NAME}.
     *
     * @throws BpfException when the notification cannot be sent
     */
    public void keep(NetnsLink link) {
        // A link descriptor cannot be polled: FDPOLL=0 says so (systemd otherwise watches a stored
        // descriptor for POLLHUP to drop it).
        keep(LINK_NAME, link.descriptor(), "FDPOLL=0\n");
    }

    /**
     * Gives the service manager {@code fd} to keep under {@code name}. A no-op unless {@link #storing()}.
     *
     * @throws BpfException when the notification cannot be sent
     */
    public void keep(String name, int fd) {
        keep(name, fd, "");
    }

    private void keep(String name, int fd, String extra) {
        if (!storing) {
            return;
        }
        if (!validName(name)) {
            throw new IllegalArgumentException("'" + name + "' cannot name a stored descriptor (printable ASCII, no ':', at most 255)");
        }
        Notify.send(notifySocket, "FDSTORE=1\nFDNAME=" + name + "\n" + extra, fd);
    }

    /**
     * Closes the inherited descriptors nobody took and asks the service manager to drop what it
     * keeps under their names (a listener removed from the configuration, a socket that did not fit
     * its listener): they would otherwise steer or hold ports forever.
     *
     * @return the names released
     */
    public synchronized List<String> releaseUnclaimed() {
        List<String> released = new ArrayList<>();
        for (Map.Entry<String, Deque<Integer>> e : inherited.entrySet()) {
            if (e.getValue().isEmpty()) {
                continue;
            }
            for (int fd : e.getValue()) {
                Sockets.closeDescriptor(fd);
            }
            e.getValue().clear();
            released.add(e.getKey());
            forget(e.getKey());
        }
        return released;
    }

    /** Asks the service manager to drop what it keeps under {@code name}; failures are logged. */
    public void forget(String name) {
        if (notifySocket == null || !validName(name)) {
            return;
        }
        try {
            Notify.send(notifySocket, "FDSTOREREMOVE=1\nFDNAME=" + name + "\n");
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "sksteer: could not ask the service manager to drop '" + name + "': " + e.getMessage());
        }
    }

    @Override
    public String toString() {
        return "FdStore[" + state + (inherited.isEmpty() ? "" : ", inherited " + inherited.keySet()) + "]";
    }
}
