package dev.nalloc.toolkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nalloc.NativeAllocator;
import dev.nalloc.internal.Blocks;
import java.util.HashSet;
import java.util.Random;
import java.util.Set;
import java.util.function.BiFunction;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Both block pools, single-threaded behaviour: growth, fixed buffers, every bad free. */
class BlockPoolTest {
    /** (parent, blocksPerChunk) -> a pool of 40-byte blocks aligned to 32. */
    record Kind(String name, BiFunction<NativeAllocator, Integer, NativeAllocator> growing,
            FixedFactory fixed) {
        @Override
        public String toString() {
            return name;
        }
    }

    interface FixedFactory {
        NativeAllocator over(long address, long bytes);
    }

    static Stream<Kind> kinds() {
        return Stream.of(
                new Kind("BlockPool", (p, n) -> BlockPool.over(p, 40, 32, n), (a, b) -> BlockPool.over(a, b, 40, 32)),
                new Kind("ConcurrentBlockPool", (p, n) -> ConcurrentBlockPool.over(p, 40, 32, n),
                        (a, b) -> ConcurrentBlockPool.over(a, b, 40, 32)));
    }

    static long live(NativeAllocator pool) {
        return pool instanceof BlockPool b ? b.liveBlocks() : ((ConcurrentBlockPool) pool).liveBlocks();
    }

    static long capacity(NativeAllocator pool) {
        return pool instanceof BlockPool b ? b.capacity() : ((ConcurrentBlockPool) pool).capacity();
    }

    static void check(NativeAllocator pool) {
        if (pool instanceof ConcurrentBlockPool c) {
            c.check();
        }
    }

    @ParameterizedTest
    @MethodSource("kinds")
    void growsByChunksAndHandsThemBack(Kind kind) {
        try (SystemAllocator parent = new SystemAllocator()) {
            NativeAllocator pool = kind.growing.apply(parent, 8);
            Set<Long> blocks = new HashSet<>();
            for (int i = 0; i < 100; i++) {
                long p = pool.malloc(40);
                assertNotEquals(0, p);
                assertEquals(0, p % 32);
                assertTrue(blocks.add(p), "distinct");
                Blocks.view(p, 40).putLong(32, p);
            }
            assertEquals(13, parent.liveBlocks(), "ceil(100 / 8) chunks");
            assertEquals(100, live(pool));
            assertEquals(13 * 8, capacity(pool));
            assertEquals(40, pool instanceof BlockPool b ? b.blockSize() : ((ConcurrentBlockPool) pool).blockSize());
            for (long p : blocks) {
                assertEquals(p, Blocks.view(p, 40).getLong(32), "blocks do not overlap");
                assertEquals(40, pool.size(p));
            }
            assertEquals(0, pool.malloc(41), "larger than a block");
            IllegalArgumentException aligned = assertThrows(IllegalArgumentException.class, () -> pool.malloc(8, 64),
                    "more aligned than any block can be: refused, not exhaustion");
            assertEquals("alignment=64 exceeds this pool's block alignment=32", aligned.getMessage());
            for (long p : blocks) {
                pool.free(p);
            }
            assertEquals(0, live(pool));
            check(pool);
            pool.close();
            assertEquals(0, parent.liveBlocks());
            assertThrows(IllegalStateException.class, () -> pool.malloc(1));
        }
    }

