package io.sksteer.bpf;

import static io.sksteer.testkit.TestSockets.addr;
import static io.sksteer.testkit.TestSockets.connectAndAccept;
import static io.sksteer.testkit.TestSockets.port;
import static io.sksteer.testkit.TestSockets.tcpListener;
import static io.sksteer.testkit.TestSockets.tcpRefused;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.sksteer.bpf.sklookup.SkLookupProgram;
import io.sksteer.bpf.sklookup.Verdict;
import io.sksteer.testkit.Awaits;
import io.sksteer.testkit.KernelTest;
import io.sksteer.testkit.TestNetns;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.nio.channels.ServerSocketChannel;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * sk_lookup links on a namespace made for this class: run order, info, detach, atomic program
 * swap, and what happens when the namespace dies under a link.
 */
@KernelTest
class NetnsLinkKernelTest {

    private BpfProgram passA;
    private BpfProgram passB;
    private BpfProgram dropC;

    @RegisterExtension
    static final TestNetns ns = TestNetns.perClass();

    @BeforeEach
    void load() {
        passA = BpfProgram.load(SkLookupProgram.builder("link_a").defaultAction(Verdict.PASS).build(), java.util.List.of());
        passB = BpfProgram.load(SkLookupProgram.builder("link_b").defaultAction(Verdict.PASS).build(), java.util.List.of());
        dropC = BpfProgram.load(SkLookupProgram.builder("link_c").defaultAction(Verdict.DROP).build(), java.util.List.of());
        assertThat(ns.namespace().skLookupProgramIds()).as("the namespace starts every test bare").isEmpty();
    }

    @AfterEach
    void unload() {
        passA.close();
        passB.close();
        dropC.close();
    }

    @Test
    void attachedProgramsAreListedInAttachOrderAndLeaveWhenTheirLinkCloses() {
        try (NetnsLink first = NetnsLink.attach(passA, ns.namespace())) {
            try (NetnsLink second = NetnsLink.attach(passB, ns.namespace())) {
                assertThat(ns.namespace().skLookupProgramIds()).containsExactly(passA.id(), passB.id());
                assertThat(first.id()).isNotEqualTo(second.id());
            }
            assertThat(ns.namespace().skLookupProgramIds()).containsExactly(passA.id());
        }
        assertThat(ns.namespace().skLookupProgramIds()).isEmpty();
    }

    @Test
    void closingTheFirstLinkKeepsTheSecond() {
        try (NetnsLink first = NetnsLink.attach(passA, ns.namespace());
                NetnsLink second = NetnsLink.attach(passB, ns.namespace())) {
            first.close();
            assertThat(first.isOpen()).isFalse();
            assertThat(ns.namespace().skLookupProgramIds()).containsExactly(passB.id());
            first.close(); // idempotent
            assertThat(second.info().attached()).isTrue();
        }
    }

    @Test
    void infoDescribesTheAttachment() {
        try (NetnsLink link = NetnsLink.attach(passA, ns.namespace())) {
            LinkInfo info = link.info();
            assertThat(info.attached()).isTrue();
            assertThat(info.id()).isEqualTo(link.id()).isPositive();
            assertThat(info.programId()).isEqualTo(passA.id());
            assertThat(info.netnsInode()).isEqualTo(ns.namespace().inode());
            assertThat(info.attachType()).isEqualTo(AttachType.SK_LOOKUP.number()).isEqualTo(36);
            assertThat(link.namespace()).isEqualTo(ns.namespace().description());
        }
    }

    @Test
    void detachEmptiesTheNamespaceButKeepsTheDescriptor() {
        try (NetnsLink link = NetnsLink.attach(passA, ns.namespace())) {
            assertThat(link.info().attached()).isTrue();
            link.detach();
            assertThat(ns.namespace().skLookupProgramIds()).isEmpty();
            assertThat(link.isOpen()).isTrue();
            LinkInfo info = link.info();
            assertThat(info.attached()).isFalse();
            assertThat(info.netnsInode()).isZero();
            assertThat(info.id()).isEqualTo(link.id());
        }
    }

