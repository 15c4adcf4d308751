package io.sksteer.steering;

/**
 * A rule's counters, summed over CPUs.
 *
 * @param lookups lookups the rule matched
 * @param steered lookups given to the listener's socket
 * @param missingSocket matches whose listener socket was gone
 * @param assignErrors matches whose socket the kernel refused (bpf_sk_assign failed)
 */
public record RuleCounters(long lookups, long steered, long missingSocket, long assignErrors) {

    public static final RuleCounters ZERO = new RuleCounters(0, 0, 0, 0);

    RuleCounters plus(RuleCounters o) {
        return new RuleCounters(lookups + o.lookups, steered + o.steered, missingSocket + o.missingSocket,
                assignErrors + o.assignErrors);
    }
}
