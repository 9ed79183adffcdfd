package dev.nalloc;

import static dev.nalloc.Subjects.assertWorks;
import static dev.nalloc.Subjects.drain;
import static dev.nalloc.Subjects.handOff;
import static dev.nalloc.Subjects.stamp;
import static dev.nalloc.Subjects.fill;
import static dev.nalloc.Subjects.holds;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLongArray;
import org.junit.jupiter.api.Test;

/** {@link SharedTlsfHeap} used by several threads at once, blocks crossing threads. */
class SharedTlsfHeapTest {
    private static final int THREADS = 4;
    private static final int OPS = 20_000;
    private static final int SLOTS = 512;

    @Test
    void severalThreadsAllocateAndFreeEachOthersBlocks() throws Exception {
        try (SharedTlsfHeap heap = SharedTlsfHeap.create(8 << 20)) {
            // Each slot holds a block written by one thread; whoever swaps it out verifies and frees it.
            AtomicLongArray slots = new AtomicLongArray(SLOTS);
            ExecutorService pool = Executors.newFixedThreadPool(THREADS);
            List<Future<Integer>> results = new ArrayList<>();
            for (int t = 0; t < THREADS; t++) {
                int seed = t;
                results.add(pool.submit(() -> worker(heap, slots, seed)));
            }
            int errors = 0;
            for (Future<Integer> f : results) {
                errors += f.get();
            }
            pool.shutdown();
            assertTrue(pool.awaitTermination(1, TimeUnit.MINUTES));
            assertEquals(0, errors, "blocks that lost their contents or could not be allocated");
            heap.check();
            assertEquals(0, drain(heap, slots));
            TlsfStats s = heap.stats();
            assertEquals(0, s.usedBlocks());
            assertEquals(1, s.freeBlocks(), "everything coalesced");
            assertWorks(heap);
        }
    }

    private static int worker(SharedTlsfHeap heap, AtomicLongArray slots, int seed) {
        SplittableRandom random = new SplittableRandom(seed);
        int errors = 0;
        for (int i = 0; i < OPS; i++) {
            long p = random.nextInt(8) == 0 ? heap.malloc(16 + random.nextInt(2000), 64) : heap.malloc(16 + random.nextInt(2000));
            if (p == 0) {
                errors++;
                continue;
            }
            fill(heap, p, 16, i);
            if (random.nextBoolean()) {
                long q = heap.realloc(p, 16 + random.nextInt(3000));
                if (q == 0 || !holds(heap, q, 16, i)) {
                    errors++;
                    continue;
                }
                p = q;
            }
            stamp(heap, p);
            errors += handOff(heap, slots, random.nextInt(SLOTS), p);
        }
        return errors;
    }

    @Test
    void everyMethodDelegates() {
        SharedTlsfHeap heap = SharedTlsfHeap.create(Subjects.HEAP_BYTES);
        long p = heap.malloc(100);
        assertEquals(1, heap.stats().usedBlocks());
        assertEquals(heap.size(p), heap.view(p).capacity());
        assertEquals(10, heap.view(p, 10).capacity());
        assertEquals(0, heap.trim());
        heap.check();
        assertTrue(heap.toString().startsWith("SharedTlsfHeap[pools=1 "), heap.toString());
        assertThrows(IllegalArgumentException.class, () -> SharedTlsfHeap.create(1));
        heap.free(p);
        heap.close();
        assertEquals("SharedTlsfHeap[closed]", heap.toString());
        assertThrows(IllegalStateException.class, heap::stats);
        assertThrows(IllegalStateException.class, heap::trim);
        assertThrows(IllegalStateException.class, () -> heap.view(p, 1));
        heap.close();
    }

    @Test
    void concurrentGrowthThroughAChunkAllocator() throws Exception {
        CountingChunks chunks = new CountingChunks();
        try (SharedTlsfHeap heap = SharedTlsfHeap.create(64 * 1024, chunks)) {
            ExecutorService pool = Executors.newFixedThreadPool(THREADS);
            List<Future<long[]>> results = new ArrayList<>();
            for (int t = 0; t < THREADS; t++) {
                results.add(pool.submit(() -> {
                    long[] blocks = new long[500];
                    for (int i = 0; i < blocks.length; i++) {
                        blocks[i] = heap.malloc(1000);
                    }
                    return blocks;
                }));
            }
            for (Future<long[]> f : results) {
                for (long p : f.get()) {
                    assertNotEquals(0, p);
                    heap.free(p);
                }
            }
            pool.shutdown();
            assertTrue(pool.awaitTermination(1, TimeUnit.MINUTES));
            heap.check();
            assertEquals(chunks.allocated.size(), heap.stats().pools());
        }
        assertEquals(chunks.allocated.size(), chunks.freed.size());
    }
}
