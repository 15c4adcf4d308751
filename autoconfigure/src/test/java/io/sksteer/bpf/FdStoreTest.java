package io.sksteer.bpf;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** How the socket-activation variables are read: the pure part of {@link FdStore}. */
class FdStoreTest {

    @Test
    void descriptorsStartAtThreeAndTakeTheirNamesInOrder() {
        assertThat(FdStore.inherited(Map.of("LISTEN_PID", "42", "LISTEN_FDS", "3", "LISTEN_FDNAMES", "sksteer-link:echo:dns"), 42))
                .containsExactly(new FdStore.Inherited("sksteer-link", 3), new FdStore.Inherited("echo", 4),
                        new FdStore.Inherited("dns", 5));
    }

    @Test
    void variablesMeantForAnotherProcessAreIgnored() {
        // A child of the service inherits the environment, not the descriptors.
        assertThat(FdStore.inherited(Map.of("LISTEN_PID", "41", "LISTEN_FDS", "2"), 42)).isEmpty();
        assertThat(FdStore.inherited(Map.of("LISTEN_FDS", "2"), 42)).isEmpty();
    }

    @Test
    void namesThatDoNotMatchTheCountAreAllUnknown() {
        assertThat(FdStore.inherited(Map.of("LISTEN_PID", "7", "LISTEN_FDS", "2", "LISTEN_FDNAMES", "echo"), 7))
                .extracting(FdStore.Inherited::name).containsExactly("unknown", "unknown");
        assertThat(FdStore.inherited(Map.of("LISTEN_PID", "7", "LISTEN_FDS", "2"), 7))
                .extracting(FdStore.Inherited::name).containsExactly("unknown", "unknown");
    }

    @Test
    void malformedOrHugeCountsTakeNothing() {
        for (String count : new String[] {"", "-1", "0", "2x", " 2", "99999999999999", String.valueOf(FdStore.MAX_INHERITED + 1)}) {
            assertThat(FdStore.inherited(Map.of("LISTEN_PID", "7", "LISTEN_FDS", count), 7)).as("LISTEN_FDS='%s'", count).isEmpty();
        }
        assertThat(FdStore.inherited(Map.of("LISTEN_PID", "7", "LISTEN_FDS", String.valueOf(FdStore.MAX_INHERITED)), 7))
                .hasSize(FdStore.MAX_INHERITED);
    }

    @Test
    void storedNamesFollowTheServiceManagersRules() {
        assertThat(FdStore.validName("echo")).isTrue();
        assertThat(FdStore.validName("x".repeat(255))).isTrue();
        assertThat(FdStore.validName("x".repeat(256))).isFalse();
        assertThat(FdStore.validName("")).isFalse();
        assertThat(FdStore.validName("a:b")).isFalse();
        assertThat(FdStore.validName("a b")).isFalse();
        assertThat(FdStore.validName("caf\u00e9")).isFalse();
        assertThat(FdStore.validName("a\nFDSTOREREMOVE=1")).as("no second line smuggled into the notification").isFalse();
    }

    @Test
    void withoutANotificationSocketNothingIsStored() {
        FdStore store = FdStore.fromEnvironment(Map.of(), 1, true);
        assertThat(store.storing()).isFalse();
        assertThat(store.state()).contains("NOTIFY_SOCKET is not set");
        assertThat(FdStore.fromEnvironment(Map.of("NOTIFY_SOCKET", "/run/x", "FDSTORE", "0"), 1, true).state())
                .contains("FileDescriptorStoreMax=");
        assertThat(FdStore.fromEnvironment(Map.of("NOTIFY_SOCKET", "/run/x"), 1, false).state()).isEqualTo("off");
        assertThat(FdStore.fromEnvironment(Map.of("NOTIFY_SOCKET", "/run/x", "FDSTORE", "8"), 1, true).storing()).isTrue();
    }
}
