package io.sksteer.bpf;

import static io.sksteer.bpf.Asm.add;
import static io.sksteer.bpf.Asm.call;
import static io.sksteer.bpf.Asm.jeq;
import static io.sksteer.bpf.Asm.label;
import static io.sksteer.bpf.Asm.ldMap;
import static io.sksteer.bpf.Asm.ldxdw;
import static io.sksteer.bpf.Asm.mov;
import static io.sksteer.bpf.Asm.st;
import static io.sksteer.bpf.Asm.stx;
import static io.sksteer.testkit.TestSockets.addr;
import static io.sksteer.testkit.TestSockets.fd;
import static io.sksteer.testkit.TestSockets.tcpListener;
import static io.sksteer.testkit.TestSockets.udpSocket;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.sksteer.bpf.sklookup.Protocol;
import io.sksteer.bpf.sklookup.SkLookupContext;
import io.sksteer.bpf.sklookup.SkLookupProgram;
import io.sksteer.bpf.sklookup.SkLookupTestRun;
import io.sksteer.bpf.sklookup.Verdict;
import io.sksteer.testkit.Awaits;
import io.sksteer.testkit.KernelTest;
import io.sksteer.testkit.TestNetns;
import java.io.IOException;
import java.net.InetAddress;
import java.net.StandardProtocolFamily;
import java.net.UnknownHostException;
import java.nio.channels.DatagramChannel;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Every map type the kernel layer offers, created in the real kernel and driven through its typed
 * view: HASH, ARRAY, LPM_TRIE, PERCPU_ARRAY, SOCKMAP and SOCKHASH.
 */
@KernelTest
class MapsKernelTest {

    /** An IPv4 prefix as an LPM_TRIE key: u32 prefix length (host order), then the 4 address bytes. */
    record Prefix(int length, byte[] address) {

        static Prefix of(String cidr) {
            String[] parts = cidr.split("/");
            try {
                return new Prefix(Integer.parseInt(parts[1]), InetAddress.getByName(parts[0]).getAddress());
            } catch (UnknownHostException e) {
                throw new IllegalArgumentException(cidr, e);
            }
        }

        static final Codec<Prefix> CODEC = Codec.of(8, (p, b) -> b.putInt(p.length()).put(p.address()), b -> {
            int length = b.getInt();
            byte[] address = new byte[4];
            b.get(address);
            return new Prefix(length, address);
        });

        String cidr() {
            try {
                return InetAddress.getByAddress(address).getHostAddress() + "/" + length;
            } catch (UnknownHostException e) {
                throw new IllegalStateException(e);
            }
        }
    }

    @RegisterExtension
    static final TestNetns ns = TestNetns.perClass();

    // ---- HASH ------------------------------------------------------------------------------------

    @Test
    void aHashMapUpdatesLooksUpAndDeletes() {
        try (BpfMap<Integer, Long> map = BpfMap.create(MapSpec.of("hash_basic", MapType.HASH, 4, 8, 4),
                Codec.u32(), Codec.u64())) {
            assertThat(map.lookup(7)).isEmpty();
            map.update(7, 70L);
            assertThat(map.lookup(7)).contains(70L);
            map.update(7, 71L);
            assertThat(map.lookup(7)).as("ANY replaces").contains(71L);
            assertThat(map.delete(7)).isTrue();
            assertThat(map.lookup(7)).isEmpty();
            assertThat(map.delete(7)).as("deleting an absent key").isFalse();
        }
    }

    @Test
    void noexistOnAPresentKeyFailsWithEexist() {
        try (BpfMap<Integer, Long> map = BpfMap.create(MapSpec.of("hash_noexist", MapType.HASH, 4, 8, 4),
                Codec.u32(), Codec.u64())) {
            map.update(1, 10L, UpdateFlag.NOEXIST);
            BpfException e = catchThrowableOfType(() -> map.update(1, 11L, UpdateFlag.NOEXIST), BpfException.class);
            assertThat(e).isNotNull();
            assertThat(e.errnoName()).isEqualTo("EEXIST");
            assertThat(e.getMessage()).contains("hash_noexist").contains("EEXIST");
            assertThat(map.lookup(1)).as("the failed update changed nothing").contains(10L);
        }
    }

