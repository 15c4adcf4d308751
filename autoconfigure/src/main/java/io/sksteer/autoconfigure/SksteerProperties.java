package io.sksteer.autoconfigure;

import io.sksteer.bpf.sklookup.Protocol;
import io.sksteer.steering.OnMissingSocket;
import io.sksteer.steering.PortSpec;
import io.sksteer.steering.Prefix;
import java.time.Duration;
import org.springframework.util.unit.DataSize;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * sksteer's configuration: listeners, and the prefixes and ports steered to each.
 *
 * <pre>
 * sksteer:
 *   listeners:
 *     web:
 *       protocol: tcp
 *       rules:
 *         - prefixes: [127.77.0.0/16, "fd00:77::/64"]
 *           ports: [80, 443, 8000-8999]
 * </pre>
 */
@ConfigurationProperties("sksteer")
public class SksteerProperties {

    /** Whether sksteer binds its listeners and steers traffic to them. Default: true. */
    private boolean enabled = true;

    /** The network namespace file to attach the dispatcher to. Default: /proc/self/ns/net, this process's. */
    private String netns = "/proc/self/ns/net";

    /**
     * What traffic matching a rule does when the rule's listener socket is gone: 'drop' (refuse it,
     * never let it reach another socket bound there) or 'pass' (let the kernel's normal lookup
     * have it). Default: drop.
     */
    private OnMissingSocket onMissingSocket = OnMissingSocket.DROP;

    /** How many rules (prefix × port spec) the dispatcher's maps hold. Default: 4096. */
    private int maxRules = 4096;

    /**
     * The listeners, by name. A listener whose socket sksteer binds has a ListenerHandler bean of
     * the same name that builds its pipeline; one with socket 'web-server' needs none.
     */
    private Map<String, Listener> listeners = new LinkedHashMap<>();

    /** How a stop waits for connections steered just before the detach. */
    private final Drain drain = new Drain();

    /** Restarts that keep steering: the service manager's descriptor store. */
    private final FdStore fdStore = new FdStore();

    /** Rule changes while the application runs: over HTTP (the actuator) and through SksteerRules. */
    private final LiveChanges liveChanges = new LiveChanges();

    public LiveChanges getLiveChanges() {
        return liveChanges;
    }

    public Drain getDrain() {
        return drain;
    }

    public FdStore getFdStore() {
        return fdStore;
    }

    public boolean isEnabled() {
        return enabled;
    }

    public void setEnabled(boolean enabled) {
        this.enabled = enabled;
    }

    public String getNetns() {
        return netns;
    }

    public void setNetns(String netns) {
        this.netns = netns;
    }

    public OnMissingSocket getOnMissingSocket() {
        return onMissingSocket;
    }

    public void setOnMissingSocket(OnMissingSocket onMissingSocket) {
        this.onMissingSocket = onMissingSocket;
    }

    public int getMaxRules() {
        return maxRules;
    }

    public void setMaxRules(int maxRules) {
        this.maxRules = maxRules;
    }

    public Map<String, Listener> getListeners() {
        return listeners;
    }

    public void setListeners(Map<String, Listener> listeners) {
        this.listeners = listeners;
    }

    /** One listener: a real socket and the traffic steered to it. */
    public static class Listener {

        /** The transport: 'tcp' or 'udp'. Default: tcp. */
        private Protocol protocol = Protocol.TCP;

        /**
         * Whose socket the traffic goes to: 'bind' (a Netty socket sksteer binds, served by the
         * ListenerHandler bean of the listener's name), 'web-server' (the application's embedded
         * web server: Tomcat, Jetty or Reactor Netty, on server.port and server.address) or
         * 'management-server' (the separate management server, on management.server.port).
         * Default: bind.
         */
        private String socket = "bind";

        /**
         * The address the real socket binds to, as host or host:port ([v6]:port); only with
         * socket 'bind'. Default: loopback (::ffff:127.0.0.1, dual-stack) on an ephemeral port.
         */
        private String bind;

        /** The TCP accept backlog; only with socket 'bind'. Default: 1024. */
        private Integer backlog;

        /** Whether to set SO_REUSEPORT on the socket; only with socket 'bind'. Default: false. */
        private Boolean reusePort;

        /** The rules: every prefix of a rule with every port spec of it. */
        private List<Rule> rules = new ArrayList<>();

        public Protocol getProtocol() {
            return protocol;
        }

        public void setProtocol(Protocol protocol) {
            this.protocol = protocol;
        }

        public String getBind() {
            return bind;
        }

        public void setBind(String bind) {
            this.bind = bind;
        }

        public String getSocket() {
            return socket;
        }

        public void setSocket(String socket) {
            this.socket = socket;
        }

        public Integer getBacklog() {
            return backlog;
        }

        public void setBacklog(Integer backlog) {
            this.backlog = backlog;
        }

        public Boolean getReusePort() {
            return reusePort;
        }

        public void setReusePort(Boolean reusePort) {
            this.reusePort = reusePort;
        }

        public List<Rule> getRules() {
            return rules;
        }

        public void setRules(List<Rule> rules) {
            this.rules = rules;
        }
    }

    /** Rule changes while the application runs. */
    public static class LiveChanges {

