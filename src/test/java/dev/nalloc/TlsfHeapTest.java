package dev.nalloc;

import static dev.nalloc.Subjects.assertWorks;
import static dev.nalloc.Subjects.fill;
import static dev.nalloc.Subjects.holds;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nalloc.internal.Blocks;
import dev.nalloc.internal.jni.SystemNative;
import dev.nalloc.internal.jni.TlsfNative;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@link TlsfHeap} over one system pool: what the contract test does not cover. */
class TlsfHeapTest {

    @Test
    void minimumBytesIsTheDocumentedFormula() {
        assertEquals(TlsfNative.tlsf_size() + TlsfNative.tlsf_pool_size_for(0, 0), TlsfHeap.minimumBytes());
    }

    @Test
    void createRefusesTooSmallPools() {
        long min = TlsfHeap.minimumBytes();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TlsfHeap.create(min - 1));
        assertEquals("poolBytes=" + (min - 1) + " is below the minimum=" + min, e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> TlsfHeap.create(-1));
        try (TlsfHeap tiny = TlsfHeap.create(min)) {
            long p = tiny.malloc(0);
            assertNotEquals(0, p, "the minimum heap serves one minimum block");
            assertEquals(0, tiny.malloc(0), "and no second one");
            tiny.free(p);
            tiny.check();
        }
    }

    @Test
    void exhaustionReturnsZeroAndCorruptsNothing() {
        try (TlsfHeap heap = TlsfHeap.create(64 * 1024)) {
            List<Long> blocks = new ArrayList<>();
            long p;
            while ((p = heap.malloc(1000)) != 0) {
                fill(heap, p, 1000, blocks.size());
                blocks.add(p);
            }
            assertTrue(blocks.size() > 40, "a 64 KiB heap holds dozens of 1000-byte blocks: " + blocks.size());
            assertEquals(0, heap.malloc(1000), "still full");
            assertEquals(0, heap.malloc(1L << 40), "far beyond the heap");
            assertEquals(0, heap.malloc(Long.MAX_VALUE), "beyond any block size");
            assertEquals(0, heap.malloc(100, 4096), "no room for an aligned block either");
            heap.check();

            // realloc that cannot be satisfied: 0, the old block intact.
            long last = blocks.get(blocks.size() - 1);
            assertEquals(0, heap.realloc(last, 50_000));
            assertTrue(holds(heap, last, 1000, blocks.size() - 1), "old block unchanged");
            assertTrue(heap.size(last) >= 1000);

            for (int i = 0; i < blocks.size(); i++) {
                assertTrue(holds(heap, blocks.get(i), 1000, i), "block " + i);
            }
            heap.free(blocks.remove(0));
            assertNotEquals(0, heap.malloc(1000), "freeing and asking the same size again succeeds");
            heap.check();
        }
    }

    @Test
    void statsCountBlocksAndBytes() {
        try (TlsfHeap heap = TlsfHeap.create(Subjects.HEAP_BYTES)) {
            TlsfStats empty = heap.stats();
            assertEquals(0, empty.usedBlocks());
            assertEquals(0, empty.usedBytes());
            assertEquals(1, empty.freeBlocks());
            assertEquals(1, empty.pools());
            assertEquals(empty.freeBytes(), empty.largestFreeBlock());
            assertTrue(empty.poolBytes() > 0 && empty.poolBytes() <= Subjects.HEAP_BYTES, "pool " + empty.poolBytes());
            assertTrue(empty.overheadBytes() > 0);
            assertEquals(empty.poolBytes() - empty.usedBytes() - empty.freeBytes(), empty.overheadBytes());

            long a = heap.malloc(100);
            long b = heap.malloc(3000);
            long c = heap.malloc(200);
            heap.free(b);
            TlsfStats s = heap.stats();
            assertEquals(2, s.usedBlocks());
            assertEquals(heap.size(a) + heap.size(c), s.usedBytes());
            assertEquals(2, s.freeBlocks(), "the hole left by b and the rest of the pool");
            assertTrue(s.largestFreeBlock() < s.freeBytes());
            assertEquals(empty.poolBytes(), s.poolBytes());
            heap.free(a);
            heap.free(c);
            assertEquals(empty, heap.stats(), "everything coalesces back");
        }
    }

    @Test
    void checkNamesTheBrokenInvariant() {
        try (TlsfHeap heap = TlsfHeap.create(Subjects.HEAP_BYTES)) {
            long p = heap.malloc(64);
            heap.check();
            // The block's header word (size | flags) sits just before its payload.
            ByteBuffer header = SystemNative.nalloc_direct_buffer(p - 8, 8).order(ByteOrder.nativeOrder());
            long saved = header.getLong(0);
            header.putLong(0, saved + (1L << 40));
            IllegalStateException e = assertThrows(IllegalStateException.class, heap::check);
            assertEquals("TLSF invariant broken: block size is misaligned, too small or runs past its pool (tlsf_check=7)",
                    e.getMessage());
            header.putLong(0, saved);
            heap.check();
            heap.free(p);
            assertWorks(heap);
        }
    }

    @Test
    void alignedBlocksKeepTheirAlignmentWhenTheyMove() {
        try (TlsfHeap heap = TlsfHeap.create(Subjects.HEAP_BYTES)) {
            long p = heap.malloc(100, 1024);
            assertEquals(0, p % 1024);
            fill(heap, p, 100, 1);
            long blocker = heap.malloc(16);
            long q = heap.realloc(p, 20_000);
            assertNotEquals(0, q);
            assertEquals(0, q % 1024, "realloc keeps the alignment");
            assertTrue(holds(heap, q, 100, 1));
            heap.free(q);
            heap.free(blocker);
            heap.check();
        }
    }

    @Test
    void reallocToZeroKeepsAMinimumBlock() {
        try (TlsfHeap heap = TlsfHeap.create(Subjects.HEAP_BYTES)) {
            long p = heap.malloc(500);
            long q = heap.realloc(p, 0);
            assertEquals(p, q, "shrinks in place, does not free");
            assertTrue(heap.size(q) > 0);
            heap.free(q);
            heap.check();
        }
    }

    @Test
    void viewOfABlockBeyondIntMaxIsRefusedWithoutTheLengthForm() {
        // Only the size check matters: a ByteBuffer cannot cover more than Integer.MAX_VALUE bytes.
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Blocks.view(0x1000, Integer.MAX_VALUE + 1L));
        assertTrue(e.getMessage().contains("exceeds a ByteBuffer's capacity"), e.getMessage());
    }

    @Test
    void trimOfASystemPoolReleasesNothing() {
        try (TlsfHeap heap = TlsfHeap.create(Subjects.HEAP_BYTES)) {
            assertEquals(0, heap.trim());
            assertWorks(heap);
        }
    }

    @Test
    void toStringShowsPoolsAndClosedState() {
        TlsfHeap heap = TlsfHeap.create(Subjects.HEAP_BYTES);
        assertEquals("TlsfHeap[pools=1 heldBytes=" + Subjects.HEAP_BYTES + "]", heap.toString());
        heap.close();
        assertEquals("TlsfHeap[closed]", heap.toString());
        assertThrows(IllegalStateException.class, heap::stats);
        assertThrows(IllegalStateException.class, heap::trim);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> heap.view(0, 0));
        assertEquals("TlsfHeap is closed", e.getMessage());
    }
}
