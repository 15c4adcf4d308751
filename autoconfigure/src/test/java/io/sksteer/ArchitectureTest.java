package io.sksteer;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.base.DescribedPredicate;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.domain.JavaAccess;
import java.util.Set;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

/**
 * The arrows of ../shared/STYLE.md: Spring glue on top, then the engine (the composition root),
 * above its socket sources (netty; the socket-source type and the application's sockets in socket)
 * and the rules (steering), the kernel layer at the bottom, JNA inside one package.
 */
class ArchitectureTest {

    private static final JavaClasses MAIN = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("io.sksteer");

    @Test
    void onlyTheInternalPackageUsesJna() {
        noClasses().that().resideOutsideOfPackage("io.sksteer.bpf.internal")
                .should().dependOnClassesThat().resideInAPackage("com.sun.jna..")
                .check(MAIN);
    }

    @Test
    void onlyTheKernelLayerUsesItsInternalPackage() {
        noClasses().that().resideOutsideOfPackages("io.sksteer.bpf", "io.sksteer.bpf.internal")
                .should().dependOnClassesThat().resideInAPackage("io.sksteer.bpf.internal")
                .check(MAIN);
    }

    @Test
    void theKernelLayerKnowsNothingOfSpringNettyOrSteering() {
        noClasses().that().resideInAPackage("io.sksteer.bpf..")
                .should().dependOnClassesThat().resideInAnyPackage("org.springframework..", "io.netty..",
                        "io.sksteer.steering..", "io.sksteer.netty..", "io.sksteer.engine..", "io.sksteer.socket..",
                        "io.sksteer.autoconfigure..", "io.sksteer.actuate..")
                .check(MAIN);
    }

    @Test
    void steeringKnowsNothingOfSpring() {
        noClasses().that().resideInAnyPackage("io.sksteer.steering..", "io.sksteer.netty..", "io.sksteer.engine..",
                        "io.sksteer.socket..")
                .should().dependOnClassesThat().resideInAnyPackage("org.springframework..",
                        "io.sksteer.autoconfigure..", "io.sksteer.actuate..")
                .allowEmptyShould(true)
                .check(MAIN);
    }

    @Test
    void steeringKnowsNothingOfNettyOrTheEngine() {
        noClasses().that().resideInAPackage("io.sksteer.steering..")
                .should().dependOnClassesThat().resideInAnyPackage("io.netty..", "io.sksteer.netty..", "io.sksteer.engine..",
                        "io.sksteer.socket..")
                .allowEmptyShould(true)
                .check(MAIN);
    }

    // ---- the rooms of the steering package ----

    private static final String STEERING = "io.sksteer.steering.";
    /** What writes into a BPF map's elements (SOCKMAP slots are the listeners' business). */
    private static final Set<String> MAP_WRITERS = Set.of("io.sksteer.bpf.BpfMap", "io.sksteer.bpf.PerCpuArray",
            "io.sksteer.bpf.MappedValues");
    private static final Set<String> WRITES = Set.of("update", "updateAll", "delete", "deleteAll", "put", "putInt",
            "putLong", "putAll", "putRange", "publish");

    /** A call of, or a method reference to, one of {@code names} of one of {@code owners}. */
    private static DescribedPredicate<JavaAccess<?>> calls(String what, Set<String> owners, Set<String> names) {
        return DescribedPredicate.describe(what, access -> owners.contains(access.getTargetOwner().getFullName())
                && names.contains(access.getName()));
    }

    @Test
    void onlyTheGenerationWriterWritesTheDispatchersMaps() {
        noClasses().that().resideOutsideOfPackages("io.sksteer.bpf..")
                .and().doNotHaveFullyQualifiedName(STEERING + "GenerationWriter")
                .should().accessTargetWhere(calls("a write into a BPF map", MAP_WRITERS, WRITES))
                .check(MAIN);
    }

    @Test
    void onlyTheDispatchersObjectsCreateItsMapsAndProgram() {
        noClasses().that().resideInAPackage("io.sksteer.steering..")
                .and().doNotHaveFullyQualifiedName(STEERING + "DispatcherObjects")
                .should().accessTargetWhere(calls("the creation of a map or program", Set.of("io.sksteer.bpf.BpfMap",
                        "io.sksteer.bpf.PerCpuArray", "io.sksteer.bpf.SocketMap", "io.sksteer.bpf.BpfProgram"),
                        Set.of("create", "createSockMap", "createSockHash", "load")))
                .check(MAIN);
    }

    @Test
    void thePlannerTheTablesAndTheRuleIdsArePure() {
        // The plan of a change is computed without a kernel: only the generation writer and the
        // dispatcher's objects speak to it.
        noClasses().that().haveNameMatching(
                "io\\.sksteer\\.steering\\.(EntryPlanner|TablePlacement|GroupEntries|BucketWords|LongCounts|RuleIds)(\\$.*)?")
                .should().dependOnClassesThat().resideInAPackage("io.sksteer.bpf..")
                .check(MAIN);
    }

    /** The engine composes its socket sources (Netty-bound listeners among them), never the other way round. */
    @Test
    void socketSourcesKnowNothingOfTheEngine() {
        noClasses().that().resideInAnyPackage("io.sksteer.netty..", "io.sksteer.socket..")
                .should().dependOnClassesThat().resideInAPackage("io.sksteer.engine..")
                .check(MAIN);
    }

    /** What a socket source is, and the sockets the application gives, stand below Netty and the rules. */
    @Test
    void theSocketSourceTypeKnowsNothingOfNettySteeringOrSpring() {
        noClasses().that().resideInAPackage("io.sksteer.socket..")
                .should().dependOnClassesThat().resideInAnyPackage("io.netty..", "io.sksteer.netty..", "io.sksteer.steering..",
                        "org.springframework..", "io.sksteer.autoconfigure..", "io.sksteer.actuate..")
                .check(MAIN);
    }
}
