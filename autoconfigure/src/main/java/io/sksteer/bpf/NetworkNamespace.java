package io.sksteer.bpf;

import io.sksteer.bpf.internal.Bpf;
import io.sksteer.bpf.internal.Fd;
import io.sksteer.bpf.internal.Os;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicReference;

/**
 * An open handle on a network namespace: the target of sk_lookup links, and a place to create
 * sockets in.
 *
 * <p>Namespaces belong to threads. {@code /proc/self/ns/net} names the namespace of the process's
 * main thread; {@link #call} runs code on a fresh thread moved into this namespace, so sockets it
 * creates live there, whatever namespace the caller is in.
 */
public final class NetworkNamespace implements AutoCloseable {

    /** The namespace of this process (its main thread): the default steering target. */
    public static final Path PROCESS = Path.of("/proc/self/ns/net");

    private static final int MAX_PROGRAMS = 64;

    private final Fd fd;
    private final String description;
    private final long inode;

    private NetworkNamespace(Fd fd, String description) {
        this.fd = fd;
        this.description = description;
        long ino;
        try {
            ino = inodeOf(fd);
        } catch (RuntimeException e) {
            fd.close();
            throw e;
        }
        this.inode = ino;
    }

    /**
     * Opens the network namespace file at {@code path}: {@code /proc/PID/ns/net},
     * {@code /run/netns/NAME}, or another open handle's {@link #handlePath()}.
     *
     * @throws BpfException if the file cannot be opened or is not a network namespace
     */
    public static NetworkNamespace open(Path path) {
        Fd fd = Os.open(path.toString(), "network namespace " + path);
        try {
            int type = Os.namespaceType(fd, path.toString());
            if (type != Os.CLONE_NEWNET) {
                throw BpfException.invalid("open network namespace " + path, "it is a namespace, but not a network one");
            }
        } catch (RuntimeException e) {
            fd.close();
            throw e;
        }
        return new NetworkNamespace(fd, path.toString());
    }

    /**
     * Opens the network namespace a socket belongs to (fixed when the socket was created:
     * {@code SIOCGSKNS}, Linux 4.9).
     */
    public static NetworkNamespace ofSocket(SocketFd socket) {
        return new NetworkNamespace(Os.socketNamespace(socket.value()), "network namespace of socket fd " + socket.value());
    }

    /** Opens the namespace of this process ({@link #PROCESS}). */
    public static NetworkNamespace ofProcess() {
        return open(PROCESS);
    }

    /**
     * Creates a new network namespace whose only device is loopback, brought up, and returns a
     * handle that keeps it alive. Needs CAP_SYS_ADMIN. Tests, benchmarks and demos use this to stay
     * out of the machine's own namespace.
     */
    public static NetworkNamespace create() {
        AtomicReference<Fd> created = new AtomicReference<>();
        runOnFreshThread("sksteer-netns-create", () -> {
            Os.unshareNetwork();
            Fd fd = Os.open("/proc/thread-self/ns/net", "new network namespace");
            try {
                Os.loopbackUp();
            } catch (RuntimeException e) {
                fd.close();
                throw e;
            }
            created.set(fd);
            return null;
        });
        return new NetworkNamespace(created.get(), "new network namespace");
    }

    /**
     * Runs {@code action} on a new thread that has entered this namespace, and waits for it.
     * Sockets created by the action belong to this namespace for their whole life.
     */
    public <T> T call(Callable<T> action) {
        if (containsCallingThread()) {
            // No setns needed (and none allowed without CAP_SYS_ADMIN): run right here.
            try {
                return action.call();
            } catch (RuntimeException e) {
                throw e;
            } catch (Exception e) {
                throw new IllegalStateException(e.getMessage(), e);
            }
        }
        return runOnFreshThread("sksteer-netns-" + inode, () -> {
            Os.setns(fd, description);
            return action.call();
        });
    }

    /** Whether the calling thread is in this namespace already. */
    public boolean containsCallingThread() {
        try (Fd self = Os.open("/proc/thread-self/ns/net", "network namespace of this thread")) {
            return inodeOf(self) == inode;
        }
    }

    /** Like {@link #call}, without a result. */
    public void run(ThrowingRunnable action) {
        call(() -> {
            action.run();
            return null;
        });
    }

    /** A {@link Runnable} that may throw. */
    @FunctionalInterface
    public interface ThrowingRunnable {
        void run() throws Exception;
    }

    /** The namespace's inode number: equal inodes mean the same namespace. */
    public long inode() {
        return inode;
    }

    /** Where this handle was opened from, for messages. */
    public String description() {
        return description;
    }

    /**
     * A path through which this process and its children can open the same namespace while this
     * handle is open ({@code /proc/PID/fd/N}), e.g. for {@code nsenter --net=PATH}.
     */
    public Path handlePath() {
        return Path.of("/proc/" + ProcessHandle.current().pid() + "/fd/" + fd.get());
    }

    /** Ids of the sk_lookup programs attached to this namespace, in the order they run. */
    public List<Integer> skLookupProgramIds() {
        int[] ids = Bpf.progQuery(fd, AttachType.SK_LOOKUP.number(), MAX_PROGRAMS,
                "query sk_lookup programs of network namespace " + description);
        List<Integer> out = new ArrayList<>(ids.length);
        for (int id : ids) {
            out.add(id);
        }
        return out;
    }

    /** For links. */
    Fd fd() {
        return fd;
    }

    public boolean isOpen() {
        return fd.isOpen();
    }

    /**
     * Closes this handle. The namespace itself lives on while a process, a mount or another handle
     * holds it; a namespace made by {@link #create()} and held by nothing else is destroyed, which
     * also detaches every link attached to it. Idempotent.
     */
    @Override
    public void close() {
        fd.close();
    }

    @Override
    public String toString() {
        return "NetworkNamespace[" + description + ", inode " + inode + "]";
    }

    private static long inodeOf(Fd fd) {
        try {
            // stat() through /proc/self/fd/N reaches the nsfs inode whatever the descriptor was
            // opened from (/proc/PID/ns/net reads back as "net:[INODE]", a /run/netns bind mount
            // as its path).
            return ((Number) Files.getAttribute(Path.of("/proc/self/fd/" + fd.get()), "unix:ino")).longValue();
        } catch (IOException | RuntimeException e) {
            throw new BpfException("read inode of " + fd.description(), 0, "cannot stat /proc/self/fd: " + e.getMessage(), e);
        }
    }

    private static <T> T runOnFreshThread(String name, Callable<T> action) {
        AtomicReference<T> result = new AtomicReference<>();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        // A fresh thread, because a thread's namespace cannot be restored reliably and pooled
        // threads must never be left in a foreign namespace. It ends when the action returns.
        Thread thread = new Thread(() -> {
            try {
                result.set(action.call());
            } catch (Throwable t) {
                failure.set(t);
            }
        }, name);
        thread.setDaemon(true);
        thread.start();
        boolean interrupted = false;
        while (true) {
            try {
                thread.join();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        Throwable t = failure.get();
        if (t instanceof RuntimeException re) {
            throw re;
        }
        if (t instanceof Error err) {
            throw err;
        }
        if (t != null) {
            throw new IllegalStateException(t.getMessage(), t);
        }
        return result.get();
    }
}
