package io.sksteer.bpf.internal;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What {@code /proc} shows of processes and their descriptors: where the kernel offers no other
 * interface (who holds a socket or a BPF object). Every walk is bounded; what is not readable
 * (another user's process without CAP_SYS_PTRACE) or gone meanwhile is passed over.
 */
public final class Procs {

    /** The most descriptors one walk over every process reads. */
    public static final int MAX_DESCRIPTORS = 100_000;

    private Procs() {
    }

    /** The processes of the system (of this pid namespace). */
    public static List<Long> pids() {
        List<Long> out = new ArrayList<>();
        try (DirectoryStream<Path> procs = Files.newDirectoryStream(Path.of("/proc"), p -> p.getFileName().toString().matches("[0-9]+"))) {
            for (Path p : procs) {
                out.add(Long.parseLong(p.getFileName().toString()));
            }
        } catch (IOException e) {
            // no /proc: nothing visible
        }
        return out;
    }

    /** The link targets of a process's descriptors ({@code self} or a pid), by descriptor number, at most {@code max}. */
    public static Map<Integer, String> fdLinks(String pid, int max) {
        Map<Integer, String> out = new LinkedHashMap<>();
        try (DirectoryStream<Path> fds = Files.newDirectoryStream(Path.of("/proc", pid, "fd"))) {
            for (Path fd : fds) {
                if (out.size() >= max) {
                    break;
                }
                try {
                    out.put(Integer.parseInt(fd.getFileName().toString()), Files.readSymbolicLink(fd).toString());
                } catch (IOException | NumberFormatException e) {
                    // closed meanwhile (the directory stream's own descriptor, for one)
                }
            }
        } catch (IOException | SecurityException e) {
            // not ours to read, or gone
        }
        return out;
    }

    /**
     * The processes one of whose descriptors' {@code fdinfo} has the line {@code line}, reading at
     * most {@link #MAX_DESCRIPTORS} descriptors in all.
     */
    public static List<Long> withFdinfoLine(String line) {
        int left = MAX_DESCRIPTORS;
        List<Long> out = new ArrayList<>();
        for (long pid : pids()) {
            try (DirectoryStream<Path> fds = Files.newDirectoryStream(Path.of("/proc", Long.toString(pid), "fdinfo"))) {
                for (Path fd : fds) {
                    if (--left < 0) {
                        return out;
                    }
                    if (fdinfoHas(fd, line)) {
                        out.add(pid);
                        break;
                    }
                }
            } catch (IOException | RuntimeException e) {
                // not ours to read, or gone
            }
        }
        return out;
    }

    /** The processes with a descriptor whose link target is {@code target}, reading at most {@link #MAX_DESCRIPTORS}. */
    public static List<Long> withFdLink(String target) {
        int left = MAX_DESCRIPTORS;
        List<Long> out = new ArrayList<>();
        for (long pid : pids()) {
            if (left <= 0) {
                break;
            }
            Map<Integer, String> links = fdLinks(Long.toString(pid), left);
            left -= links.size();
            if (links.containsValue(target)) {
                out.add(pid);
            }
        }
        return out;
    }

    private static boolean fdinfoHas(Path fd, String line) {
        try {
            return Files.readString(fd).lines().anyMatch(line::equals);
        } catch (IOException | RuntimeException e) {
            return false; // gone meanwhile, or not readable
        }
    }
}