    @ParameterizedTest
    @MethodSource("kinds")
    void badFreesAreRefusedAndChangeNothing(Kind kind) {
        try (SystemAllocator parent = new SystemAllocator(); NativeAllocator pool = kind.growing.apply(parent, 4)) {
            long a = pool.malloc(40);
            long b = pool.malloc(40);
            pool.free(a);
            assertThrows(IllegalArgumentException.class, () -> pool.free(a), "double free");
            assertThrows(IllegalArgumentException.class, () -> pool.free(b + 8), "interior");
            assertThrows(IllegalArgumentException.class, () -> pool.free(b + 32 * 100), "past the chunks");
            assertThrows(IllegalArgumentException.class, () -> pool.free(16), "foreign");
            assertThrows(IllegalArgumentException.class, () -> pool.size(a), "freed");
            assertThrows(IllegalArgumentException.class, () -> pool.realloc(a, 8));
            pool.free(0);
            assertEquals(1, live(pool));
            check(pool);
            assertEquals(b, pool.realloc(b, 20), "fits its block: unchanged");
            assertEquals(0, pool.realloc(b, 41), "does not fit: 0, block kept");
            pool.free(b);
            assertEquals(0, live(pool));
            check(pool);
        }
    }

    @ParameterizedTest
    @MethodSource("kinds")
    void aFixedBufferIsNeverOutgrown(Kind kind) {
        try (SystemAllocator sys = new SystemAllocator()) {
            long mem = sys.malloc(1000); // 16-aligned: the first block starts at the next 32
            NativeAllocator pool = kind.fixed.over(mem, 1000);
            long first = (mem + 31) & -32;
            long expected = (1000 - (first - mem)) / 64; // stride = 40 rounded up to 32
            long[] got = new long[(int) expected];
            for (int i = 0; i < expected; i++) {
                got[i] = pool.malloc(1);
                assertTrue(got[i] >= mem && got[i] + 40 <= mem + 1000, "inside the buffer");
            }
            assertEquals(0, pool.malloc(1), "exhausted");
            assertEquals(expected, capacity(pool), "every aligned block that fits, no more");
            Random random = new Random(3);
            for (int round = 0; round < 1000; round++) {
                int i = random.nextInt(got.length);
                pool.free(got[i]);
                got[i] = pool.malloc(40);
                assertNotEquals(0, got[i]);
            }
            check(pool);
            pool.close();
            assertEquals(1, sys.liveBlocks(), "the buffer is the caller's");
            sys.free(mem);
        }
    }

    /** A fixed buffer whose end wraps past 2^64 is no buffer (the check compared signed longs). */
    @ParameterizedTest
    @MethodSource("kinds")
    void fixedBufferThatWrapsPastTheAddressSpaceIsRefused(Kind k) {
        for (long[] range : new long[][] {{0xffff_ffff_ffff_f000L, 1 << 20}, {-64, 128}, {-1, 2}, {0, 64}, {64, -1}}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> k.fixed.over(range[0], range[1]), Blocks.hex(range[0]) + " " + range[1]);
            assertTrue(e.getMessage().startsWith("address=" + Blocks.hex(range[0]) + " bytes=" + range[1] + " "),
                    e.getMessage());
        }
    }

    /**
     * Addresses are unsigned: a buffer across 2^63 (where longs turn negative) is one range, and
     * every block of it is found again. The memory is never touched (links live beside the blocks).
     */
    @ParameterizedTest
    @MethodSource("kinds")
    void fixedBufferAcrossTheSignBitIsOneRange(Kind k) {
        long base = 0x7fff_ffff_ffff_ff00L; // 4 blocks (stride 64) below 2^63, 4 from it
        try (NativeAllocator pool = k.fixed.over(base, 512)) {
            Set<Long> blocks = new HashSet<>();
            for (int i = 0; i < 8; i++) {
                long p = pool.malloc(40);
                assertNotEquals(0, p);
                assertEquals(40, pool.size(p), Blocks.hex(p));
                blocks.add(p);
            }
            assertEquals(0, pool.malloc(40), "full");
            assertTrue(blocks.contains(Long.MIN_VALUE), "a block at 2^63");
            assertThrows(IllegalArgumentException.class, () -> pool.free(Long.MIN_VALUE + 16), "interior");
            for (long p : blocks) {
                pool.free(p);
            }
            for (long p : blocks) {
                assertThrows(IllegalArgumentException.class, () -> pool.free(p), "double free " + Blocks.hex(p));
            }
            assertEquals(0, live(pool));
        }
    }
}