    @Test
    void existOnAnAbsentKeyFailsWithEnoent() {
        try (BpfMap<Integer, Long> map = BpfMap.create(MapSpec.of("hash_exist", MapType.HASH, 4, 8, 4),
                Codec.u32(), Codec.u64())) {
            BpfException e = catchThrowableOfType(() -> map.update(2, 20L, UpdateFlag.EXIST), BpfException.class);
            assertThat(e).isNotNull();
            assertThat(e.errnoName()).isEqualTo("ENOENT");
            assertThat(e.errnoValue()).isEqualTo(Errno.ENOENT);
            assertThat(map.lookup(2)).isEmpty();
            map.update(2, 20L);
            map.update(2, 21L, UpdateFlag.EXIST);
            assertThat(map.lookup(2)).contains(21L);
        }
    }

    @Test
    void aFullHashMapRefusesANewKeyWithE2big() {
        try (BpfMap<Integer, Long> map = BpfMap.create(MapSpec.of("hash_full", MapType.HASH, 4, 8, 2),
                Codec.u32(), Codec.u64())) {
            map.update(1, 1L);
            map.update(2, 2L);
            BpfException e = catchThrowableOfType(() -> map.update(3, 3L), BpfException.class);
            assertThat(e).isNotNull();
            assertThat(e.errnoName()).isEqualTo("E2BIG");
            assertThat(e.hint()).contains("full");
            map.update(2, 22L);
            assertThat(map.lookup(2)).as("replacing in a full map still works").contains(22L);
        }
    }

    @Test
    void keysAndEntriesIterateEveryElement() {
        try (BpfMap<Integer, Long> map = BpfMap.create(MapSpec.of("hash_iter", MapType.HASH, 4, 8, 64),
                Codec.u32(), Codec.u64())) {
            assertThat(map.keys()).isEmpty();
            assertThat(map.entries()).isEmpty();
            for (int k = 100; k < 140; k++) {
                map.update(k, k * 10L);
            }
            assertThat(map.keys()).hasSize(40).doesNotHaveDuplicates()
                    .containsExactlyInAnyOrderElementsOf(java.util.stream.IntStream.range(100, 140).boxed().toList());
            Map<Integer, Long> entries = map.entries();
            assertThat(entries).hasSize(40);
            entries.forEach((k, v) -> assertThat(v).as("value of %d", k).isEqualTo(k * 10L));
        }
    }

    // ---- ARRAY ----------------------------------------------------------------------------------

