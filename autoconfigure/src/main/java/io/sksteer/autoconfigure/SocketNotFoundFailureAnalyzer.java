package io.sksteer.autoconfigure;

import io.sksteer.socket.SocketNotFoundException;
import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;

/** Reports a listener whose socket was to come from the application's web server and could not be used. */
class SocketNotFoundFailureAnalyzer extends AbstractFailureAnalyzer<SocketNotFoundException> {

    @Override
    protected FailureAnalysis analyze(Throwable rootFailure, SocketNotFoundException cause) {
        return new FailureAnalysis("sksteer " + cause.getMessage() + "\n\nNothing was attached.",
                "Check that " + cause.owner() + " is bound where its properties say (server.port, server.address; "
                        + "management.server.port for the management server) and that the application runs in the network "
                        + "namespace it steers. Or steer to a socket sksteer binds: leave sksteer.listeners.NAME.socket unset "
                        + "and define a ListenerHandler bean.", cause);
    }
}
