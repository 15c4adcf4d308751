package io.sksteer.actuate;

/**
 * The answer of {@code /actuator/sksteer/explain}: what the live program decides for one lookup.
 *
 * @param protocol tcp or udp
 * @param local the destination asked about
 * @param remote the source used
 * @param verdict pass or drop, as the program returned
 * @param steered whether a socket was selected
 * @param listener the listener whose socket was selected, or {@code null} ("not steered")
 * @param rule the rule that matched, or {@code null}
 * @param nsPerRun the kernel's time for the run
 * @param boundSocket the socket of the namespace that the kernel's normal lookup would give this
 *     traffic to (any process's), or {@code null}; when {@code steered}, steering takes its traffic
 */
public record ExplainReport(String protocol, String local, String remote, String verdict, boolean steered, String listener,
        String rule, int nsPerRun, String boundSocket) {
}
