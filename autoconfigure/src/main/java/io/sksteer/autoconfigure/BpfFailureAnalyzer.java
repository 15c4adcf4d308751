package io.sksteer.autoconfigure;

import io.sksteer.bpf.BpfException;
import io.sksteer.bpf.Capabilities;
import io.sksteer.bpf.Errno;
import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;

/** Reports a kernel refusal: missing privileges, a kernel without sk_lookup, other errors. */
class BpfFailureAnalyzer extends AbstractFailureAnalyzer<BpfException> {

    static final String GRANT = "Run as root, or grant CAP_BPF and CAP_NET_ADMIN:\n"
            + "    systemd:    AmbientCapabilities=CAP_BPF CAP_NET_ADMIN (and CapabilityBoundingSet= including them)\n"
            + "    Kubernetes: securityContext.capabilities.add: [\"BPF\", \"NET_ADMIN\"] (see docs/capabilities.md)\n"
            + "    by hand:    sudo setpriv --reuid=USER --regid=GROUP --init-groups --inh-caps=+bpf,+net_admin \\\n"
            + "                     --ambient-caps=+bpf,+net_admin java -jar app.jar\n"
            + "(sksteer.netns naming another namespace also needs CAP_SYS_ADMIN, to create the sockets there.)";

    @Override
    protected FailureAnalysis analyze(Throwable rootFailure, BpfException cause) {
        Errno errno = cause.errnoValue();
        if (errno == Errno.EPERM || errno == Errno.EACCES && !(cause instanceof io.sksteer.bpf.VerifierException)) {
            return new FailureAnalysis("sksteer could not use BPF: " + cause.getMessage() + "\n\nThis process has: "
                    + Capabilities.current() + "; steering " + Capabilities.NEEDED + ".", GRANT, cause);
        }
        if (cause.getMessage().contains("needs Linux")) {
            return new FailureAnalysis("This kernel lacks what sksteer needs: " + cause.getMessage(),
                    "Run on Linux 5.9 or later (sk_lookup); 5.13 or later for the actuator's explain operation.", cause);
        }
        return new FailureAnalysis("sksteer's kernel call failed: " + cause.getMessage(),
                "Check the hint in the message; bpftool prog show and bpftool map show list what is loaded.", cause);
    }
}
