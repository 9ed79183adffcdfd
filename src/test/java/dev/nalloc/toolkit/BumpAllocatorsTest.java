package dev.nalloc.toolkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nalloc.internal.Blocks;
import java.nio.ByteBuffer;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** {@link LinearAllocator} over a fixed buffer and {@link ArenaAllocator} over a parent. */
class BumpAllocatorsTest {

    @Test
    void linearCutsBlocksFromTheBufferAndNeverGrows() {
        ByteBuffer buffer = ByteBuffer.allocateDirect(4096);
        long base = Blocks.address(buffer);
        try (LinearAllocator linear = LinearAllocator.over(buffer)) {
            assertFalse(linear.supportsFree());
            long a = linear.malloc(100);
            long b = linear.malloc(10, 256);
            assertTrue(a >= base && a + 100 <= b, "in the buffer, in order");
            assertEquals(0, b % 256);
            assertEquals(0, a % 16);
            assertEquals(100, linear.size(a));
            assertEquals(10, linear.size(b));
            Blocks.view(a, 100).putLong(0, 42);
            assertEquals(42, buffer.order(java.nio.ByteOrder.nativeOrder()).getLong((int) (a - base)));
            assertThrows(IllegalArgumentException.class, () -> linear.size(a + 16)); // interior
            assertThrows(IllegalArgumentException.class, () -> linear.size(base + 8000)); // outside
            UnsupportedOperationException refused = assertThrows(UnsupportedOperationException.class, () -> linear.free(a));
            assertTrue(refused.getMessage().contains("reset()"), refused.getMessage());
            linear.free(0); // nothing
            assertEquals(0, linear.malloc(4096), "full: 0, never outside the buffer");
            assertThrows(IllegalArgumentException.class, () -> linear.malloc(-1));
            assertThrows(IllegalArgumentException.class, () -> linear.malloc(8, 3));
            long used = linear.used();
            linear.reset();
            assertEquals(0, linear.used());
            assertTrue(used > 110);
            assertThrows(IllegalArgumentException.class, () -> linear.size(a), "reset freed it");
            assertEquals(a, linear.malloc(100), "the buffer is reused from the start");
        }
    }

    @Test
    void linearReallocGrowsTheLastBlockInPlaceAndCopiesOthers() {
        try (SystemAllocator sys = new SystemAllocator()) {
            long mem = sys.malloc(8192);
            try (LinearAllocator linear = LinearAllocator.over(mem, 8192)) {
                long a = linear.malloc(64);
                Blocks.view(a, 64).putLong(56, 7);
                assertEquals(a, linear.realloc(a, 1000), "last block: in place");
                long b = linear.malloc(32);
                long moved = linear.realloc(a, 2000);
                assertNotEquals(a, moved);
                assertTrue(moved > b);
                assertEquals(7, Blocks.view(moved, 2000).getLong(56), "contents copied");
                assertEquals(0, linear.realloc(b, 100_000), "does not fit: 0, old block kept");
                assertEquals(32, linear.size(b));
            }
            sys.free(mem);
        }
    }

    @Test
    void aGrowingLinearAllocatorTakesChunksAndReturnsThemOnClose() {
        try (SystemAllocator parent = new SystemAllocator()) {
            LinearAllocator linear = LinearAllocator.over(parent, 256);
            long[] blocks = new long[20];
            for (int i = 0; i < blocks.length; i++) {
                blocks[i] = linear.malloc(100);
                assertNotEquals(0, blocks[i], "grows instead of failing");
            }
            assertEquals(10, parent.liveBlocks(), "two 100-byte blocks per 256-byte chunk");
            assertEquals(100, linear.size(blocks[19]));
            assertThrows(UnsupportedOperationException.class, () -> linear.free(blocks[0]));
            assertThrows(IllegalArgumentException.class, () -> linear.size(blocks[0] + 16));
            linear.reset();
            assertEquals(0, linear.used());
            assertEquals(10 * 256, linear.capacity(), "chunks kept for reuse");
            linear.close();
            assertEquals(0, parent.liveBlocks());
            assertThrows(IllegalStateException.class, () -> linear.malloc(1));
        }
    }