    @Test
    void storesThroughAMappedArrayAreWhatTheKernelReads() {
        MapSpec spec = new MapSpec("array_mapped", MapType.ARRAY, 4, 12, 1000, java.util.Set.of(MapFlag.BPF_F_MMAPABLE));
        try (BpfMap<Integer, byte[]> map = BpfMap.create(spec, Codec.u32(), Codec.bytes(12))) {
            MappedValues values = map.mapValues();
            assertThat(map.mapValues()).as("mapped once").isSameAs(values);
            values.putInt(0, 7);
            values.putLong(999, 0x1122334455667788L);
            byte[] twelve = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
            values.put(500, twelve);
            java.nio.ByteBuffer first = java.nio.ByteBuffer.wrap(map.lookup(0).orElseThrow()).order(java.nio.ByteOrder.nativeOrder());
            assertThat(first.getInt(0)).isEqualTo(7);
            java.nio.ByteBuffer last = java.nio.ByteBuffer.wrap(map.lookup(999).orElseThrow()).order(java.nio.ByteOrder.nativeOrder());
            assertThat(last.getLong(0)).isEqualTo(0x1122334455667788L);
            assertThat(map.lookup(500)).hasValueSatisfying(v -> assertThat(v).containsExactly(twelve));
            // and the other way round: an update by system call is visible in the mapping
            map.update(1, new byte[] {9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});
            assertThat(values.getInt(1)).isEqualTo(java.nio.ByteBuffer.wrap(new byte[] {9, 0, 0, 0})
                    .order(java.nio.ByteOrder.nativeOrder()).getInt());
            // Two elements at once, each at its stride (12 bytes rounded up to 16).
            byte[] two = new byte[32];
            for (int i = 0; i < 32; i++) {
                two[i] = (byte) (100 + i);
            }
            values.putRange(10, two);
            assertThat(map.lookup(10)).hasValueSatisfying(v -> assertThat(v).containsExactly(java.util.Arrays.copyOfRange(two, 0, 12)));
            assertThat(map.lookup(11)).hasValueSatisfying(v -> assertThat(v).containsExactly(java.util.Arrays.copyOfRange(two, 16, 28)));
            assertThatThrownBy(() -> values.putRange(999, two)).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> values.putInt(1000, 1)).isInstanceOf(IndexOutOfBoundsException.class);
            assertThatThrownBy(() -> values.put(0, new byte[8])).isInstanceOf(IllegalArgumentException.class);
        }
        try (BpfMap<Integer, Long> plain = BpfMap.create(MapSpec.of("array_plain", MapType.ARRAY, 4, 8, 4), Codec.u32(), Codec.u64())) {
            assertThatThrownBy(plain::mapValues).isInstanceOf(IllegalStateException.class).hasMessageContaining("BPF_F_MMAPABLE");
        }
    }

    @Test
    void anArrayHasEveryIndexFromTheStartAndKeepsUpdates() {
        try (BpfMap<Integer, Long> map = BpfMap.create(MapSpec.of("array_basic", MapType.ARRAY, 4, 8, 3),
                Codec.u32(), Codec.u64())) {
            assertThat(map.lookup(0)).contains(0L);
            assertThat(map.lookup(2)).contains(0L);
            assertThat(map.lookup(3)).as("past the end").isEmpty();
            map.update(2, 42L);
            assertThat(map.lookup(2)).contains(42L);
            assertThat(map.keys()).containsExactly(0, 1, 2);
            assertThat(map.entries()).containsExactly(Map.entry(0, 0L), Map.entry(1, 0L), Map.entry(2, 42L));
            BpfException outOfRange = catchThrowableOfType(() -> map.update(3, 1L), BpfException.class);
            assertThat(outOfRange).isNotNull();
            assertThat(outOfRange.errnoName()).isEqualTo("E2BIG");
            BpfException delete = catchThrowableOfType(() -> map.delete(1), BpfException.class);
            assertThat(delete).as("array elements cannot be deleted").isNotNull();
            assertThat(delete.errnoName()).isEqualTo("EINVAL");
        }
    }

    // ---- LPM_TRIE -------------------------------------------------------------------------------

    @Test
    void anLpmTrieAnswersWithTheLongestMatchingPrefix() {
        try (BpfMap<Prefix, Integer> trie = BpfMap.create(MapSpec.lpmTrie("lpm_v4", 4, 4, 16), Prefix.CODEC,
                Codec.u32())) {
            trie.update(Prefix.of("10.0.0.0/8"), 8);
            trie.update(Prefix.of("10.1.2.0/24"), 24);

            assertThat(trie.lookup(Prefix.of("10.1.2.3/32"))).as("inside the /24").contains(24);
            assertThat(trie.lookup(Prefix.of("10.1.3.3/32"))).as("inside the /8 only").contains(8);
            assertThat(trie.lookup(Prefix.of("10.200.0.1/32"))).contains(8);
            assertThat(trie.lookup(Prefix.of("11.1.2.3/32"))).as("outside both").isEmpty();
            assertThat(trie.lookup(Prefix.of("10.1.2.0/16"))).as("a /16 key is only covered by the /8").contains(8);

            assertThat(trie.keys()).extracting(Prefix::cidr).containsExactlyInAnyOrder("10.0.0.0/8", "10.1.2.0/24");

            assertThat(trie.delete(Prefix.of("10.1.2.0/24"))).isTrue();
            assertThat(trie.lookup(Prefix.of("10.1.2.3/32"))).as("the /8 answers once the /24 is gone").contains(8);
            assertThat(trie.delete(Prefix.of("10.1.2.0/24"))).isFalse();
        }
    }

    // ---- PERCPU_ARRAY ---------------------------------------------------------------------------

    @Test
    void aPerCpuArrayHoldsOneValuePerPossibleCpu() throws IOException {
        int cpus = possibleCpus();
        try (PerCpuArray<Long> counters = PerCpuArray.create(MapSpec.of("percpu_u64", MapType.PERCPU_ARRAY, 4, 8, 2),
                Codec.u64())) {
            assertThat(counters.lookupPerCpu(1)).hasSize(cpus).containsOnly(0L);
            counters.update(1, 5L);
            assertThat(counters.lookupPerCpu(1)).hasSize(cpus).containsOnly(5L);
            assertThat(counters.sum(1, Long::sum)).isEqualTo(5L * cpus);
            assertThat(counters.lookupPerCpu(0)).as("other index untouched").containsOnly(0L);
            assertThatThrownBy(() -> counters.lookupPerCpu(2)).isInstanceOf(IndexOutOfBoundsException.class);
        }
    }

    @Test
    void perCpuValuesNarrowerThan8BytesArePaddedPerCpu() throws IOException {
        int cpus = possibleCpus();
        // 4-byte values sit 8 bytes apart in the kernel's per-CPU buffer.
        try (PerCpuArray<Integer> counters = PerCpuArray.create(
                MapSpec.of("percpu_u32", MapType.PERCPU_ARRAY, 4, 4, 1), Codec.u32())) {
            counters.update(0, 0x01020304);
            assertThat(counters.lookupPerCpu(0)).hasSize(cpus).containsOnly(0x01020304);
            assertThat(counters.sum(0, Integer::sum)).isEqualTo(0x01020304 * cpus);
        }
    }

    @Test
    void aProgramCountsIntoAPerCpuArrayAndTheSumIsExact() throws IOException {
        int repeat = 1000;
        try (PerCpuArray<Long> hits = PerCpuArray.create(MapSpec.of("hits", MapType.PERCPU_ARRAY, 4, 8, 1), Codec.u64());
                BpfProgram counter = BpfProgram.load(SkLookupProgram.builder("count_hits")
                        .body(List.of(
                                // hits[0] += 1 on the CPU the program runs on
                                st(Size.W, Reg.R10, -4, 0),
                                mov(Reg.R2, Reg.R10),
                                add(Reg.R2, -4),
                                ldMap(Reg.R1, "hits"),
                                call(Helper.MAP_LOOKUP_ELEM),
                                jeq(Reg.R0, 0, "out"),
                                ldxdw(Reg.R1, Reg.R0, 0),
                                add(Reg.R1, 1),
                                stx(Size.DW, Reg.R0, 0, Reg.R1),
                                label("out")))
                        .build(), List.of(hits))) {
            SkLookupTestRun run = SkLookupTestRun.run(counter,
                    new SkLookupContext(Protocol.TCP, addr("127.0.0.1", 80), addr("127.0.0.1", 40000)), repeat);
            assertThat(run.verdict()).isEqualTo(Verdict.PASS);
            assertThat(hits.sum(0, Long::sum)).isEqualTo(repeat);
            assertThat(hits.lookupPerCpu(0)).hasSize(possibleCpus());
        }
    }

    // ---- SOCKMAP --------------------------------------------------------------------------------

    @Test
    void aSockmapSlotReturnsTheCookieOfTheListenerPutThere() throws IOException {
        try (SocketMap<Integer> map = SocketMap.createSockMap(MapSpec.sockMap("sm_cookie", 4));
                ServerSocketChannel listener = tcpListener(ns, StandardProtocolFamily.INET, "127.0.0.1", 0)) {
            SocketFd fd = fd(listener);
            assertThat(map.cookie(2)).isEmpty();
            map.put(2, fd);
            long cookie = Sockets.cookie(fd);
            assertThat(cookie).isNotZero();
            assertThat(map.cookie(2)).hasValue(cookie);
            assertThat(map.cookie(1)).isEmpty();
        }
    }

    @Test
    void anUnboundTcpSocketIsRefusedWithEopnotsupp() throws IOException {
        try (SocketMap<Integer> map = SocketMap.createSockMap(MapSpec.sockMap("sm_unbound", 1));
                SocketChannel unbound = ns.call(() -> SocketChannel.open(StandardProtocolFamily.INET))) {
            BpfException e = catchThrowableOfType(() -> map.put(0, fd(unbound)), BpfException.class);
            assertThat(e).isNotNull();
            assertThat(e.errnoName()).isEqualTo("EOPNOTSUPP");
            assertThat(e.getMessage()).contains("sm_unbound").contains("EOPNOTSUPP");
            assertThat(map.cookie(0)).isEmpty();
        }
    }

    @Test
    void aUdpSocketCanBePut() throws IOException {
        try (SocketMap<Integer> map = SocketMap.createSockMap(MapSpec.sockMap("sm_udp", 1));
                DatagramChannel udp = udpSocket(ns, StandardProtocolFamily.INET, "127.0.0.1", 0)) {
            map.put(0, fd(udp));
            assertThat(map.cookie(0)).hasValue(Sockets.cookie(fd(udp)));
        }
    }

    @Test
    void closingTheSocketEmptiesItsSlot() throws IOException {
        try (SocketMap<Integer> map = SocketMap.createSockMap(MapSpec.sockMap("sm_close", 2))) {
            ServerSocketChannel listener = tcpListener(ns, StandardProtocolFamily.INET, "127.0.0.1", 0);
            try {
                map.put(1, fd(listener));
                assertThat(map.cookie(1)).isPresent();
            } finally {
                listener.close();
            }
            OptionalLong after = Awaits.until(() -> map.cookie(1), OptionalLong::isEmpty, Duration.ofSeconds(5));
            assertThat(after).as("slot after the socket was closed").isEmpty();
            assertThat(map.keys()).isEmpty();
            assertThat(map.remove(1)).as("removing the slot of a closed socket").isFalse();
        }
    }

    @Test
    void removingAnEmptySlotReturnsFalseAndAFullOneTrue() throws IOException {
        try (SocketMap<Integer> map = SocketMap.createSockMap(MapSpec.sockMap("sm_remove", 2));
                ServerSocketChannel listener = tcpListener(ns, StandardProtocolFamily.INET, "127.0.0.1", 0)) {
            assertThat(map.remove(0)).isFalse();
            map.put(0, fd(listener));
            assertThat(map.remove(0)).isTrue();
            assertThat(map.cookie(0)).isEmpty();
            assertThat(map.remove(0)).isFalse();
        }
    }

    @Test
    void existReplacesTheSocketOfAFullSlotAndRefusesAnEmptyOne() throws IOException {
        try (SocketMap<Integer> map = SocketMap.createSockMap(MapSpec.sockMap("sm_exist", 2));
                ServerSocketChannel first = tcpListener(ns, StandardProtocolFamily.INET, "127.0.0.1", 0);
                ServerSocketChannel second = tcpListener(ns, StandardProtocolFamily.INET, "127.0.0.1", 0)) {
            map.put(0, fd(first));
            assertThat(map.cookie(0)).hasValue(Sockets.cookie(fd(first)));

            map.put(0, fd(second), UpdateFlag.EXIST);
            assertThat(map.cookie(0)).hasValue(Sockets.cookie(fd(second)));
            assertThat(Sockets.cookie(fd(second))).isNotEqualTo(Sockets.cookie(fd(first)));

            BpfException noexist = catchThrowableOfType(() -> map.put(0, fd(first), UpdateFlag.NOEXIST),
                    BpfException.class);
            assertThat(noexist).isNotNull();
            assertThat(noexist.errnoName()).isEqualTo("EEXIST");

            BpfException exist = catchThrowableOfType(() -> map.put(1, fd(first), UpdateFlag.EXIST),
                    BpfException.class);
            assertThat(exist).isNotNull();
            assertThat(exist.errnoName()).isEqualTo("ENOENT");
            assertThat(map.cookie(0)).hasValue(Sockets.cookie(fd(second)));
        }
    }

    @Test
    void sockmapKeysListOnlyTheSlotsHoldingASocket() throws IOException {
        try (SocketMap<Integer> map = SocketMap.createSockMap(MapSpec.sockMap("sm_keys", 5));
                ServerSocketChannel a = tcpListener(ns, StandardProtocolFamily.INET, "127.0.0.1", 0);
                DatagramChannel b = udpSocket(ns, StandardProtocolFamily.INET, "127.0.0.1", 0)) {
            assertThat(map.keys()).isEmpty();
            map.put(1, fd(a));
            map.put(3, fd(b));
            assertThat(map.keys()).containsExactly(1, 3);
            map.remove(1);
            assertThat(map.keys()).containsExactly(3);
        }
    }

    @Test
    void aSockmapWithFourByteValuesTakesSocketsButCannotTellWhichSlotsAreFull() throws IOException {
        // With 4-byte values the kernel refuses every user-space lookup (ENOSPC, sock_map_lookup_sys).
        try (SocketMap<Integer> map = SocketMap.createSockMap(MapSpec.of("sm_four", MapType.SOCKMAP, 4, 4, 2));
                ServerSocketChannel listener = tcpListener(ns, StandardProtocolFamily.INET, "127.0.0.1", 0)) {
            map.put(0, fd(listener));
            assertThatThrownBy(() -> map.cookie(0)).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("8-byte");
            assertThatThrownBy(map::keys).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("sm_four").hasMessageContaining("8-byte");
            assertThat(map.remove(0)).isTrue();
            assertThat(map.remove(0)).isFalse();
        }
    }

    // ---- SOCKHASH -------------------------------------------------------------------------------

    @Test
    void aSockhashPutsLooksUpAndRemovesByKey() throws IOException {
        try (SocketMap<Integer> hash = SocketMap.createSockHash(MapSpec.of("sh_basic", MapType.SOCKHASH, 4, 8, 8),
                Codec.u32());
                ServerSocketChannel listener = tcpListener(ns, StandardProtocolFamily.INET, "127.0.0.1", 0);
                DatagramChannel udp = udpSocket(ns, StandardProtocolFamily.INET, "127.0.0.1", 0)) {
            assertThat(hash.cookie(8080)).isEmpty();
            hash.put(8080, fd(listener));
            hash.put(53, fd(udp));
            assertThat(hash.cookie(8080)).hasValue(Sockets.cookie(fd(listener)));
            assertThat(hash.cookie(53)).hasValue(Sockets.cookie(fd(udp)));
            assertThat(hash.keys()).containsExactlyInAnyOrder(8080, 53);

            assertThat(hash.remove(8080)).isTrue();
            assertThat(hash.cookie(8080)).isEmpty();
            assertThat(hash.remove(8080)).isFalse();
            assertThat(hash.keys()).containsExactly(53);
        }
    }

    @Test
    void closingASocketRemovesItsSockhashEntry() throws IOException {
        try (SocketMap<Integer> hash = SocketMap.createSockHash(MapSpec.of("sh_close", MapType.SOCKHASH, 4, 8, 2),
                Codec.u32())) {
            DatagramChannel udp = udpSocket(ns, StandardProtocolFamily.INET, "127.0.0.1", 0);
            try {
                hash.put(7, fd(udp));
                assertThat(hash.cookie(7)).isPresent();
            } finally {
                udp.close();
            }
            assertThat(Awaits.until(() -> hash.cookie(7), OptionalLong::isEmpty, Duration.ofSeconds(5))).isEmpty();
            assertThat(hash.remove(7)).isFalse();
        }
    }

    @Test
    void aSockhashWithFourByteValuesStillListsItsKeys() throws IOException {
        // A SOCKHASH iterates only keys that hold a socket, so no lookup is needed to list them.
        try (SocketMap<Integer> hash = SocketMap.createSockHash(MapSpec.of("sh_four", MapType.SOCKHASH, 4, 4, 4),
                Codec.u32());
                ServerSocketChannel listener = tcpListener(ns, StandardProtocolFamily.INET, "127.0.0.1", 0)) {
            assertThat(hash.keys()).isEmpty();
            hash.put(5, fd(listener));
            assertThat(hash.keys()).containsExactly(5);
            assertThat(hash.remove(5)).isTrue();
            assertThat(hash.keys()).isEmpty();
        }
    }

    // ---- info -----------------------------------------------------------------------------------

    @Test
    void infoReportsWhatTheMapWasCreatedWith() throws IOException {
        try (BpfMap<Integer, Long> map = BpfMap.create(MapSpec.of("info_hash", MapType.HASH, 4, 8, 17),
                Codec.u32(), Codec.u64());
                SocketMap<Integer> sockets = SocketMap.createSockMap(MapSpec.sockMap("info_sockmap", 3));
                BpfMap<Prefix, Integer> trie = BpfMap.create(MapSpec.lpmTrie("info_lpm", 4, 4, 5), Prefix.CODEC,
                        Codec.u32())) {
            MapInfo info = map.info();
            assertThat(info.name()).isEqualTo("info_hash");
            assertThat(info.id()).isEqualTo(map.id()).isPositive();
            assertThat(info.type()).isEqualTo(MapType.HASH);
            assertThat(info.typeNumber()).isEqualTo(1);
            assertThat(info.keySize()).isEqualTo(4);
            assertThat(info.valueSize()).isEqualTo(8);
            assertThat(info.maxEntries()).isEqualTo(17);
            assertThat(info.flags()).isZero();

            MapInfo s = sockets.info();
            assertThat(s.name()).isEqualTo("info_sockmap");
            assertThat(s.type()).isEqualTo(MapType.SOCKMAP);
            assertThat(s.typeNumber()).isEqualTo(15);
            assertThat(s.maxEntries()).isEqualTo(3);
            assertThat(s.id()).isEqualTo(sockets.id()).isNotEqualTo(map.id());

            MapInfo t = trie.info();
            assertThat(t.typeNumber()).isEqualTo(11);
            assertThat(t.keySize()).isEqualTo(8);
            assertThat(t.flags()).as("BPF_F_NO_PREALLOC").isEqualTo(1);

            // The kernel's own view of the descriptor agrees on the id and type.
            String fdinfo = Files.readString(Path.of("/proc/self/fdinfo/" + map.fd().get()));
            assertThat(fdinfo).containsPattern("(?m)^map_id:\\s+" + map.id() + "$")
                    .containsPattern("(?m)^map_type:\\s+1$")
                    .containsPattern("(?m)^max_entries:\\s+17$");
            assertThat(map.memlockBytes()).isPositive();
            assertThat(map.toString()).contains("info_hash").contains(String.valueOf(map.id()));
        }
    }

    @Test
    void closingAMapClosesItsDescriptorOnce() {
        BpfMap<Integer, Long> map = BpfMap.create(MapSpec.of("close_twice", MapType.HASH, 4, 8, 1), Codec.u32(),
                Codec.u64());
        int fd = map.fd().get();
        assertThat(Path.of("/proc/self/fdinfo/" + fd)).exists();
        map.close();
        map.close();
        assertThat(map.isOpen()).isFalse();
        assertThatThrownBy(() -> map.lookup(1)).isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
    }

    private static int possibleCpus() throws IOException {
        int count = 0;
        for (String part : Files.readString(Path.of("/sys/devices/system/cpu/possible")).trim().split(",")) {
            String[] range = part.split("-");
            count += range.length == 1 ? 1 : Integer.parseInt(range[1]) - Integer.parseInt(range[0]) + 1;
        }
        return count;
    }
}
