package io.sksteer.steering;

import static org.assertj.core.api.Assertions.assertThat;

import io.sksteer.bpf.Disassembler;
import io.sksteer.bpf.Insn;
import io.sksteer.bpf.ProgramSpec;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The dispatcher's listing, written to {@code target/dispatcher-listing.txt} (its head and tail
 * printed) for whoever wants to read the program (or a verifier log against it), and checked
 * against the program it lists. No kernel needed.
 */
class DispatcherListingTest {

    /** The default capacity ({@code SteeringConfig}); the program differs in a few constants only. */
    private static final int MAX_RULES = 4096;
    private static final Pattern JUMP = Pattern.compile(" -> (\\d+) <([^>]+)>");

    private static ProgramSpec spec;
    private static List<String> lines;

    @BeforeAll
    static void listTheDispatcher() {
        // As Dispatcher builds it on a kernel with ingress_ifindex (5.17+): test runs counted apart.
        spec = DispatcherProgram.spec(DispatchTables.bucketBits(MAX_RULES), DispatchTables.tableBits(MAX_RULES),
                false, MAX_RULES);
        lines = Disassembler.lines(spec);
        // The whole listing (some 15,000 lines) goes to a file beside the build's other output;
        // the console gets its head and tail.
        java.nio.file.Path file = java.nio.file.Path.of("target", "dispatcher-listing.txt");
        try {
            java.nio.file.Files.createDirectories(file.getParent());
            java.nio.file.Files.writeString(file, Disassembler.listing(spec));
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        System.out.println("---- " + spec + ", max rules " + MAX_RULES + ": " + lines.size() + " lines, all in "
                + file.toAbsolutePath() + " ----");
        lines.subList(0, Math.min(60, lines.size())).forEach(System.out::println);
        System.out.println("   ...");
        lines.subList(Math.max(0, lines.size() - 25), lines.size()).forEach(System.out::println);
        System.out.println("---- end of " + spec.name() + " ----");
    }

    @Test
    void hasOneLineForEveryInstructionSlotNumberedInOrder() {
        int slots = spec.bytecode().slots();
        int width = String.valueOf(slots - 1).length();

        assertThat(lines).hasSize(slots);
        for (int i = 0; i < slots; i++) {
            assertThat(lines.get(i)).startsWith(String.format("%" + width + "d: (", i));
        }
    }

    @Test
    void decodesEverySlotOfTheDispatcher() {
        assertThat(lines).noneMatch(l -> l.contains("unknown"));
    }

    @Test
    void givesEachLdImm64ItsSecondLine() {
        long wide = spec.instructions().stream()
                .filter(i -> i instanceof Insn.LoadImm64 || i instanceof Insn.LoadMap).count();

        assertThat(lines.stream().filter(l -> l.contains("; second half of the ld_imm64 at ")).count())
                .isEqualTo(wide).isPositive();
    }

    @Test
    void savesTheContextFirstAndEndsWithExit() {
        assertThat(lines.get(0)).endsWith("(bf) r6 = r1");
        assertThat(lines.get(lines.size() - 1)).endsWith("(95) exit");
    }

    @Test
    void assignsAndReleasesTheSocketThroughTheirHelpers() {
        assertThat(lines).filteredOn(l -> l.endsWith("(85) call bpf_sk_assign#124")).hasSize(1);
        assertThat(lines).anyMatch(l -> l.endsWith("(85) call bpf_sk_release#86"));
        assertThat(lines).anyMatch(l -> l.endsWith("(85) call bpf_map_lookup_elem#1"));
    }

    @Test
    void namesEveryMapItLoadsWhereTheBytecodeReferencesIt() {
        assertThat(spec.mapNames()).isNotEmpty();
        for (String map : spec.mapNames()) {
            assertThat(lines).as("a load of map %s", map).anyMatch(l -> l.contains("(18) r1 = map[" + map + "]"));
        }
        spec.bytecode().maps().forEach(ref ->
                assertThat(lines.get(ref.slot())).contains("(18) r1 = map[" + ref.map() + "]"));
        assertThat(lines.stream().filter(l -> l.contains(" = map[")).count()).isEqualTo(spec.bytecode().maps().size());
    }

    @Test
    void landsEveryJumpOnTheSlotItsLabelMarks() {
        int jumps = 0;
        for (String line : lines) {
            Matcher m = JUMP.matcher(line);
            if (!m.find()) {
                continue;
            }
            jumps++;
            int target = Integer.parseInt(m.group(1));
            assertThat(target).as(line).isBetween(0, lines.size() - 1);
            assertThat(lines.get(target)).as("the target of %s", line).contains(" " + m.group(2) + ":");
        }
        long written = spec.instructions().stream().filter(i -> i instanceof Insn.Jump).count();
        assertThat(jumps).isEqualTo(written).isGreaterThan(100);
    }
}
