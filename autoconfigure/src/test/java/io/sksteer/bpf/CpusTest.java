package io.sksteer.bpf;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class CpusTest {

    @Test
    void countsARangeInclusively() {
        assertThat(Cpus.countCpuList("0-1")).isEqualTo(2);
    }

    @Test
    void countsASingleCpu() {
        assertThat(Cpus.countCpuList("0")).isEqualTo(1);
    }

    @Test
    void countsMixedRangesAndSingles() {
        assertThat(Cpus.countCpuList("0-3,8,10-11")).isEqualTo(7);
    }

    @Test
    void ignoresTheTrailingNewlineSysfsWrites() {
        assertThat(Cpus.countCpuList("0-7\n")).isEqualTo(8);
    }

    @Test
    void countsRangesNotStartingAtZero() {
        assertThat(Cpus.countCpuList("4-5,64-127")).isEqualTo(66);
    }
}
