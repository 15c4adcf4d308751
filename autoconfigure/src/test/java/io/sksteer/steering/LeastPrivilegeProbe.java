package io.sksteer.steering;

import io.sksteer.bpf.Capabilities;
import java.util.Map;

/**
 * Run in a child JVM holding only CAP_BPF and CAP_NET_ADMIN by {@link LeastPrivilegeKernelTest}:
 * creates the dispatcher (maps, generated program) and prints one line starting with
 * {@link #RESULT}. It attaches nothing.
 */
public final class LeastPrivilegeProbe {

    public static final String RESULT = "PROBE-RESULT: ";

    private LeastPrivilegeProbe() {
    }

    public static void main(String[] args) {
        String caps = Capabilities.current().toString();
        try (Dispatcher d = Dispatcher.create(DispatcherKernelTest.firstRules(), 1024,
                Map.of("web", 0, "api", 1, "dns", 2, "quic", 3), true)) {
            System.out.println(RESULT + "loaded program " + d.program().id() + " with " + caps);
        } catch (RuntimeException e) {
            System.out.println(RESULT + "failed with " + caps + ": " + e.getMessage());
        }
        System.out.flush();
    }
}
