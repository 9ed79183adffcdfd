package dev.nalloc;

import static dev.nalloc.Subjects.assertWorks;
import static dev.nalloc.Subjects.fill;
import static dev.nalloc.Subjects.holds;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@link TlsfHeap#create(long, ChunkAllocator)}: growth, chunk bookkeeping, trim and close. */
class TlsfHeapGrowthTest {
    private static final long INITIAL = 64 * 1024;

    @Test
    void growsGeometricallyAndHandsEveryChunkBack() {
        CountingChunks chunks = new CountingChunks();
        TlsfHeap heap = TlsfHeap.create(INITIAL, chunks);
        assertEquals(1, chunks.allocated.size());
        assertEquals(INITIAL, chunks.allocated.get(0).bytes());
        List<Long> blocks = new ArrayList<>();
        for (int i = 0; i < 4200; i++) { // about 4 MiB in 1000-byte blocks
            long p = heap.malloc(1000);
            assertNotEquals(0, p, "block " + i);
            fill(heap, p, 16, i);
            blocks.add(p);
        }
        TlsfStats s = heap.stats();
        assertEquals(chunks.allocated.size(), s.pools());
        // 64 KiB doubling to >= 4 MiB: 1 + log2(64) = 7 pools; never more than that.
        assertTrue(s.pools() >= 2 && s.pools() <= 8, "pools=" + s.pools());
        assertTrue(s.poolBytes() <= chunks.bytesAllocated());
        heap.check();
        for (int i = 0; i < blocks.size(); i++) {
            assertTrue(holds(heap, blocks.get(i), 16, i), "block " + i);
        }
        heap.close();
        assertEquals(chunks.allocated.size(), chunks.freed.size());
        assertTrue(chunks.freed.containsAll(chunks.allocated), "each chunk handed back with its own address and size");
        heap.close();
        assertEquals(chunks.allocated.size(), chunks.freed.size(), "close twice hands nothing back twice");
    }

    @Test
    void aRequestLargerThanTheNextChunkGetsAChunkOfItsOwn() {
        CountingChunks chunks = new CountingChunks();
        try (TlsfHeap heap = TlsfHeap.create(INITIAL, chunks)) {
            long big = heap.malloc(10 << 20);
            assertNotEquals(0, big);
            assertEquals(2, chunks.allocated.size());
            assertTrue(chunks.allocated.get(1).bytes() >= (10 << 20));
            assertEquals(0, chunks.allocated.get(1).bytes() % 4096, "growth chunks are whole pages");
            long aligned = heap.malloc(100_000, 4096);
            assertNotEquals(0, aligned);
            assertEquals(0, aligned % 4096);
            heap.free(big);
            heap.free(aligned);
            heap.check();
        }
        assertEquals(chunks.allocated.size(), chunks.freed.size());
    }

    @Test
    void reallocGrowsTheHeapAndKeepsContents() {
        CountingChunks chunks = new CountingChunks();
        try (TlsfHeap heap = TlsfHeap.create(INITIAL, chunks)) {
            long p = heap.malloc(1000, 256);
            fill(heap, p, 1000, 4);
            long q = heap.realloc(p, 1 << 20);
            assertNotEquals(0, q);
            assertEquals(0, q % 256, "alignment kept across the move into a new pool");
            assertTrue(holds(heap, q, 1000, 4));
            assertEquals(2, heap.stats().pools());
            heap.free(q);
            heap.check();
        }
    }

    @Test
    void aRefusingChunkAllocatorMeansMallocReturnsZero() {
        CountingChunks chunks = new CountingChunks();
        chunks.budget = INITIAL + 256 * 1024; // the first chunk and a bit
        try (TlsfHeap heap = TlsfHeap.create(INITIAL, chunks)) {
            List<Long> blocks = new ArrayList<>();
            long p;
            while ((p = heap.malloc(4000)) != 0) {
                blocks.add(p);
            }
            assertTrue(blocks.size() > 16, "served " + blocks.size());
            int pools = heap.stats().pools();
            assertEquals(0, heap.malloc(4000));
            assertEquals(pools, heap.stats().pools(), "a refused chunk adds nothing");
            long last = blocks.get(blocks.size() - 1);
            fill(heap, last, 4000, 2);
            assertEquals(0, heap.realloc(last, 1 << 20), "realloc that cannot grow: 0");
            assertTrue(holds(heap, last, 4000, 2), "and the old block is intact");
            heap.check();
            for (long b : blocks) {
                heap.free(b);
            }
            assertWorks(heap);
        }
        assertEquals(chunks.allocated.size(), chunks.freed.size());
    }

    @Test
    void aRefusedDoubledChunkIsRetriedAtTheNeededSize() {
        CountingChunks chunks = new CountingChunks();
        try (TlsfHeap heap = TlsfHeap.create(1 << 20, chunks)) {
            chunks.budget = 256 * 1024; // less than the doubling (1 MiB), enough for the request
            long p = heap.malloc(900_000);
            assertNotEquals(0, p);
            assertEquals(1, chunks.allocated.size(), "fits the first region");
            long q = heap.malloc(200_000);
            assertNotEquals(0, q, "served from a chunk of the needed size");
            assertTrue(chunks.allocated.get(1).bytes() < (1 << 20), "bytes=" + chunks.allocated.get(1).bytes());
            heap.free(p);
            heap.free(q);
            heap.check();
        }
    }

