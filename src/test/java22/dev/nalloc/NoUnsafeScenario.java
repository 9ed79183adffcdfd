package dev.nalloc;

import dev.nalloc.buffer.ByteBufferAllocator;
import dev.nalloc.buffer.NativeByteBuffer;
import dev.nalloc.buffer.NativeDoubleBuffer;
import dev.nalloc.buffer.NativeFloatBuffer;
import dev.nalloc.buffer.NativeIntBuffer;
import dev.nalloc.buffer.NativeLongBuffer;
import dev.nalloc.ffm.NallocArena;
import dev.nalloc.ffm.NallocSegmentAllocator;
import dev.nalloc.internal.DirectBufferFactory;
import dev.nalloc.internal.RawMemory;
import dev.nalloc.toolkit.ArenaAllocator;
import dev.nalloc.toolkit.BlockPool;
import dev.nalloc.toolkit.ConcurrentBlockPool;
import dev.nalloc.toolkit.DebugAllocator;
import dev.nalloc.toolkit.LeakReporting;
import dev.nalloc.toolkit.LinearAllocator;
import dev.nalloc.toolkit.SystemAllocator;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Every public class of the library, run by {@link NoUnsafeTest} in a JVM where
 * {@code sun.misc.Unsafe}'s memory access throws: the allocators, the ThreadCache fast path (long
 * enough for the JIT to compile it, and with a double free), views, the toolkit, the buffers, the
 * FFM adapter and {@link LoadCheck}. Prints {@code ALL OK} last; a failed check throws.
 */
public final class NoUnsafeScenario {
    private NoUnsafeScenario() {}

    public static void main(String[] args) throws Exception {
        if (args.length > 0 && args[0].equals("status")) { // RawMemory alone, no native library
            System.out.println("fast path " + RawMemory.ENABLED + ", views in Java " + DirectBufferFactory.isFast()
                    + ": " + RawMemory.STATUS);
            return;
        }
        threadCache();
        try (TlsfHeap heap = TlsfHeap.create(1 << 20)) {
            exercise(heap);
            heap.view(heap.malloc(64)).putLong(0, 1L);
            heap.stats();
            heap.check();
        }
        try (SharedTlsfHeap heap = SharedTlsfHeap.create(1 << 20)) {
            exercise(heap);
            long p = heap.malloc(64);
            heap.view(p, 8).putLong(0, 1L);
            heap.free(p);
            heap.stats();
            heap.check();
        }
        try (Smmalloc sm = new Smmalloc(8, 1 << 20)) {
            exercise(sm);
            ExecutorService pool = SmmallocExecutors.newFixedThreadPool(sm, 2, 1024, CacheWarmup.WARM);
            try {
                // workers of the pool use their own caches' fast path; blocks cross threads
                long block = pool.submit(() -> sm.currentThreadCache().malloc(32)).get();
                pool.submit(() -> sm.currentThreadCache().free(block)).get();
            } finally {
                pool.shutdown();
            }
            check(pool.awaitTermination(30, TimeUnit.SECONDS), "pool ended");
            sm.stats();
            sm.check();
        }
        try (TlsfHeap growing = TlsfHeap.create(TlsfHeap.minimumBytes() + 4096, new SystemChunks())) {
            long[] blocks = new long[64];
            for (int i = 0; i < blocks.length; i++) {
                blocks[i] = growing.malloc(1000); // past the first pool: the heap grows by chunks
            }
            for (long b : blocks) {
                growing.free(b);
            }
            growing.check();
        }
        try (SystemAllocator system = new SystemAllocator()) {
            exercise(system);
            toolkit(system);
            buffers(system);
            ffm(system);
        }
        LoadCheck.main(new String[0]);
        System.out.println("ALL OK");
    }

    private static void threadCache() {
        try (Smmalloc sm = new Smmalloc(8, 1 << 20); ThreadCache cache = sm.threadCache(1024, CacheWarmup.WARM)) {
            check(cache.isFastPath(), "ThreadCache fast path on by default: " + ThreadCache.fastPathStatus());
            long sum = 0;
            for (int i = 0; i < 200_000; i++) { // C2 compiles malloc and free
                long p = cache.malloc(16 + 16 * (i & 7));
                sum += p;
                cache.free(p);
            }
            check(sum != 0 && cache.isFastPath(), "still on after " + 200_000 + " pairs");
            long p = cache.malloc(48);
            cache.view(p).putLong(40, 7L);
            check(sm.view(p, 48).getLong(40) == 7L, "a cache view and an allocator view see the same bytes");
            cache.free(p);
            try {
                cache.free(p);
                throw new AssertionError("a double free through the fast path was accepted");
            } catch (IllegalArgumentException expected) {
                // the fast path's compare-and-swap on the block's state word refused it
            }
            long q = sm.malloc(32); // a block from the other door comes home to the cache
            cache.free(q);
            check(sm.stats().buckets().stream().mapToLong(SmmallocStats.BucketStats::blocksInUse).sum() == 0,
                    "nothing in use");
            sm.check();
            System.out.println("ThreadCache: " + cache + ", " + ThreadCache.fastPathStatus());
        }
    }

