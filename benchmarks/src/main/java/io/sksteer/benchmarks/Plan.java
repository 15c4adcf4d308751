package io.sksteer.benchmarks;

import java.time.Duration;
import java.util.List;

/**
 * How much to measure. {@link #full()} is what docs/benchmarks.md reports; {@link #smoke()} runs
 * every section at tiny sizes in seconds, to check that the harness works (its figures mean
 * nothing).
 *
 * @param smokeMode whether this is the smoke plan
 * @param sizes the rule counts of the dispatch benchmark, smallest first; the first must be 1
 * @param repeat PROG_TEST_RUN repetitions per run
 * @param runs runs per measured lookup (the median is reported)
 * @param startupSize rules at startup and before the live update
 * @param capacity the dispatcher's capacity ({@code sksteer.max-rules}) there
 * @param startupRounds dispatchers created to time startup
 * @param change rules added, removed or replaced by one live update
 * @param updateRounds rounds of the four live updates
 * @param e2eRounds end-to-end rounds (each measures steered and direct once)
 * @param e2eRoundTime the longest an end-to-end measurement may take
 * @param e2eMaxOps the most connections or datagrams one end-to-end measurement makes
 * @param e2eWarmup how long each end-to-end case runs before the first round, not counted
 */
record Plan(boolean smokeMode, List<Integer> sizes, int repeat, int runs, int startupSize, int capacity, int startupRounds,
        int change, int updateRounds, int e2eRounds, Duration e2eRoundTime, int e2eMaxOps, Duration e2eWarmup) {

    Plan {
        sizes = List.copyOf(sizes);
        if (sizes.isEmpty() || sizes.get(0) != 1) {
            throw new IllegalArgumentException("the first size must be 1 rule");
        }
        if (startupSize + change > capacity) {
            throw new IllegalArgumentException("capacity " + capacity + " cannot hold " + startupSize + " + " + change + " rules");
        }
    }

    static Plan full() {
        return new Plan(false, List.of(1, 1_000, 100_000), 1_000_000, 5, 100_000, 131_072, 3, 10_000, 3, 15,
                Duration.ofSeconds(1), 100_000, Duration.ofSeconds(1));
    }

    static Plan smoke() {
        return new Plan(true, List.of(1, 10, 40), 1_000, 1, 40, 64, 1, 5, 1, 1, Duration.ofMillis(300), 50,
                Duration.ofMillis(50));
    }

    /** The largest dispatch size: where the dispatch goals are judged. */
    int largest() {
        return sizes.get(sizes.size() - 1);
    }

    /** Fillers the rule generator must make. */
    int fillersNeeded() {
        return Math.max(largest(), startupSize + change) - RuleMix.PROBES.size();
    }
}
