package io.sksteer.bpf;

import static io.sksteer.bpf.Capability.CAP_BPF;
import static io.sksteer.bpf.Capability.CAP_NET_ADMIN;
import static io.sksteer.bpf.Capability.CAP_PERFMON;
import static io.sksteer.bpf.Capability.CAP_SYS_ADMIN;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CapabilitiesTest {

    /** CapEff of root on a kernel with 41 capabilities (0 to 40). */
    private static final long ROOT_MASK = 0x000001ffffffffffL;

    @Test
    void decodesBit12AsNetAdmin() {
        assertThat(Capabilities.fromMask(1L << 12).effective()).containsExactly(CAP_NET_ADMIN);
    }

    @Test
    void decodesBit21AsSysAdmin() {
        assertThat(Capabilities.fromMask(1L << 21).effective()).containsExactly(CAP_SYS_ADMIN);
    }

    @Test
    void decodesBit38AsPerfmon() {
        assertThat(Capabilities.fromMask(1L << 38).effective()).containsExactly(CAP_PERFMON);
    }

    @Test
    void decodesBit39AsBpf() {
        assertThat(Capabilities.fromMask(1L << 39).effective()).containsExactly(CAP_BPF);
    }

    @Test
    void ignoresBitsOfCapabilitiesSteeringDoesNotUse() {
        long unrelated = (1L << 0) | (1L << 10) | (1L << 13) | (1L << 20) | (1L << 22) | (1L << 40);

        assertThat(Capabilities.fromMask(unrelated).effective()).isEmpty();
    }

    @Test
    void decodesEveryCapabilityFromRootsMask() {
        assertThat(Capabilities.fromMask(ROOT_MASK).effective())
                .containsExactlyInAnyOrder(CAP_NET_ADMIN, CAP_SYS_ADMIN, CAP_PERFMON, CAP_BPF);
    }

    @Test
    void mayUseBpfWithCapBpf() {
        assertThat(Capabilities.fromMask(1L << 39).canUseBpf()).isTrue();
    }

    @Test
    void mayUseBpfWithCapSysAdminAlone() {
        assertThat(Capabilities.fromMask(1L << 21).canUseBpf()).isTrue();
    }

    @Test
    void mayNotUseBpfWithNetAdminAndPerfmonOnly() {
        assertThat(Capabilities.fromMask((1L << 12) | (1L << 38)).canUseBpf()).isFalse();
    }

    @Test
    void canSteerWithBpfAndNetAdmin() {
        assertThat(Capabilities.fromMask((1L << 39) | (1L << 12)).canSteer()).isTrue();
    }

    @Test
    void canSteerWithSysAdminAndNetAdmin() {
        assertThat(Capabilities.fromMask((1L << 21) | (1L << 12)).canSteer()).isTrue();
    }

    @Test
    void cannotSteerWithBpfAlone() {
        assertThat(Capabilities.fromMask(1L << 39).canSteer()).isFalse();
    }

    @Test
    void cannotSteerWithNetAdminAlone() {
        assertThat(Capabilities.fromMask(1L << 12).canSteer()).isFalse();
    }

    @Test
    void missesBothCapabilitiesWithNone() {
        assertThat(Capabilities.fromMask(0).missingForSteering()).containsExactlyInAnyOrder(CAP_BPF, CAP_NET_ADMIN);
    }

    @Test
    void missesNetAdminWhenOnlyBpfIsHeld() {
        assertThat(Capabilities.fromMask(1L << 39).missingForSteering()).containsExactly(CAP_NET_ADMIN);
    }

    @Test
    void missesBpfWhenOnlyNetAdminIsHeld() {
        assertThat(Capabilities.fromMask(1L << 12).missingForSteering()).containsExactly(CAP_BPF);
    }

    @Test
    void missesNothingWhenSysAdminStandsInForBpf() {
        assertThat(Capabilities.fromMask((1L << 21) | (1L << 12)).missingForSteering()).isEmpty();
    }

    @Test
    void missesNothingAsRoot() {
        assertThat(Capabilities.fromMask(ROOT_MASK).missingForSteering()).isEmpty();
    }

    @Test
    void answersHasForEachHeldCapability() {
        Capabilities caps = new Capabilities(Set.of(CAP_NET_ADMIN));

        assertThat(caps.has(CAP_NET_ADMIN)).isTrue();
        assertThat(caps.has(CAP_BPF)).isFalse();
    }

    @Test
    void readsTheEffectiveSetFromProcStatus(@TempDir Path dir) throws IOException {
        Path status = dir.resolve("status");
        Files.writeString(status, String.join("\n",
                "Name:\tjava",
                "CapInh:\t0000000000000000",
                "CapPrm:\t000001ffffffffff",
                "CapEff:\t0000008000001000",
                "CapBnd:\t000001ffffffffff",
                ""));

        assertThat(Capabilities.fromStatus(status).effective()).containsExactlyInAnyOrder(CAP_BPF, CAP_NET_ADMIN);
    }

    @Test
    void readsNoCapabilitiesWhenProcStatusHasNoCapEffLine(@TempDir Path dir) throws IOException {
        Path status = dir.resolve("status");
        Files.writeString(status, "Name:\tjava\nCapPrm:\t000001ffffffffff\n");

        assertThat(Capabilities.fromStatus(status).effective()).isEmpty();
    }
}
