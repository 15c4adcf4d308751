package io.sksteer.testkit;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Marks a test class that needs the real kernel: bpf(), sk_lookup, SOCKMAP and the right to create
 * network namespaces. Without them the class is skipped with the reason printed, unless
 * {@code -Dsksteer.kernel-tests=required} (CI), where it fails instead. The class is also checked
 * for leaked kernel file descriptors and for programs left on the machine's own namespace.
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@Tag("kernel")
@ExtendWith(KernelTestExtension.class)
public @interface KernelTest {
}
