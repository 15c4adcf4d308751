package io.sksteer.autoconfigure;

import io.sksteer.netty.EpollUnavailableException;
import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;

/** Reports a missing or unloadable Netty epoll native library. */
class EpollUnavailableFailureAnalyzer extends AbstractFailureAnalyzer<EpollUnavailableException> {

    @Override
    protected FailureAnalysis analyze(Throwable rootFailure, EpollUnavailableException cause) {
        return new FailureAnalysis("sksteer could not start its listeners: " + cause.getMessage()
                + " (os.arch=" + System.getProperty("os.arch") + ")\n\nNothing was attached.",
                "Add io.netty:netty-transport-native-epoll with the classifier of this machine (linux-x86_64 or "
                        + "linux-aarch_64) to the application; the starter brings linux-x86_64 only.", cause);
    }
}
