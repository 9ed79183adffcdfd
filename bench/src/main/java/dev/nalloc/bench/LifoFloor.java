package dev.nalloc.bench;

import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.*;
import org.openjdk.jmh.infra.Blackhole;
import sun.misc.Unsafe;

/**
 * The floor of any per-thread cache on this machine: the pair loop of {@code smmallocFast} reduced
 * to a bare native LIFO stack of block addresses (a count and a slot array, addresses from a fake
 * 16-bucket reservation), with no checks ({@code lifoFloor}) and with only the compare-and-swap on a
 * per-block state word that makes double frees exact ({@code lifoFloorCas}). A pair loop is latency
 * bound: the free's bucket comes from the address malloc just loaded, and the next malloc's count
 * from the store the free just made, so the loop runs at the speed of three store-to-load
 * forwardings in a row, whatever else the code does. Not an allocator: nothing is validated.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 2, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
@State(Scope.Thread)
public class LifoFloor {
    static final Unsafe U = AllocPairs.UNSAFE;
    long raw, base, counts, slots, side;
    int strideLog2 = 20;
    long dataSpan = 16L << 20;
    int size = 64;

    @Setup(Level.Trial)
    public void setup() {
        raw = U.allocateMemory((16L << 20) + 4096);
        base = (raw + 4095) & ~4095L;
        counts = U.allocateMemory(64 * 4);
        slots = U.allocateMemory(16 * 64 * 8);
        side = U.allocateMemory(16 * 65536 * 4);
        U.setMemory(side, 16 * 65536 * 4, (byte) 0);
        for (int b = 0; b < 16; b++) {
            for (int j = 0; j < 32; j++) {
                U.putLong(slots + (b * 64 + j) * 8L, base + ((long) b << strideLog2) + j * 16L * (b + 1));
                U.putInt(side + (b * 65536L + j) * 4, -2);
            }
            U.putInt(counts + b * 4L, 32);
        }
    }

    @TearDown(Level.Trial)
    public void release() {
        U.freeMemory(raw);
        U.freeMemory(counts);
        U.freeMemory(slots);
        U.freeMemory(side);
    }

    long malloc(long size) {
        long bucket = (size - 1) >>> 4;
        long ca = counts + (bucket << 2);
        int n = U.getInt(ca);
        long p = U.getLong(slots + ((bucket << 6) + n - 1) * 8);
        U.putInt(ca, n - 1);
        return p;
    }

    void freePlain(long p) {
        long off = p - base;
        long bucket = off >>> strideLog2;
        long ca = counts + (bucket << 2);
        int n = U.getInt(ca);
        U.putLong(slots + ((bucket << 6) + n) * 8, p);
        U.putInt(ca, n + 1);
    }

    void freeCas(long p) {
        long off = p - base;
        long bucket = off >>> strideLog2;
        long within = off & ((1L << strideLog2) - 1);
        long k = ((within >>> 4) * ((1L << 32) / (bucket + 1) + 1)) >>> 32;
        long ca = counts + (bucket << 2);
        int n = U.getInt(ca);
        if (!U.compareAndSwapInt(null, side + (bucket * 65536 + k) * 4, -1, -2)) throw new IllegalStateException();
        U.putLong(slots + ((bucket << 6) + n) * 8, p);
        U.putInt(ca, n + 1);
    }

    long mallocMark(long size) {
        long p = malloc(size);
        long off = p - base;
        long bucket = off >>> strideLog2;
        long within = off & ((1L << strideLog2) - 1);
        long k = ((within >>> 4) * ((1L << 32) / (bucket + 1) + 1)) >>> 32;
        U.putInt(side + (bucket * 65536 + k) * 4, -1);
        return p;
    }

    @Benchmark
    public void lifoFloor(Blackhole bh) {
        long p = malloc(size);
        bh.consume(p);
        freePlain(p);
    }

    @Benchmark
    public void lifoFloorCas(Blackhole bh) {
        long p = mallocMark(size);
        bh.consume(p);
        freeCas(p);
    }
}
