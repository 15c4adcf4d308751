package io.sksteer.testkit;

import com.sun.jna.Library;
import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import com.sun.jna.StringArray;
import com.sun.jna.ptr.IntByReference;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * What systemd does for a service with {@code FileDescriptorStoreMax=} set, and no more: it listens
 * on a notification socket ({@code $NOTIFY_SOCKET}) for {@code FDSTORE=1} and
 * {@code FDSTOREREMOVE=1} messages, keeps the descriptors they carry by {@code FDNAME}, and starts
 * each process of the service with them at fds 3, 4, … ({@code LISTEN_FDS}, {@code LISTEN_FDNAMES},
 * and {@code LISTEN_PID} set to the process's own pid, as systemd sets it between fork and exec).
 * Unlike systemd it keeps one descriptor per name (the newest); systemd keeps every distinct one.
 *
 * <p>Processes are started with {@code posix_spawn} (a JVM cannot otherwise hand a child any
 * descriptor but 0-2) inside the network namespace at {@code netns} ({@code nsenter}).
 */
public final class ServiceManager implements AutoCloseable {

    private static final int AF_UNIX = 1;
    private static final int SOCK_DGRAM = 2;
    private static final int SOCK_CLOEXEC = 0x80000;
    private static final int SOL_SOCKET = 1;
    private static final int SO_RCVTIMEO = 20;
    private static final int SCM_RIGHTS = 1;
    private static final int F_DUPFD_CLOEXEC = 1030;
    private static final int O_RDONLY = 0;
    private static final int O_WRONLY = 1;
    private static final int O_CREAT = 0x40;
    private static final int O_APPEND = 0x400;
    private static final int FIRST_FD = 3;
    private static final int HIGH_FD = 900;

    /** The libc calls this launcher makes. */
    interface C extends Library {
        C INSTANCE = Native.load("c", C.class);

        int socket(int domain, int type, int protocol);

        int bind(int fd, Pointer address, int length);

        int setsockopt(int fd, int level, int name, Pointer value, int length);

        long recvmsg(int fd, Pointer msghdr, int flags);

        int close(int fd);

        int fcntl(int fd, int cmd, int arg);

        int kill(int pid, int signal);

        int waitpid(int pid, IntByReference status, int options);

        int posix_spawn_file_actions_init(Pointer actions);

        int posix_spawn_file_actions_adddup2(Pointer actions, int fd, int newFd);

        int posix_spawn_file_actions_addopen(Pointer actions, int fd, String path, int flags, int mode);

        int posix_spawn_file_actions_addclosefrom_np(Pointer actions, int from);

        int posix_spawn_file_actions_destroy(Pointer actions);

        int posix_spawnp(IntByReference pid, String file, Pointer actions, Pointer attributes, StringArray argv, StringArray envp);
    }

    /** One process of the service. */
    public final class Child {
        private final int pid;
        private final Path output;
        private volatile Integer status;

        private Child(int pid, Path output) {
            this.pid = pid;
            this.output = output;
        }

        public int pid() {
            return pid;
        }

        public String output() {
            return new OutputFile(output).read();
        }

        public boolean awaitOutput(String text, Duration limit) {
            return new OutputFile(output).await(text, this::exited, limit);
        }

        /** Sends {@code signal} (15: SIGTERM, 9: SIGKILL). */
        public void signal(int signal) {
            C.INSTANCE.kill(pid, signal);
        }

        /** Waits for the process to exit (reaping it); its exit status, or an assertion error after {@code limit}. */
        public int waitFor(Duration limit) {
            long deadline = System.nanoTime() + limit.toNanos();
            IntByReference s = new IntByReference();
            while (status == null) {
                int r = C.INSTANCE.waitpid(pid, s, 1 /* WNOHANG */);
                if (r == pid) {
                    status = s.getValue();
                } else if (r < 0) {
                    throw new AssertionError("waitpid(" + pid + ") failed: errno " + Native.getLastError());
                } else if (System.nanoTime() - deadline > 0) {
                    throw new AssertionError("process " + pid + " did not exit in " + limit + ":\n" + output());
                } else {
                    java.util.concurrent.locks.LockSupport.parkNanos(2_000_000);
                }
            }
            return status;
        }

        boolean exited() {
            if (status != null) {
                return true;
            }
            IntByReference s = new IntByReference();
            if (C.INSTANCE.waitpid(pid, s, 1) == pid) {
                status = s.getValue();
            }
            return status != null;
        }
    }

    private final Path netns;
    private final Path dir;
    private final Path notifySocket;
    private final int notifyFd;
    private final Map<String, Integer> store = new LinkedHashMap<>();
    private final ConcurrentLinkedQueue<String> messages = new ConcurrentLinkedQueue<>();
    private final Thread receiver;
    private final List<Child> children = new ArrayList<>();
    private volatile boolean closed;

    public ServiceManager(Path netns) throws java.io.IOException {
        this.netns = netns;
        this.dir = Files.createTempDirectory("sksteer-service");
        this.notifySocket = dir.resolve("notify");
        int fd = C.INSTANCE.socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            throw new IllegalStateException("socket(AF_UNIX): errno " + Native.getLastError());
        }
        Memory address = new Memory(110);
        address.clear();
        address.setShort(0, (short) AF_UNIX);
        byte[] path = notifySocket.toString().getBytes(StandardCharsets.UTF_8);
        address.write(2, path, 0, path.length);
        if (C.INSTANCE.bind(fd, address, 2 + path.length + 1) != 0) {
            throw new IllegalStateException("bind " + notifySocket + ": errno " + Native.getLastError());
        }
        Memory timeout = new Memory(16);
        timeout.setLong(0, 0);
        timeout.setLong(8, 100_000);   // 100 ms: the receiver looks at `closed` that often
        C.INSTANCE.setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, timeout, 16);
        this.notifyFd = fd;
        this.receiver = new Thread(this::receive, "service-manager-notify");
        receiver.setDaemon(true);
        receiver.start();
    }

    /** The notification lines received so far, one message per entry. */
    public List<String> messages() {
        return List.copyOf(messages);
    }

    /** The names of the descriptors kept now. */
    public synchronized List<String> stored() {
        return List.copyOf(store.keySet());
    }

    /**
     * Starts a main class of the test class path as the next process of the service, handing it
     * the stored descriptors.
     */
    public synchronized Child start(String mainClass, String... args) throws java.io.IOException {
        List<String> names = new ArrayList<>(store.keySet());
        List<Integer> high = new ArrayList<>();
        for (String n : names) {
            // Out of the way of the targets 3, 4, …: dup2 onto a target must not overwrite a source.
            high.add(C.INSTANCE.fcntl(store.get(n), F_DUPFD_CLOEXEC, HIGH_FD));
        }
        Path output = Files.createTempFile(dir, "child", ".out");
        Memory actions = new Memory(256);
        actions.clear();
        C c = C.INSTANCE;
        check(c.posix_spawn_file_actions_init(actions), "file actions");
        try {
            check(c.posix_spawn_file_actions_addopen(actions, 0, "/dev/null", O_RDONLY, 0), "stdin");
            check(c.posix_spawn_file_actions_addopen(actions, 1, output.toString(), O_WRONLY | O_CREAT | O_APPEND, 0644), "stdout");
            check(c.posix_spawn_file_actions_adddup2(actions, 1, 2), "stderr");
            for (int i = 0; i < high.size(); i++) {
                check(c.posix_spawn_file_actions_adddup2(actions, high.get(i), FIRST_FD + i), "fd " + (FIRST_FD + i));
            }
            check(c.posix_spawn_file_actions_addclosefrom_np(actions, FIRST_FD + high.size()), "closefrom");
            List<String> argv = new ArrayList<>(List.of("nsenter", "--net=" + netns, "--", "sh", "-c",
                    "export LISTEN_PID=$$; exec \"$@\"", "sh"));
            argv.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
            argv.addAll(List.of("-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"), mainClass));
            argv.addAll(List.of(args));
            List<String> env = new ArrayList<>();
            System.getenv().forEach((k, v) -> {
                if (!k.startsWith("LISTEN_") && !k.equals("NOTIFY_SOCKET") && !k.equals("FDSTORE")) {
                    env.add(k + "=" + v);
                }
            });
            env.add("NOTIFY_SOCKET=" + notifySocket);
            env.add("FDSTORE=16");
            if (!names.isEmpty()) {
                env.add("LISTEN_FDS=" + names.size());
                env.add("LISTEN_FDNAMES=" + String.join(":", names));
            }
            IntByReference pid = new IntByReference();
            check(c.posix_spawnp(pid, "nsenter", actions, null, new StringArray(argv.toArray(String[]::new)),
                    new StringArray(env.toArray(String[]::new))), "posix_spawnp");
            Child child = new Child(pid.getValue(), output);
            children.add(child);
            return child;
        } finally {
            c.posix_spawn_file_actions_destroy(actions);
            high.forEach(c::close);
        }
    }

    private static void check(int result, String what) {
        if (result != 0) {
            throw new IllegalStateException("posix_spawn " + what + ": error " + result);
        }
    }

    /** Receives notifications: {@code struct msghdr} with one iovec and room for 16 descriptors. */
    private void receive() {
        Memory data = new Memory(4096);
        Memory iov = new Memory(16);
        Memory control = new Memory(16 + 4 * 16);
        Memory header = new Memory(56);
        while (!closed) {
            header.clear();
            control.clear();
            iov.setPointer(0, data);
            iov.setLong(8, data.size());
            header.setPointer(16, iov);
            header.setLong(24, 1);
            header.setPointer(32, control);
            header.setLong(40, control.size());
            long n = C.INSTANCE.recvmsg(notifyFd, header, 0x40000000 /* MSG_CMSG_CLOEXEC */);
            if (n < 0) {
                continue;   // the receive timeout: look at `closed` again
            }
            String text = new String(data.getByteArray(0, (int) n), StandardCharsets.UTF_8);
            List<Integer> fds = new ArrayList<>();
            long controlLength = header.getLong(40);
            if (controlLength >= 16 && control.getInt(8) == SOL_SOCKET && control.getInt(12) == SCM_RIGHTS) {
                long count = (control.getLong(0) - 16) / 4;
                for (int i = 0; i < count; i++) {
                    fds.add(control.getInt(16 + 4L * i));
                }
            }
            messages.add(text.strip());
            handle(text, fds);
        }
    }

    private synchronized void handle(String text, List<Integer> fds) {
        Map<String, String> fields = new LinkedHashMap<>();
        for (String line : text.split("\n")) {
            int eq = line.indexOf('=');
            if (eq > 0) {
                fields.put(line.substring(0, eq), line.substring(eq + 1));
            }
        }
        String name = fields.getOrDefault("FDNAME", "stored");
        if ("1".equals(fields.get("FDSTORE")) && fds.size() == 1) {
            Integer old = store.put(name, fds.get(0));
            if (old != null) {
                C.INSTANCE.close(old);
            }
            return;
        }
        fds.forEach(C.INSTANCE::close);
        if ("1".equals(fields.get("FDSTOREREMOVE"))) {
            Integer old = store.remove(name);
            if (old != null) {
                C.INSTANCE.close(old);
            }
        }
    }

    /**
     * Stops the service as systemd does on a final stop: SIGKILL to what still runs, then every
     * stored descriptor closed (a link kept there detaches now).
     */
    @Override
    public void close() throws Exception {
        for (Child c : children) {
            if (!c.exited()) {
                c.signal(9);
                c.waitFor(Duration.ofSeconds(30));
            }
        }
        closed = true;
        receiver.join(5_000);
        synchronized (this) {
            store.values().forEach(C.INSTANCE::close);
            store.clear();
        }
        C.INSTANCE.close(notifyFd);
        try (var files = Files.list(dir)) {
            for (Path p : files.toList()) {
                Files.deleteIfExists(p);
            }
        }
        Files.deleteIfExists(dir);
    }
}
