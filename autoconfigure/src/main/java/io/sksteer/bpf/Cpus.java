package io.sksteer.bpf;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** The number of possible CPUs, which sizes the values of per-CPU maps as user space sees them. */
final class Cpus {

    private static volatile int possible;

    private Cpus() {
    }

    static int possible() {
        int n = possible;
        if (n == 0) {
            try {
                n = countCpuList(Files.readString(Path.of("/sys/devices/system/cpu/possible")));
            } catch (IOException e) {
                throw new UncheckedIOException("read /sys/devices/system/cpu/possible", e);
            }
            possible = n;
        }
        return n;
    }

    /** Counts the CPUs of a kernel cpu list such as {@code 0-3,8,10-11}. */
    static int countCpuList(String list) {
        int count = 0;
        for (String part : list.trim().split(",")) {
            if (part.isEmpty()) {
                continue;
            }
            int dash = part.indexOf('-');
            if (dash < 0) {
                count++;
            } else {
                count += Integer.parseInt(part.substring(dash + 1)) - Integer.parseInt(part.substring(0, dash)) + 1;
            }
        }
        return count;
    }
}
