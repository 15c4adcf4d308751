package io.sksteer.bpf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.sksteer.testkit.KernelTest;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The feature probes on this kernel (6.18, root): everything sksteer needs is there, probed once. */
@KernelTest
class FeatureProbeKernelTest {

    @Test
    void everyFeatureIsAvailableOnThisKernel() {
        assertThat(BpfFeatures.all()).hasSize(5).allSatisfy(feature -> {
            assertThat(feature.isAvailable()).as("%s", feature).isTrue();
            assertThat(feature.unavailabilityCause()).as("cause for %s", feature.name()).isNull();
        });
        assertThat(BpfFeatures.all()).containsExactly(BpfFeatures.bpfSyscall(), BpfFeatures.skLookup(),
                BpfFeatures.sockMap(), BpfFeatures.skLookupTestRun(), BpfFeatures.ingressIfindex());
    }

    @Test
    void ensureAvailableDoesNotThrowForAnyFeature() {
        for (Feature feature : BpfFeatures.all()) {
            assertThatCode(feature::ensureAvailable).as("%s", feature.name()).doesNotThrowAnyException();
        }
    }

    @Test
    void eachFeatureIsOneCachedObject() {
        assertThat(BpfFeatures.bpfSyscall()).isSameAs(BpfFeatures.bpfSyscall());
        assertThat(BpfFeatures.skLookup()).isSameAs(BpfFeatures.skLookup());
        assertThat(BpfFeatures.sockMap()).isSameAs(BpfFeatures.sockMap());
        assertThat(BpfFeatures.skLookupTestRun()).isSameAs(BpfFeatures.skLookupTestRun());
        assertThat(BpfFeatures.ingressIfindex()).isSameAs(BpfFeatures.ingressIfindex());
        for (int i = 0; i < BpfFeatures.all().size(); i++) {
            assertThat(BpfFeatures.all().get(i)).isSameAs(BpfFeatures.all().get(i));
        }
    }

    @Test
    void toStringSaysAvailable() {
        for (Feature feature : BpfFeatures.all()) {
            assertThat(feature.toString()).isEqualTo(feature.name() + ": available").doesNotContain("unavailable");
        }
        assertThat(BpfFeatures.skLookup().toString()).isEqualTo("sk_lookup programs: available");
    }

    @Test
    void featuresNameTheirMinimumKernel() {
        assertThat(BpfFeatures.skLookup().minimumKernel()).isEqualTo("5.9");
        assertThat(BpfFeatures.skLookupTestRun().minimumKernel()).isEqualTo("5.13");
        assertThat(BpfFeatures.ingressIfindex().minimumKernel()).isEqualTo("5.17");
    }

    @Test
    void aProbeRunsOnceAndItsAnswerIsKept() {
        AtomicInteger runs = new AtomicInteger();
        Feature available = new Feature("counted", "1.0", () -> {
            runs.incrementAndGet();
            return Optional.empty();
        });
        assertThat(runs).hasValue(0);
        assertThat(available.isAvailable()).isTrue();
        assertThat(available.isAvailable()).isTrue();
        assertThat(available.unavailabilityCause()).isNull();
        available.ensureAvailable();
        assertThat(available.toString()).isEqualTo("counted: available");
        assertThat(runs).as("probe runs").hasValue(1);
    }

    @Test
    void aFailedProbeKeepsTheSameCauseAndExplainsItself() {
        AtomicInteger runs = new AtomicInteger();
        Feature missing = new Feature("imaginary maps", "9.9", () -> {
            runs.incrementAndGet();
            return Optional.of(new BpfException("create map 'x'", Errno.EINVAL.number(), "not here"));
        });
        Throwable cause = missing.unavailabilityCause();
        assertThat(cause).isNotNull();
        assertThat(missing.unavailabilityCause()).isSameAs(cause);
        assertThat(missing.isAvailable()).isFalse();
        assertThat(runs).hasValue(1);

        BpfException e = catchThrowableOfType(missing::ensureAvailable, BpfException.class);
        assertThat(e).isNotNull();
        assertThat(e.getMessage()).contains("imaginary maps").contains("needs Linux 9.9").contains("not here");
        assertThat(e.errnoName()).isEqualTo("EINVAL");
        assertThat(e.getCause()).isSameAs(cause);
        assertThat(missing.toString()).startsWith("imaginary maps: unavailable (");
        assertThat(runs).hasValue(1);
    }
}