    @Test
    void misalignedChunksAreAlignedInside() {
        CountingChunks chunks = new CountingChunks();
        chunks.misalign = 8;
        try (TlsfHeap heap = TlsfHeap.create(INITIAL, chunks)) {
            assertEquals(8, chunks.allocated.get(0).address() % 16, "the allocator really misaligns");
            List<Long> blocks = new ArrayList<>();
            for (int i = 0; i < 500; i++) {
                long p = heap.malloc(1000);
                assertNotEquals(0, p);
                assertEquals(0, p % 16);
                blocks.add(p);
            }
            assertTrue(heap.stats().pools() > 1);
            heap.check();
            for (long p : blocks) {
                heap.free(p);
            }
            heap.check();
        }
        assertTrue(chunks.freed.containsAll(chunks.allocated), "handed back with the misaligned addresses");
        assertEquals(chunks.allocated.size(), chunks.freed.size());
    }

    @Test
    void firstChunkFailures() {
        long min = TlsfHeap.minimumBytes();
        CountingChunks chunks = new CountingChunks();
        assertThrows(IllegalArgumentException.class, () -> TlsfHeap.create(min - 1, chunks));
        assertTrue(chunks.allocated.isEmpty(), "no chunk asked for a refused size");
        assertThrows(NullPointerException.class, () -> TlsfHeap.create(INITIAL, null));

        chunks.budget = 0;
        OutOfMemoryError oom = assertThrows(OutOfMemoryError.class, () -> TlsfHeap.create(INITIAL, chunks));
        assertEquals("chunk allocator refused initialBytes=" + INITIAL, oom.getMessage());

        CountingChunks misaligned = new CountingChunks();
        misaligned.misalign = 8;
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> TlsfHeap.create(min, misaligned));
        assertTrue(e.getMessage().startsWith("first chunk address="), e.getMessage());
        assertEquals(misaligned.allocated, misaligned.freed, "the unusable chunk is handed back");
    }

    @Test
    void chunkAllocatorExceptionsPropagateAndTheHeapStaysUsable() {
        CountingChunks chunks = new CountingChunks();
        try (TlsfHeap heap = TlsfHeap.create(INITIAL, chunks)) {
            RuntimeException boom = new RuntimeException("boom");
            chunks.failAllocate = boom;
            assertSame(boom, assertThrows(RuntimeException.class, () -> heap.malloc(1 << 20)));
            chunks.failAllocate = null;
            assertEquals(1, heap.stats().pools());
            assertWorks(heap);
            assertNotEquals(0, heap.malloc(1 << 20), "grows once the allocator recovers");
        }
        assertEquals(chunks.allocated.size(), chunks.freed.size());
    }

    @Test
    void anOverlappingChunkIsHandedBackAndReported() {
        CountingChunks chunks = new CountingChunks();
        try (TlsfHeap heap = TlsfHeap.create(INITIAL, chunks)) {
            long inside = chunks.allocated.get(0).address() + 4096; // memory the heap already holds
            chunks.returnFakeNext(inside);
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> heap.malloc(1 << 20));
            assertTrue(e.getMessage().startsWith("chunk allocator returned an unusable chunk address=0x"
                    + Long.toHexString(inside)), e.getMessage());
            assertEquals(1, chunks.freed.size(), "the bad chunk was handed back at once");
            assertEquals(inside, chunks.freed.get(0).address());
            assertEquals(1, heap.stats().pools());
            assertWorks(heap);
        }
        assertEquals(chunks.allocated.size(), chunks.freed.size());
    }

    @Test
    void trimHandsBackFreeGrownPoolsOnly() {
        CountingChunks chunks = new CountingChunks();
        try (TlsfHeap heap = TlsfHeap.create(INITIAL, chunks)) {
            long keep = heap.malloc(100); // in the first region
            List<Long> blocks = new ArrayList<>();
            for (int i = 0; i < 1000; i++) {
                blocks.add(heap.malloc(1000));
            }
            int pools = heap.stats().pools();
            assertTrue(pools >= 3, "pools=" + pools);
            assertEquals(0, heap.trim(), "nothing is free yet");
            for (long p : blocks) {
                heap.free(p);
            }
            long grown = chunks.bytesAllocated() - INITIAL;
            assertEquals(grown, heap.trim());
            assertEquals(1, heap.stats().pools());
            assertEquals(pools - 1, chunks.freed.size());
            assertEquals(INITIAL, chunks.allocated.get(0).bytes());
            assertTrue(!chunks.freed.contains(chunks.allocated.get(0)), "the first region stays");
            assertTrue(heap.size(keep) >= 100);
            heap.free(keep);
            assertWorks(heap);
            assertNotEquals(0, heap.malloc(200_000), "grows again after a trim");
        }
        assertEquals(chunks.allocated.size(), chunks.freed.size());
    }

    @Test
    void closeHandsBackEveryChunkEvenWhenFreeChunkThrows() {
        CountingChunks chunks = new CountingChunks();
        TlsfHeap heap = TlsfHeap.create(INITIAL, chunks);
        heap.malloc(200_000);
        heap.malloc(400_000);
        assertEquals(3, chunks.allocated.size());
        chunks.failFrees = true;
        RuntimeException e = assertThrows(RuntimeException.class, heap::close);
        assertEquals("freeChunk failed #1", e.getMessage(), "the first failure is thrown");
        assertEquals(3, chunks.freed.size(), "every chunk handed back");
        assertEquals(2, e.getSuppressed().length, "the later failures are suppressed in the first");
        assertThrows(IllegalStateException.class, () -> heap.malloc(1));
    }

    @Test
    void sharedHeapGrowsToo() {
        CountingChunks chunks = new CountingChunks();
        try (SharedTlsfHeap heap = SharedTlsfHeap.create(INITIAL, chunks)) {
            long p = heap.malloc(1 << 20);
            assertNotEquals(0, p);
            assertEquals(2, heap.stats().pools());
            heap.free(p);
            assertTrue(heap.trim() > 0);
            assertEquals(1, heap.stats().pools());
        }
        assertEquals(chunks.allocated.size(), chunks.freed.size());
    }
}