    @Test
    void arenaTakesChunksFromItsParentAndGivesThemBack() {
        try (SystemAllocator parent = new SystemAllocator()) {
            ArenaAllocator arena = new ArenaAllocator(parent, 1024);
            Set<Long> seen = new HashSet<>();
            for (int i = 0; i < 100; i++) {
                long p = arena.malloc(100);
                assertNotEquals(0, p);
                assertTrue(seen.add(p));
                Blocks.view(p, 100).putInt(96, i);
            }
            long big = arena.malloc(10_000, 4096); // larger than a chunk: a chunk of its own
            assertEquals(0, big % 4096);
            assertEquals(10_000, arena.size(big));
            int chunks = arena.chunks();
            assertTrue(chunks >= 10, "chunks=" + chunks);
            assertEquals(chunks, parent.liveBlocks());
            assertEquals(101, arena.blocks());
            assertEquals(parent.liveBytes(), arena.capacity(), "the chunks are all it took from the parent");
            assertTrue(arena.used() >= 100 * 100 + 10_000 && arena.used() <= arena.capacity(), "used=" + arena.used());
            assertThrows(UnsupportedOperationException.class, () -> arena.free(big));
            assertThrows(IllegalArgumentException.class, () -> arena.size(big + 16));
            assertThrows(IllegalArgumentException.class, () -> arena.realloc(12345, 10));

            arena.reset(); // chunks kept for the next round
            assertEquals(0, arena.blocks());
            assertEquals(chunks, parent.liveBlocks());
            for (int i = 0; i < 100; i++) {
                arena.malloc(100);
            }
            assertEquals(chunks, arena.chunks(), "steady state: nothing asked from the parent");

            arena.close();
            assertEquals(0, parent.liveBlocks(), "every chunk handed back");
            assertThrows(IllegalStateException.class, () -> arena.malloc(1));
            arena.close();
        }
    }

    @Test
    void arenaReportsAParentThatIsFull() {
        try (SystemAllocator sys = new SystemAllocator()) {
            long mem = sys.malloc(4096);
            try (LinearAllocator small = LinearAllocator.over(mem, 4096)) {
                assertThrows(IllegalArgumentException.class, () -> new ArenaAllocator(small, 1024),
                        "a parent that cannot free single chunks");
            }
            try (BlockPool chunks = BlockPool.over(mem, 4096, 1024, 16);
                    ArenaAllocator arena = new ArenaAllocator(chunks, 1024)) {
                int got = 0;
                while (arena.malloc(512) != 0) {
                    got++;
                }
                assertEquals(8, got, "4 chunks of 1024 bytes, 2 blocks each");
                assertEquals(4, arena.chunks());
                assertEquals(0, arena.malloc(2000), "larger than any chunk the parent has");
            }
            sys.free(mem);
        }
    }

    /** {@code over(0xfffffffffffff000L, 1 << 20)} wraps past 2^64: refused (it was compared signed). */
    @Test
    void linearOverARangeThatWrapsIsRefused() {
        for (long[] range : new long[][] {{0xffff_ffff_ffff_f000L, 1 << 20}, {-16, 32}, {0, 16}, {4096, -1}}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> LinearAllocator.over(range[0], range[1]));
            assertTrue(e.getMessage().startsWith("address=" + Blocks.hex(range[0]) + " bytes=" + range[1] + " "),
                    e.getMessage());
        }
    }

    /** A buffer across 2^63 is one range: every block is found again. malloc and size touch no memory. */
    @Test
    void linearAcrossTheSignBitFindsEveryBlock() {
        try (LinearAllocator linear = LinearAllocator.over(0x7fff_ffff_ffff_f000L, 0x2000)) {
            long[] blocks = new long[4];
            for (int i = 0; i < 4; i++) {
                blocks[i] = linear.malloc(0x800);
                assertNotEquals(0, blocks[i]);
            }
            assertEquals(Long.MIN_VALUE, blocks[2], "the third block starts at 2^63");
            for (long b : blocks) {
                assertEquals(0x800, linear.size(b), Blocks.hex(b));
            }
            assertEquals(0, linear.malloc(1), "full");
            assertEquals(blocks[3], linear.realloc(blocks[3], 0x400), "the last block shrinks in place");
            assertThrows(IllegalArgumentException.class, () -> linear.size(blocks[2] + 16), "interior");
            assertThrows(IllegalArgumentException.class, () -> linear.size(0x7fff_ffff_ffff_e000L), "below");
        }
    }

    /**
     * An arena chunk across 2^63: blocks on both sides are its own. The parent is a pool over a
     * range nobody touches (neither the pool nor the arena writes to its blocks here).
     */
    @Test
    void arenaChunkAcrossTheSignBitHoldsBlocksOnBothSides() {
        long chunk = 0x7fff_ffff_ffff_c000L;
        try (BlockPool parent = BlockPool.over(chunk, 0x8000, 0x8000, 16);
                ArenaAllocator arena = new ArenaAllocator(parent, 0x8000)) {
            long low = arena.malloc(0x4000);
            long high = arena.malloc(0x2000);
            assertEquals(chunk, low);
            assertEquals(Long.MIN_VALUE, high, "the second block starts at 2^63");
            assertEquals(0x4000, arena.size(low));
            assertEquals(0x2000, arena.size(high));
            assertEquals(1, arena.chunks());
        }
    }
}
