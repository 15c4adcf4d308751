package io.sksteer.actuate;

import java.util.List;

/**
 * What the {@code sksteer} endpoint shows, read back from the kernel.
 *
 * @param running whether steering is running
 * @param program the dispatcher program, or {@code null} when not running
 * @param link the netns link, or {@code null} when not running
 * @param listeners the listeners
 * @param rules the rules in precedence order, with their counters
 * @param features what the kernel offers
 * @param capabilities what the process holds and what steering needs
 * @param liveChanges whether live changes are on, their ceiling and the last changes ({@code null} where not known)
 */
public record SteeringReport(boolean running, ProgramReport program, LinkReport link, List<ListenerReport> listeners,
        List<RuleReport> rules, List<FeatureReport> features, CapabilityReport capabilities, LiveChangesReport liveChanges) {

    public SteeringReport(boolean running, ProgramReport program, LinkReport link, List<ListenerReport> listeners,
            List<RuleReport> rules, List<FeatureReport> features, CapabilityReport capabilities) {
        this(running, program, link, listeners, rules, features, capabilities, null);
    }

    /** This report with {@code liveChanges}. */
    public SteeringReport withLiveChanges(LiveChangesReport liveChanges) {
        return new SteeringReport(running, program, link, listeners, rules, features, capabilities, liveChanges);
    }

    /**
     * @param enabled whether the write operations change rules ({@code sksteer.live-changes.enabled})
     * @param ceiling where live changes may steer
     * @param recent the last changes, applied or refused, newest first
     */
    public record LiveChangesReport(boolean enabled, List<String> ceiling, List<io.sksteer.autoconfigure.RuleChangeAudit.Entry> recent) {
    }

    /**
     * @param id program id ({@code bpftool prog show id N})
     * @param name program name
     * @param tag program tag
     * @param position 1-based place of ours among the sk_lookup programs of the namespace, in run order (0 if absent)
     * @param programsOnNamespace how many sk_lookup programs the namespace runs
     * @param programIds their ids in run order
     * @param state {@code serving}, or {@code standby} when a later sksteer program (a newer
     *     instance) takes this instance's traffic
     * @param peers the other sk_lookup programs of the namespace
     */
    public record ProgramReport(int id, String name, String tag, int position, int programsOnNamespace, List<Integer> programIds,
            String state, List<PeerReport> peers) {
    }

    /**
     * Another sk_lookup program on the namespace.
     *
     * @param id program id
     * @param name program name ({@code ?} where it cannot be read: that needs CAP_SYS_ADMIN)
     * @param sksteer whether it is a sksteer dispatcher (another instance)
     * @param runsAfterOurs whether it runs after ours, so that its selections (with
     *     BPF_SK_LOOKUP_F_REPLACE) override ours, which our counters cannot see
     * @param holders the processes holding it, where visible
     */
    public record PeerReport(int id, String name, boolean sksteer, boolean runsAfterOurs, List<Long> holders) {
    }

    /**
     * @param id link id
     * @param netns the namespace path configured
     * @param netnsInode the namespace's inode
     * @param attached whether the link is attached (false once detached or the namespace died)
     * @param descriptorStore "storing" when the link and the listeners sksteer bound are kept in
     *     the service manager's descriptor store (a stop leaves them attached and open), "off", or
     *     why the store is unavailable
     */
    public record LinkReport(int id, String netns, long netnsInode, boolean attached, String descriptorStore) {
    }

    /**
     * @param name listener name
     * @param protocol tcp or udp
     * @param socket who opened its socket: "sksteer", "sksteer (inherited)" (taken over from the
     *     service manager's descriptor store), or the application's server ("the web server (TomcatWebServer)")
     * @param boundAddress where its real socket is bound
     * @param cookie its socket cookie
     * @param inSockmap whether the dispatcher's SOCKMAP holds this socket now
     * @param open whether its channel is open
     */
    public record ListenerReport(String name, String protocol, String socket, String boundAddress, long cookie, boolean inSockmap, boolean open) {
    }

    /**
     * @param protocol tcp or udp
     * @param prefix destination prefix
     * @param ports destination ports
     * @param listener listener name
     * @param lookups lookups this rule matched
     * @param steered of them, given to the listener's socket
     * @param missingSocket of them, with the listener's socket gone
     * @param assignErrors of them, refused by the kernel's sk_assign
     * @param origin where the rule was written: a property path ({@code sksteer.listeners.web.rules[0]}) for a
     *     configured rule, the live change that added it ({@code add.web[0]}, {@code rules.web[0]}) otherwise
     */
    public record RuleReport(String protocol, String prefix, String ports, String listener, long lookups, long steered,
            long missingSocket, long assignErrors, String origin) {
    }

    /**
     * @param name the feature
     * @param minimumKernel first kernel that has it
     * @param available whether this kernel and these privileges have it
     * @param reason why not, or {@code null}
     */
    public record FeatureReport(String name, String minimumKernel, boolean available, String reason) {
    }

    /**
     * @param held the relevant effective capabilities of this process
     * @param needed what steering needs
     * @param missing what is missing
     */
    public record CapabilityReport(List<String> held, List<String> needed, List<String> missing) {
    }
}
