package io.sksteer.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;

import io.sksteer.netty.EpollUnavailableException;
import org.junit.jupiter.api.Test;
import org.springframework.boot.diagnostics.FailureAnalysis;

/** The report for a missing epoll native library (no such machine here: built from the exception). */
class EpollUnavailableFailureAnalyzerTest {

    @Test
    void namesTheDependencyToAdd() {
        FailureAnalysis a = new EpollUnavailableFailureAnalyzer().analyze(new IllegalStateException("start",
                new EpollUnavailableException(new UnsatisfiedLinkError("no netty_transport_native_epoll_aarch_64"))));
        assertThat(a.getDescription()).contains("epoll transport is not available").contains("netty_transport_native_epoll");
        assertThat(a.getAction()).contains("netty-transport-native-epoll").contains("linux-aarch_64");
    }
}
