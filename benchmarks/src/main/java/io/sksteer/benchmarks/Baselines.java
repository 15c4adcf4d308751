package io.sksteer.benchmarks;

import static io.sksteer.bpf.Reg.R6;
import static io.sksteer.bpf.Reg.R7;
import static io.sksteer.bpf.Reg.R8;

import io.sksteer.bpf.BpfProgram;
import io.sksteer.bpf.MapSpec;
import io.sksteer.bpf.SocketMap;
import io.sksteer.bpf.sklookup.SkLookup;
import io.sksteer.bpf.sklookup.SkLookupProgram;
import java.util.ArrayList;
import java.util.List;

/**
 * The two reference programs every dispatch figure is compared with: the cheapest sk_lookup
 * program there is, and the least any steering program must do.
 */
final class Baselines implements AutoCloseable {

    static final String SOCKETS = "floor_sockets";

    private final SocketMap<Integer> sockets;
    private final BpfProgram empty;
    private final List<BpfProgram> floors;

    private Baselines(SocketMap<Integer> sockets, BpfProgram empty, List<BpfProgram> floors) {
        this.sockets = sockets;
        this.empty = empty;
        this.floors = floors;
    }

    /**
     * Loads the empty program and one floor program per slot of a new SOCKMAP of {@code slots}
     * slots; the caller fills the slots.
     */
    static Baselines load(int slots) {
        SocketMap<Integer> sockets = SocketMap.createSockMap(MapSpec.sockMap(SOCKETS, slots));
        BpfProgram empty = null;
        List<BpfProgram> floors = new ArrayList<>();
        try {
            // Returns SK_PASS and nothing else: the cost of running any program at all.
            empty = BpfProgram.load(SkLookupProgram.builder("bench_empty").build(), List.of());
            for (int slot = 0; slot < slots; slot++) {
                // One SOCKMAP lookup, sk_assign, sk_release, SK_PASS: the floor of any dispatcher.
                floors.add(BpfProgram.load(SkLookupProgram.builder("bench_floor_" + slot)
                        .body(SkLookup.assignAndPass("floor", R6, SOCKETS, slot, 0, R7, R8))
                        .build(), List.of(sockets)));
            }
            return new Baselines(sockets, empty, List.copyOf(floors));
        } catch (RuntimeException e) {
            floors.forEach(BpfProgram::close);
            if (empty != null) {
                empty.close();
            }
            sockets.close();
            throw e;
        }
    }

    SocketMap<Integer> sockets() {
        return sockets;
    }

    BpfProgram empty() {
        return empty;
    }

    /** The floor program assigning the socket of {@code slot}. */
    BpfProgram floor(int slot) {
        return floors.get(slot);
    }

    @Override
    public void close() {
        floors.forEach(BpfProgram::close);
        empty.close();
        sockets.close();
    }
}
