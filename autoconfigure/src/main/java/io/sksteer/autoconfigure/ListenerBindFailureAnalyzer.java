package io.sksteer.autoconfigure;

import io.sksteer.netty.ListenerBindException;
import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;

/** Reports a listener socket that could not bind. */
class ListenerBindFailureAnalyzer extends AbstractFailureAnalyzer<ListenerBindException> {

    @Override
    protected FailureAnalysis analyze(Throwable rootFailure, ListenerBindException cause) {
        return new FailureAnalysis("sksteer " + cause.getMessage() + "\n\nNothing was attached.",
                "Choose another sksteer.listeners." + cause.listener() + ".bind, or stop what holds " + cause.address()
                        + ". Leaving bind unset uses loopback on an ephemeral port, which never collides.", cause);
    }
}