    @Test
    void updateSwapsTheProgramInPlace() {
        try (NetnsLink first = NetnsLink.attach(passA, ns.namespace());
                NetnsLink second = NetnsLink.attach(passB, ns.namespace())) {
            first.update(dropC);
            assertThat(ns.namespace().skLookupProgramIds()).as("C takes A's place, before B")
                    .containsExactly(dropC.id(), passB.id());
            LinkInfo info = first.info();
            assertThat(info.id()).isEqualTo(first.id());
            assertThat(info.programId()).isEqualTo(dropC.id());
            assertThat(info.attached()).isTrue();
            assertThat(second.info().programId()).isEqualTo(passB.id());
        }
    }

    @Test
    void updatingADetachedLinkFailsWithEnolink() {
        try (NetnsLink link = NetnsLink.attach(passA, ns.namespace())) {
            link.detach();
            BpfException e = catchThrowableOfType(() -> link.update(passB), BpfException.class);
            assertThat(e).isNotNull();
            assertThat(e.errno()).isEqualTo(67);
            assertThat(e.errnoName()).isEqualTo("ENOLINK");
            assertThat(e.getMessage()).contains("link " + link.id()).contains("ENOLINK");
            assertThat(ns.namespace().skLookupProgramIds()).isEmpty();
        }
    }

    @Test
    void attachingByPathReachesTheNamespaceBehindThePath() {
        // The test namespace's own handle path, /proc/PID/fd/N: never the process's namespace.
        try (NetnsLink link = NetnsLink.attach(passA, ns.path())) {
            assertThat(link.info().netnsInode()).isEqualTo(ns.namespace().inode());
            assertThat(ns.namespace().skLookupProgramIds()).containsExactly(passA.id());
            assertThat(link.namespace()).isEqualTo(ns.path().toString());
        }
        assertThat(ns.namespace().skLookupProgramIds()).isEmpty();
    }

    @Test
    void anUpdatedProgramDecidesTheTrafficAndTheLinkKeepsItAliveAfterItsFdCloses() throws IOException {
        try (ServerSocketChannel server = tcpListener(ns, StandardProtocolFamily.INET, "127.0.0.1", 0);
                NetnsLink link = NetnsLink.attach(passA, ns.namespace())) {
            InetSocketAddress target = addr("127.0.0.1", port(server));
            assertThat(connectAndAccept(ns, server, target)).isEqualTo(target);

            link.update(dropC);
            assertThat(tcpRefused(ns, target)).as("after swapping in the DROP program").isTrue();

            int dropId = dropC.id();
            dropC.close();
            assertThat(ns.namespace().skLookupProgramIds()).containsExactly(dropId);
            assertThat(tcpRefused(ns, target)).as("the link holds the program after its own fd closed").isTrue();

            link.update(passB);
            assertThat(connectAndAccept(ns, server, target)).isEqualTo(target);
        }
        assertThat(ns.namespace().skLookupProgramIds()).isEmpty();
    }

    @Test
    void aLinkIsDetachedWhenItsNamespaceDies() {
        TestNetns doomed = TestNetns.create();
        NetnsLink link;
        try {
            link = NetnsLink.attach(passA, doomed.namespace());
            assertThat(doomed.namespace().skLookupProgramIds()).containsExactly(passA.id());
            assertThat(link.info().attached()).isTrue();
            assertThat(link.info().netnsInode()).isEqualTo(doomed.namespace().inode());
        } finally {
            // This handle is the namespace's only holder: closing it destroys the namespace.
            doomed.close();
        }
        try {
            // Namespace teardown runs asynchronously in the kernel (cleanup_net).
            LinkInfo info = Awaits.until(link::info, i -> !i.attached(), Duration.ofSeconds(10));
            assertThat(info.attached()).as("link %d after its namespace died", link.id()).isFalse();
            assertThat(info.id()).isEqualTo(link.id());
            assertThat(ns.namespace().skLookupProgramIds()).as("the class namespace is untouched").isEmpty();
        } finally {
            link.close();
        }
        assertThat(link.isOpen()).isFalse();
    }
}
