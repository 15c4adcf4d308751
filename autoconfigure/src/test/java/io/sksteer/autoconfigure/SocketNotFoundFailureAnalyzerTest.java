package io.sksteer.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.sksteer.socket.AdoptedSocket;
import io.sksteer.socket.SocketNotFoundException;
import java.net.InetSocketAddress;
import java.nio.channels.ServerSocketChannel;
import org.junit.jupiter.api.Test;
import org.springframework.boot.diagnostics.FailureAnalysis;

/** The report when a web server's socket cannot be found: built from a real failed search of this process's sockets. */
class SocketNotFoundFailureAnalyzerTest {

    @Test
    void namesTheServerWhatWasLookedForAndThatNothingWasAttached() throws Exception {
        int port;
        try (ServerSocketChannel probe = ServerSocketChannel.open().bind(new InetSocketAddress("127.0.0.1", 0))) {
            port = ((InetSocketAddress) probe.getLocalAddress()).getPort();
        }
        int closed = port;
        SocketNotFoundException e = catchThrowableOfType(SocketNotFoundException.class,
                () -> AdoptedSocket.find("the web server (TomcatWebServer)", closed, null));
        FailureAnalysis a = new SocketNotFoundFailureAnalyzer().analyze(new IllegalStateException("start", e));
        assertThat(a.getDescription()).contains("cannot steer to the web server (TomcatWebServer)")
                .contains("a listening TCP socket of this process on port " + port).contains("Nothing was attached.");
        assertThat(a.getAction()).contains("server.port").contains("network namespace");
    }
}
