package io.sksteer.steering;

import io.sksteer.bpf.BpfFeatures;
import io.sksteer.bpf.BpfMap;
import io.sksteer.bpf.BpfProgram;
import io.sksteer.bpf.Codec;
import io.sksteer.bpf.KernelMap;
import io.sksteer.bpf.MapFlag;
import io.sksteer.bpf.MapSpec;
import io.sksteer.bpf.MapType;
import io.sksteer.bpf.PerCpuArray;
import io.sksteer.bpf.ProgramSpec;
import io.sksteer.bpf.SocketMap;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;

/**
 * The dispatcher's kernel objects: its ten maps and its program, which loads on a thread of its
 * own while the maps are filled (the verifier takes a while). Owns them and closes them; writes
 * nothing into them ({@link GenerationWriter} does).
 */
final class DispatcherObjects implements AutoCloseable {

    private final List<KernelMap> maps = new ArrayList<>();
    final BpfMap<Integer, Integer> ports;
    final BpfMap<Integer, Long> buckets;
    final BpfMap<Integer, Integer> state;
    final BpfMap<Integer, Long> globals;
    final BpfMap<Integer, byte[]> lengths;
    final BpfMap<Integer, byte[]> table;
    final BpfMap<byte[], byte[]> singles;
    final BpfMap<byte[], byte[]> summaries;
    final SocketMap<Integer> sockets;
    final PerCpuArray<RuleCounters> counters;
    private final FutureTask<BpfProgram> loading;
    private volatile BpfProgram program;

    /**
     * Creates the maps and starts loading the program.
     *
     * @param sockets SOCKMAP slots (one per listener)
     * @throws RuntimeException when a map cannot be created; nothing is left open then
     */
    DispatcherObjects(int maxRules, int sockets, boolean dropOnMissing) {
        int bucketBits = DispatchTables.bucketBits(maxRules);
        int tableBits = DispatchTables.tableBits(maxRules);
        try {
            ports = add(BpfMap.create(mapped(DispatcherProgram.PORTS, 4, DispatchLayout.PORT_ENTRIES),
                    Codec.u32(), Codec.u32()));
            buckets = add(BpfMap.create(mapped(DispatcherProgram.BUCKETS, 8, 4 << bucketBits),
                    Codec.u32(), Codec.u64()));
            state = add(BpfMap.create(MapSpec.of(DispatcherProgram.STATE, MapType.ARRAY, 4, 4, 1), Codec.u32(), Codec.u32()));
            globals = add(BpfMap.create(mapped(DispatcherProgram.GLOBALS, 8, 2 * 4), Codec.u32(), Codec.u64()));
            lengths = add(BpfMap.create(mapped(DispatcherProgram.LENGTHS, DispatchLayout.LENGTH_RECORD,
                    2 * 4 * DispatchLayout.MAX_LENGTHS), Codec.u32(), Codec.bytes(DispatchLayout.LENGTH_RECORD)));
            table = add(BpfMap.create(mapped(DispatcherProgram.TABLE, DispatchLayout.TABLE_BUCKET, 1 << tableBits),
                    Codec.u32(), Codec.bytes(DispatchLayout.TABLE_BUCKET)));
            // The overflow of the table. Sized for the worst case, every entry of both rule sets of
            // a change overflowing: per set, expansions stop at the singles budget, and true single
            // ports and port-0 entries come from at most maxRules rules.
            singles = add(BpfMap.create(new MapSpec(DispatcherProgram.SINGLES, MapType.HASH, DispatchLayout.KEY_SIZE,
                    2 * DispatchLayout.SINGLE_HALF, 2 * (maxRules + DispatchTables.singlesBudget(maxRules)),
                    Set.of(MapFlag.BPF_F_NO_PREALLOC)),
                    Codec.bytes(DispatchLayout.KEY_SIZE), Codec.bytes(2 * DispatchLayout.SINGLE_HALF)));
            summaries = add(BpfMap.create(new MapSpec(DispatcherProgram.SUMMARIES, MapType.HASH, DispatchLayout.KEY_SIZE,
                    2 * DispatchLayout.SUMMARY_HALF, maxRules, Set.of(MapFlag.BPF_F_NO_PREALLOC)),
                    Codec.bytes(DispatchLayout.KEY_SIZE), Codec.bytes(2 * DispatchLayout.SUMMARY_HALF)));
            this.sockets = add(SocketMap.createSockMap(MapSpec.sockMap(DispatcherProgram.SOCKETS, Math.max(1, sockets))));
            // One more than the rules: the last counts test runs (explain), which must not count as traffic.
            counters = add(PerCpuArray.create(MapSpec.of(DispatcherProgram.COUNTERS, MapType.PERCPU_ARRAY, 4,
                    DispatchLayout.COUNTERS_VALUE, maxRules + 1),
                    Codec.of(DispatchLayout.COUNTERS_VALUE,
                            (c, b) -> b.putLong(c.lookups()).putLong(c.steered()).putLong(c.missingSocket()).putLong(c.assignErrors()),
                            b -> new RuleCounters(b.getLong(), b.getLong(), b.getLong(), b.getLong()))));
            ProgramSpec spec = DispatcherProgram.spec(bucketBits, tableBits, dropOnMissing,
                    BpfFeatures.ingressIfindex().isAvailable() ? maxRules : -1);
            List<KernelMap> used = List.copyOf(maps);
            loading = new FutureTask<>(() -> BpfProgram.load(spec, used));
            Thread loader = new Thread(loading, "sksteer-program-load");
            loader.setDaemon(true);
            loader.start();
        } catch (RuntimeException e) {
            closeMaps(e);
            throw e;
        }
    }

    /** An ARRAY user space writes through a mapping: no system call per element. */
    private static MapSpec mapped(String name, int valueSize, int entries) {
        return new MapSpec(name, MapType.ARRAY, 4, valueSize, entries, Set.of(MapFlag.BPF_F_MMAPABLE));
    }

    private <M extends KernelMap> M add(M map) {
        maps.add(map);
        return map;
    }

    /** Waits for the program's load to finish, rethrowing its failure as it was. */
    BpfProgram awaitProgram() {
        program = loaded();
        return program;
    }

    /** The loaded program (null until {@link #awaitProgram} returned it). */
    BpfProgram program() {
        return program;
    }

    /** The maps, in the order they were created. */
    List<KernelMap> maps() {
        return List.copyOf(maps);
    }

    private BpfProgram loaded() {
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    return loading.get();
                } catch (InterruptedException e) {
                    interrupted = true;          // the load is a system call: it finishes anyway
                }
            }
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            if (e.getCause() instanceof Error err) {
                throw err;
            }
            throw new IllegalStateException("loading the dispatcher program failed", e.getCause());
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * Closes the program and the maps (after its load, if it is still loading). Attached through a
     * link, the program keeps running (and keeps the maps alive) until the link closes.
     */
    @Override
    public void close() {
        if (program == null && loading != null) {
            try {
                program = loaded();
            } catch (RuntimeException e) {
                // it failed to load: nothing to close (create() already threw its error)
            }
        }
        if (program != null) {
            program.close();
        }
        closeMaps(null);
    }

    private void closeMaps(RuntimeException primary) {
        for (KernelMap m : maps) {
            try {
                m.close();
            } catch (RuntimeException e) {
                if (primary != null) {
                    primary.addSuppressed(e);
                }
            }
        }
    }
}
