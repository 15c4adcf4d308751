package io.sksteer.testkit;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.function.BooleanSupplier;

/** The file a child process writes its stdout and stderr to. */
record OutputFile(Path path) {

    String read() {
        try {
            return Files.readString(path, StandardCharsets.UTF_8);
        } catch (java.io.IOException e) {
            return "(output unreadable: " + e + ")";
        }
    }

    /** Waits until the output contains {@code text}, the process is gone, or {@code limit} passes. */
    boolean await(String text, BooleanSupplier gone, Duration limit) {
        return Awaits.until(this::read, o -> o.contains(text) || gone.getAsBoolean(), limit).contains(text);
    }
}
