package io.sksteer.autoconfigure;

import io.sksteer.steering.Dispatcher;
import io.sksteer.steering.SteeringRule;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The record of live rule changes: each applied or refused change is logged once (INFO when
 * applied, WARN when refused) with its origin, a summary of what it changed and its outcome; the
 * last {@link #KEPT} are kept for the endpoint, and each is handed to an optional sink (Spring
 * Boot's audit events, where the application has an AuditEventRepository).
 *
 * <p>Log line: {@code sksteer audit: applied replace by http principal=admin remote=127.0.0.1:51234:
 * -1 +2 rules (now 9): +tcp 127.88.0.0/24 port 8123 -> web, ...}.
 */
public final class RuleChangeAudit {

    /** How many changes the endpoint shows. */
    public static final int KEPT = 20;
    private static final int NAMED = 5;
    private static final System.Logger LOG = System.getLogger(RuleChangeAudit.class.getName());

    /**
     * Who asked for a change.
     *
     * @param channel {@code http}, {@code api} or {@code refresh}
     * @param principal the authenticated user's name, or {@code null}
     * @param remoteAddress the client's address and port, or {@code null}
     */
    public record Origin(String channel, String principal, String remoteAddress) {

        /** A call of {@link SksteerRules} from the application's own code. */
        public static final Origin API = new Origin("api", null, null);

        @Override
        public String toString() {
            return channel + (principal == null ? "" : " principal=" + principal)
                    + (remoteAddress == null ? "" : " remote=" + remoteAddress);
        }
    }

    /**
     * One change, as the endpoint shows it.
     *
     * @param at when
     * @param operation {@code replace}, {@code add}, {@code remove} or {@code change}
     * @param origin who asked ({@link Origin#toString()})
     * @param principal the authenticated user's name, or the channel ({@code http}, {@code api}) when none
     * @param outcome {@code applied} or {@code refused}
     * @param removed rules removed
     * @param added rules added
     * @param rulesInForce rules in force after
     * @param summary the first rules changed, or the reason for a refusal
     */
    public record Entry(Instant at, String operation, String origin, String principal, String outcome, int removed, int added, int rulesInForce,
            String summary) {

        /** The entry as audit event data. */
        public Map<String, Object> data() {
            Map<String, Object> d = new LinkedHashMap<>();
            d.put("operation", operation);
            d.put("origin", origin);
            d.put("outcome", outcome);
            d.put("removed", removed);
            d.put("added", added);
            d.put("rulesInForce", rulesInForce);
            d.put("summary", summary);
            return d;
        }
    }

    private final Deque<Entry> recent = new ArrayDeque<>();
    private volatile Consumer<Entry> sink = e -> { };

    /** Also hands every entry to {@code sink} (after it is logged). */
    public void sendTo(Consumer<Entry> sink) {
        this.sink = sink;
    }

    void applied(String operation, Origin origin, Dispatcher.RuleChange change, int rulesInForce) {
        StringBuilder summary = new StringBuilder();
        int named = 0;
        for (SteeringRule r : change.removed()) {
            if (named++ < NAMED) {
                summary.append(summary.length() == 0 ? "" : ", ").append('-').append(r.describe());
            }
        }
        for (SteeringRule r : change.added()) {
            if (named++ < NAMED) {
                summary.append(summary.length() == 0 ? "" : ", ").append('+').append(r.describe());
            }
        }
        if (named > NAMED) {
            summary.append(", and ").append(named - NAMED).append(" more");
        }
        Entry e = new Entry(Instant.now(), operation, origin.toString(), principal(origin), "applied", change.removed().size(), change.added().size(),
                rulesInForce, summary.length() == 0 ? "no change" : summary.toString());
        LOG.log(System.Logger.Level.INFO, "sksteer audit: applied " + operation + " by " + origin + ": -" + e.removed() + " +"
                + e.added() + " rules (now " + rulesInForce + "): " + e.summary());
        keep(e);
    }

    void refused(String operation, Origin origin, RuntimeException reason, int rulesInForce) {
        String message = String.valueOf(reason.getMessage());
        if (message.length() > 500) {
            message = message.substring(0, 500) + "...";
        }
        Entry e = new Entry(Instant.now(), operation, origin.toString(), principal(origin), "refused", 0, 0, rulesInForce, message);
        LOG.log(System.Logger.Level.WARNING, "sksteer audit: refused " + operation + " by " + origin + " (rules in force stay, "
                + rulesInForce + "): " + message);
        keep(e);
    }

    private static String principal(Origin origin) {
        return origin.principal() != null ? origin.principal() : origin.channel();
    }

    private void keep(Entry e) {
        synchronized (recent) {
            recent.addFirst(e);
            while (recent.size() > KEPT) {
                recent.removeLast();
            }
        }
        try {
            sink.accept(e);
        } catch (RuntimeException ex) {
            LOG.log(System.Logger.Level.WARNING, "sksteer audit: the audit sink failed: " + ex);
        }
    }

    /** The last changes, newest first. */
    public List<Entry> recent() {
        synchronized (recent) {
            return new ArrayList<>(recent);
        }
    }
}
