package dev.nalloc;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.util.function.LongUnaryOperator;
import org.junit.jupiter.api.Test;

/**
 * The public hot methods allocate no Java object: a long run of them leaves this thread's
 * allocated-bytes counter practically unchanged (one object per call would add at least
 * 16 bytes x CALLS).
 */
class HotPathTest {
    private static final int CALLS = 200_000;
    private static final long SLACK_BYTES = 64 * 1024;
    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    private static void assertAllocatesNothing(LongUnaryOperator loop) {
        loop.applyAsLong(20_000); // link the natives, warm up
        long before = THREADS.getThreadAllocatedBytes(Thread.currentThread().getId());
        long sink = loop.applyAsLong(CALLS);
        long allocated = THREADS.getThreadAllocatedBytes(Thread.currentThread().getId()) - before;
        assertTrue(allocated < SLACK_BYTES, allocated + " bytes allocated over " + CALLS + " iterations (" + sink + ")");
    }

    @Test
    void tlsfHeapHotMethods() {
        try (TlsfHeap heap = TlsfHeap.create(1 << 20)) {
            assertAllocatesNothing(n -> {
                long sink = 0;
                for (int i = 0; i < n; i++) {
                    long p = (i & 1) == 0 ? heap.malloc(16 + (i & 255)) : heap.malloc(16 + (i & 255), 64);
                    sink += heap.size(p);
                    p = heap.realloc(p, 300 - (i & 255));
                    heap.free(p);
                    heap.free(0);
                }
                return sink;
            });
        }
    }

    @Test
    void sharedTlsfHeapHotMethods() {
        try (SharedTlsfHeap heap = SharedTlsfHeap.create(1 << 20)) {
            assertAllocatesNothing(n -> {
                long sink = 0;
                for (int i = 0; i < n; i++) {
                    long p = heap.malloc(16 + (i & 255));
                    sink += heap.size(p);
                    heap.free(heap.realloc(p, 300 - (i & 255)));
                }
                return sink;
            });
        }
    }

    @Test
    void smmallocHotMethods() {
        try (Smmalloc sm = new Smmalloc(8, 1 << 20); ThreadCache cache = sm.threadCache(4096, CacheWarmup.WARM)) {
            long[] batch = new long[16];
            assertAllocatesNothing(n -> {
                long sink = 0;
                for (int i = 0; i < n; i += batch.length) {
                    for (int j = 0; j < batch.length; j++) {
                        batch[j] = (j & 1) == 0 ? sm.malloc(16 + 8 * j) : sm.malloc(16 + 8 * j, 16);
                        sink += sm.size(batch[j]) + sm.bucket(batch[j]);
                    }
                    batch[0] = sm.realloc(batch[0], 100);
                    batch[1] = sm.realloc(batch[1], 40, 32);
                    sm.free(batch[2]);
                    batch[2] = 0;
                    sm.free(batch, batch.length);
                }
                return sink;
            });
        }
    }

    @Test
    void threadCacheFastPath() {
        try (Smmalloc sm = new Smmalloc(8, 1 << 20); ThreadCache cache = sm.threadCache(1024, CacheWarmup.COLD)) {
            long[] held = new long[100]; // more than a bucket's capacity: refills and hand-backs too
            assertAllocatesNothing(n -> {
                long sink = 0;
                for (int i = 0; i < n; i += held.length) {
                    for (int j = 0; j < held.length; j++) {
                        held[j] = cache.malloc(1 + (j & 127));
                        sink += held[j];
                    }
                    for (long p : held) {
                        cache.free(p);
                    }
                }
                return sink;
            });
        }
    }
}
