package io.sksteer.socket;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sksteer.bpf.Sockets;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.ServerSocketChannel;
import org.junit.jupiter.api.Test;

/**
 * Finding a listening socket of this process by its port, as the web server's is found: real
 * sockets on loopback, ephemeral ports, nothing attached anywhere (no privileges needed).
 */
class AdoptedSocketTest {

    @Test
    void findsTheOneListeningSocketOnAPortAndKnowsWhenItIsGone() throws Exception {
        AdoptedSocket found;
        try (ServerSocketChannel server = ServerSocketChannel.open().bind(new InetSocketAddress("127.0.0.1", 0))) {
            int port = ((InetSocketAddress) server.getLocalAddress()).getPort();
            found = AdoptedSocket.find("the test", port, null);
            assertThat(found.boundAddress()).isEqualTo(new InetSocketAddress("127.0.0.1", port));
            assertThat(found.found().takesIpv4()).isTrue();
            assertThat(Sockets.isListening(found.socket())).isTrue();
            assertThat(Sockets.acceptQueueLength(found.socket())).isZero();
            assertThat(found.isOpen()).isTrue();
            // Bound to another address: not the one asked for.
            assertThatThrownBy(() -> AdoptedSocket.find("the test", port, InetAddress.getByName("127.0.0.2")))
                    .isInstanceOf(SocketNotFoundException.class)
                    .hasMessageContaining("bound elsewhere").hasMessageContaining("127.0.0.1:" + port);
        }
        assertThat(found.isOpen()).as("closed by its owner").isFalse();
    }

    @Test
    void refusesAPortWithoutAListeningSocket() throws Exception {
        int port;
        try (ServerSocketChannel probe = ServerSocketChannel.open().bind(new InetSocketAddress("127.0.0.1", 0))) {
            port = ((InetSocketAddress) probe.getLocalAddress()).getPort();
        }
        assertThatThrownBy(() -> AdoptedSocket.find("the web server (TestServer)", port, null))
                .isInstanceOf(SocketNotFoundException.class)
                .hasMessage("cannot steer to the web server (TestServer): looked for a listening TCP socket of this process on port "
                        + port + "; no listening TCP socket of this process has port " + port);
    }

    @Test
    void refusesTwoSocketsOnOnePortAsAmbiguous() throws Exception {
        try (ServerSocketChannel a = ServerSocketChannel.open().setOption(StandardSocketOptions.SO_REUSEPORT, true)
                .bind(new InetSocketAddress("127.0.0.1", 0))) {
            int port = ((InetSocketAddress) a.getLocalAddress()).getPort();
            try (ServerSocketChannel b = ServerSocketChannel.open().setOption(StandardSocketOptions.SO_REUSEPORT, true)
                    .bind(new InetSocketAddress("127.0.0.1", port))) {
                assertThatThrownBy(() -> AdoptedSocket.find("the test", port, null))
                        .isInstanceOf(SocketNotFoundException.class).hasMessageContaining("2 sockets match, which is ambiguous");
            }
        }
    }
}