    private static void exercise(NativeAllocator a) {
        long p = a.malloc(100);
        check(p != 0 && a.size(p) >= 100, a + ": malloc");
        long q = a.malloc(64, 64);
        check(q != 0 && (q & 63) == 0, a + ": aligned malloc");
        p = a.realloc(p, 3000);
        check(p != 0, a + ": realloc");
        if (a.supportsFree()) {
            a.free(p);
            a.free(q);
        }
    }

    private static void toolkit(NativeAllocator parent) {
        try (ArenaAllocator arena = new ArenaAllocator(parent)) {
            exercise(arena);
        }
        try (BlockPool pool = BlockPool.over(parent, 64, 16, 32)) {
            long b = pool.allocBlock();
            pool.freeBlock(b);
        }
        try (ConcurrentBlockPool pool = ConcurrentBlockPool.over(parent, 64, 16, 32)) {
            long b = pool.allocBlock();
            pool.freeBlock(b);
        }
        try (LinearAllocator linear = LinearAllocator.over(parent, 1 << 16)) {
            exercise(linear);
        }
        try (DebugAllocator debug = new DebugAllocator("no-unsafe", parent, LeakReporting.THROW, true)) {
            exercise(debug);
        }
    }

    private static void buffers(NativeAllocator a) {
        try (NativeByteBuffer b = NativeByteBuffer.allocate(a, 100)) {
            b.set(3, (byte) 5);
            b.fill((byte) 1);
            b.copyFrom(new byte[] {9, 8, 7});
            check(b.get(0) == 9 && b.get(99) == 1 && b.toArray().length == 100, "NativeByteBuffer");
            check(b.asByteBuffer().get(1) == 8, "NativeByteBuffer.asByteBuffer");
        }
        try (NativeIntBuffer b = NativeIntBuffer.allocate(a, 10)) {
            b.set(9, 42);
            check(b.get(9) == 42, "NativeIntBuffer");
        }
        try (NativeLongBuffer b = NativeLongBuffer.allocate(a, 10)) {
            b.set(9, 42L);
            check(b.get(9) == 42L, "NativeLongBuffer");
        }
        try (NativeFloatBuffer b = NativeFloatBuffer.allocate(a, 10)) {
            b.set(9, 4.5f);
            check(b.get(9) == 4.5f, "NativeFloatBuffer");
        }
        try (NativeDoubleBuffer b = NativeDoubleBuffer.allocate(a, 10)) {
            b.set(9, 4.5);
            check(b.get(9) == 4.5, "NativeDoubleBuffer");
        }
        ByteBufferAllocator buffers = new ByteBufferAllocator(a, ByteBufferAllocator.SafetyNet.FREE);
        ByteBuffer direct = buffers.allocateDirect(256);
        direct.putLong(248, 3L);
        check(direct.isDirect() && direct.getLong(248) == 3L, "ByteBufferAllocator");
        buffers.free(direct);
    }

    private static void ffm(NativeAllocator a) {
        try (Arena arena = NallocArena.ofConfined(a)) {
            MemorySegment s = arena.allocate(100);
            s.set(ValueLayout.JAVA_LONG, 8, 5L);
            check(s.get(ValueLayout.JAVA_LONG, 8) == 5L, "NallocArena");
        }
        NallocSegmentAllocator segments = NallocSegmentAllocator.of(a);
        MemorySegment s = segments.allocate(ValueLayout.JAVA_INT, 4);
        check(s.byteSize() == 16, "NallocSegmentAllocator");
        segments.free(s);
    }

    /** Chunks from the system allocator, for a growing {@link TlsfHeap}. */
    private static final class SystemChunks implements ChunkAllocator {
        private final SystemAllocator system = new SystemAllocator();

        @Override
        public long allocateChunk(long minBytes) {
            return system.malloc(minBytes, 16);
        }

        @Override
        public void freeChunk(long address, long bytes) {
            system.free(address);
        }
    }

    private static void check(boolean ok, String what) {
        if (!ok) {
            throw new AssertionError(what);
        }
    }
}
