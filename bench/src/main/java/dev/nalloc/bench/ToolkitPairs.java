package dev.nalloc.bench;

import dev.nalloc.TlsfHeap;
import dev.nalloc.toolkit.ArenaAllocator;
import dev.nalloc.toolkit.BlockPool;
import dev.nalloc.toolkit.ConcurrentBlockPool;
import dev.nalloc.toolkit.DebugAllocator;
import dev.nalloc.toolkit.LeakReporting;
import dev.nalloc.toolkit.SystemAllocator;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * The toolkit's hot paths, one 64-byte malloc+free pair (or one bump) per operation, to read
 * against {@code OneThread.tlsfHeap} and {@code OneThread.unsafe} of the same run:
 * {@code debugAllocator} / {@code debugAllocatorStacks} ({@link DebugAllocator} over a
 * {@code TlsfHeap}, stack capture off / on), {@code systemAllocator} ({@link SystemAllocator}:
 * libc plus its registry), {@code blockPool} ({@link BlockPool}, 256 B blocks),
 * {@code concurrentBlockPool} (one {@link ConcurrentBlockPool}; {@link Contended} runs it on two
 * threads) and {@code arenaBump} (one {@link ArenaAllocator} bump, reset every 4096). One size
 * only, to keep the quick mode of {@code scripts/bench-java.sh} under ten minutes.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 2, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
@State(Scope.Thread)
@Threads(1)
public class ToolkitPairs {
    @Param({"64"})
    public int size;

    /** The toolkit's allocators, one set per worker thread (the pools' shared form separately). */
    @State(Scope.Thread)
    public static class Toolkit {
        public TlsfHeap heap;
        public DebugAllocator debug;
        public DebugAllocator debugStacks;
        public SystemAllocator system;
        public BlockPool pool;
        public ArenaAllocator arena;
        int arenaBlocks;

        @Setup(Level.Trial)
        public void create() {
            heap = TlsfHeap.create((1 << 20));
            debug = new DebugAllocator("bench", heap, LeakReporting.LOG, false);
            debugStacks = new DebugAllocator("bench", heap, LeakReporting.LOG, true);
            system = new SystemAllocator();
            pool = BlockPool.over(system, 256, 16, 1024);
            arena = new ArenaAllocator(system, 1 << 20);
        }

        @TearDown(Level.Trial)
        public void close() {
            debug.close();
            debugStacks.close();
            heap.close();
            pool.close();
            arena.close();
            system.close();
        }
    }

    /** One {@link ConcurrentBlockPool} for all worker threads. */
    @State(Scope.Benchmark)
    public static class SharedPool {
        public SystemAllocator system;
        public ConcurrentBlockPool pool;

        @Setup(Level.Trial)
        public void create() {
            system = new SystemAllocator();
            pool = ConcurrentBlockPool.over(system, 256, 16, 1024);
        }

        @TearDown(Level.Trial)
        public void close() {
            pool.close();
            system.close();
        }
    }


    @Benchmark
    public void debugAllocator(Toolkit t, Blackhole bh) {
        long p = t.debug.malloc(size);
        bh.consume(p);
        t.debug.free(p);
    }

    @Benchmark
    public void debugAllocatorStacks(Toolkit t, Blackhole bh) {
        long p = t.debugStacks.malloc(size);
        bh.consume(p);
        t.debugStacks.free(p);
    }

    @Benchmark
    public void systemAllocator(Toolkit t, Blackhole bh) {
        long p = t.system.malloc(size);
        bh.consume(p);
        t.system.free(p);
    }

    @Benchmark
    public void blockPool(Toolkit t, Blackhole bh) {
        long p = t.pool.allocBlock();
        bh.consume(p);
        t.pool.freeBlock(p);
    }

    @Benchmark
    public void concurrentBlockPool(SharedPool s, Blackhole bh) {
        long p = s.pool.allocBlock();
        bh.consume(p);
        s.pool.freeBlock(p);
    }

    /** One bump per op; every 4096th op also resets the arena (its amortised cost included). */
    @Benchmark
    public void arenaBump(Toolkit t, Blackhole bh) {
        bh.consume(t.arena.malloc(size));
        if (++t.arenaBlocks == 4096) {
            t.arenaBlocks = 0;
            t.arena.reset();
        }
    }


    /** {@code concurrentBlockPool} with two threads on one pool head. */
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.NANOSECONDS)
    @Warmup(iterations = 5, time = 1)
    @Measurement(iterations = 5, time = 1)
    @Fork(value = 2, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
    @Threads(2)
    public static class Contended {
        @Benchmark
        public void concurrentBlockPool(SharedPool s, Blackhole bh) {
            long p = s.pool.allocBlock();
            bh.consume(p);
            s.pool.freeBlock(p);
        }
    }
}