        /**
         * Whether the actuator's write operations (POST /actuator/sksteer/rules, /add, /remove)
         * change rules. Off unless set here, whatever management.endpoints.access.default says.
         * Default: false.
         */
        private boolean enabled;

        /**
         * The largest body a write operation takes; a larger one is refused (413) before it is
         * parsed. Default: 256KB.
         */
        private DataSize maxBodySize = DataSize.ofKilobytes(256);

        /**
         * The ceiling of live changes: every rule a change puts in force must lie inside one of
         * these (protocol × prefixes × ports, for one listener or all). Empty (the default): the
         * configured rules themselves, each for its own listener, so a live change can narrow,
         * move and restore configured traffic but never reach beyond it.
         */
        private List<Allowed> allowed = new ArrayList<>();

        public boolean isEnabled() {
            return enabled;
        }

        public void setEnabled(boolean enabled) {
            this.enabled = enabled;
        }

        public DataSize getMaxBodySize() {
            return maxBodySize;
        }

        public void setMaxBodySize(DataSize maxBodySize) {
            this.maxBodySize = maxBodySize;
        }

        public List<Allowed> getAllowed() {
            return allowed;
        }

        public void setAllowed(List<Allowed> allowed) {
            this.allowed = allowed;
        }
    }

    /** Part of the ceiling of live changes: every prefix with every port spec. */
    public static class Allowed {

        /** The listener this part is for; unset: every listener. No default. */
        private String listener;

        /** 'tcp' or 'udp'; unset: both. No default. */
        private Protocol protocol;

        /** IPv4 or IPv6 networks in CIDR form. No default; at least one. */
        private List<Prefix> prefixes = new ArrayList<>();

        /** Ports: a single port, a range or 'all'. No default; at least one. */
        private List<PortSpec> ports = new ArrayList<>();

        public String getListener() {
            return listener;
        }

        public void setListener(String listener) {
            this.listener = listener;
        }

        public Protocol getProtocol() {
            return protocol;
        }

        public void setProtocol(Protocol protocol) {
            this.protocol = protocol;
        }

        public List<Prefix> getPrefixes() {
            return prefixes;
        }

        public void setPrefixes(List<Prefix> prefixes) {
            this.prefixes = prefixes;
        }

        public List<PortSpec> getPorts() {
            return ports;
        }

        public void setPorts(List<PortSpec> ports) {
            this.ports = ports;
        }
    }

    /**
     * The service manager's file descriptor store (systemd: {@code FileDescriptorStoreMax=} in the
     * unit, {@code $NOTIFY_SOCKET} set for the service).
     */
    public static class FdStore {

        /**
         * Whether to keep the sk_lookup link and the sockets of the listeners sksteer binds in the
         * service manager's descriptor store once attached, so that they stay attached and open
         * through a restart (or a crash) and the next process takes them over without a refused
         * connection. A stop then neither detaches nor drains: what arrives waits in the sockets'
         * queues. Needs {@code $NOTIFY_SOCKET}; without it a warning is logged and a stop detaches
         * as usual. Inherited sockets and links are taken over whatever this says. Default: false.
         */
        private boolean enabled;

        public boolean isEnabled() {
            return enabled;
        }

        public void setEnabled(boolean enabled) {
            this.enabled = enabled;
        }
    }

    /** How a stop waits for connections steered just before the program was detached. */
    public static class Drain {

        /** The longest a stop waits for the TCP listeners' accept queues to empty. Default: 5s. */
        private Duration timeout = Duration.ofSeconds(5);

        /**
         * How long every accept queue must have stayed empty after the detach: at least the
         * round-trip time of the farthest clients, whose handshakes may complete that much later.
         * Default: 100ms.
         */
        private Duration quietPeriod = Duration.ofMillis(100);

        public Duration getTimeout() {
            return timeout;
        }

        public void setTimeout(Duration timeout) {
            this.timeout = timeout;
        }

        public Duration getQuietPeriod() {
            return quietPeriod;
        }

        public void setQuietPeriod(Duration quietPeriod) {
            this.quietPeriod = quietPeriod;
        }
    }

    /**
     * Destination prefixes × destination ports. Read as text, by the rule grammar the converters
     * use: rules are the live part of the configuration, and a refresh must be able to refuse a
     * bad one (naming it) without failing the rebinding of everything else.
     */
    public static class Rule {

        /** IPv4 or IPv6 networks in CIDR form; a bare address is a /32 or /128. No default. */
        private List<String> prefixes = new ArrayList<>();

        /** Ports: a single port (443), a range (8000-8999) or 'all'. No default. */
        private List<String> ports = new ArrayList<>();

        /**
         * Whether this rule may take traffic that another socket in the namespace is bound to
         * (a listening TCP or unconnected UDP socket not of this listener). Without it such a rule
         * is refused, at startup and in live changes. Default: false.
         */
        private boolean allowShadowing;

        public boolean isAllowShadowing() {
            return allowShadowing;
        }

        public void setAllowShadowing(boolean allowShadowing) {
            this.allowShadowing = allowShadowing;
        }

        public List<String> getPrefixes() {
            return prefixes;
        }

        public void setPrefixes(List<String> prefixes) {
            this.prefixes = prefixes;
        }

        public List<String> getPorts() {
            return ports;
        }

        public void setPorts(List<String> ports) {
            this.ports = ports;
        }
    }
}
