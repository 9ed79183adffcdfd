package dev.nalloc;

import static dev.nalloc.Subjects.assertWorks;
import static dev.nalloc.Subjects.fill;
import static dev.nalloc.Subjects.holds;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nalloc.Subjects.Subject;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.HashSet;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The {@link NativeAllocator} contract, for every implementation. */
class NativeAllocatorContractTest {

    static Stream<Subject> subjects() {
        return Subjects.all();
    }

    @ParameterizedTest
    @MethodSource("subjects")
    void mallocSizeFree(Subject s) {
        try (NativeAllocator a = s.create()) {
            long p = a.malloc(100);
            assertNotEquals(0, p);
            assertEquals(0, p % 16, "16-byte aligned");
            assertTrue(a.size(p) >= 100, "usable size " + a.size(p));
            fill(a, p, (int) a.size(p), 3);
            assertTrue(holds(a, p, (int) a.size(p), 3));
            a.free(p);
            assertThrows(IllegalArgumentException.class, () -> a.size(p), "freed block has no size");
            assertWorks(a);
        }
    }

    @ParameterizedTest
    @MethodSource("subjects")
    void mallocZeroGivesUniqueBlocks(Subject s) {
        try (NativeAllocator a = s.create()) {
            Set<Long> seen = new HashSet<>();
            for (int i = 0; i < 10; i++) {
                long p = a.malloc(0);
                assertNotEquals(0, p);
                assertTrue(seen.add(p), "unique");
                assertTrue(a.size(p) > 0);
            }
            seen.forEach(a::free);
            assertWorks(a);
        }
    }

    @ParameterizedTest
    @MethodSource("subjects")
    void alignedMallocHonoursEveryPowerOfTwo(Subject s) {
        try (NativeAllocator a = s.create()) {
            for (long alignment = 1; alignment <= NativeAllocator.ALIGNMENT_MAX; alignment <<= 1) {
                long p = a.malloc(40, alignment);
                assertNotEquals(0, p, "alignment=" + alignment);
                assertEquals(0, p % alignment, "alignment=" + alignment);
                assertTrue(a.size(p) >= 40);
                a.free(p);
            }
            assertWorks(a);
        }
    }

    @ParameterizedTest
    @MethodSource("subjects")
    void negativeSizeIsRefused(Subject s) {
        try (NativeAllocator a = s.create()) {
            long p = a.malloc(32);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> a.malloc(-1));
            assertEquals("size=-1 is negative", e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> a.malloc(Long.MIN_VALUE, 16));
            assertThrows(IllegalArgumentException.class, () -> a.realloc(p, -5));
            assertThrows(IllegalArgumentException.class, () -> a.realloc(0, -5));
            assertTrue(a.size(p) >= 32, "block untouched by the refused realloc");
            a.free(p);
            assertWorks(a);
        }
    }

    @ParameterizedTest
    @MethodSource("subjects")
    void badAlignmentIsRefused(Subject s) {
        try (NativeAllocator a = s.create()) {
            for (long alignment : new long[] {0, -16, 3, 24, 4097, 8192, Long.MIN_VALUE}) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> a.malloc(16, alignment));
                assertTrue(e.getMessage().startsWith("alignment=" + alignment + " "), e.getMessage());
            }
            assertWorks(a);
        }
    }

    @ParameterizedTest
    @MethodSource("subjects")
    void doubleFreeIsRefusedAndChangesNothing(Subject s) {
        try (NativeAllocator a = s.create()) {
            long p = a.malloc(48);
            long q = a.malloc(48);
            a.free(p);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> a.free(p));
            assertTrue(e.getMessage().startsWith("address=0x" + Long.toHexString(p) + " is not a live block of this "),
                    e.getMessage());
            assertTrue(e.getMessage().contains("double free"), e.getMessage());
            assertTrue(a.size(q) >= 48, "the other block is still live");
            assertThrows(IllegalArgumentException.class, () -> a.realloc(p, 100), "realloc of a freed block");
            a.free(q);
            assertWorks(a);
        }
    }

    @ParameterizedTest
    @MethodSource("subjects")
    void interiorAndWildPointersAreRefused(Subject s) {
        try (NativeAllocator a = s.create()) {
            long p = a.malloc(64);
            fill(a, p, 64, 9);
            for (long bad : new long[] {p + 16, p + 8, p - 16, 0x10, 0x7fff_0000_0000L, -16}) {
                assertThrows(IllegalArgumentException.class, () -> a.free(bad), "free " + bad);
                assertThrows(IllegalArgumentException.class, () -> a.size(bad), "size " + bad);
                assertThrows(IllegalArgumentException.class, () -> a.realloc(bad, 32), "realloc " + bad);
            }
            assertTrue(holds(a, p, 64, 9), "the real block is untouched");
            a.free(p);
            assertWorks(a);
        }
    }

    @ParameterizedTest
    @MethodSource("subjects")
    void blocksOfAnotherInstanceAreRefused(Subject s) {
        try (NativeAllocator a = s.create(); NativeAllocator b = s.create()) {
            long pb = b.malloc(32);
            assertThrows(IllegalArgumentException.class, () -> a.free(pb));
            assertThrows(IllegalArgumentException.class, () -> a.size(pb));
            assertThrows(IllegalArgumentException.class, () -> a.realloc(pb, 64));
            assertTrue(b.size(pb) >= 32, "still live in its own allocator");
            b.free(pb);
            assertWorks(a);
            assertWorks(b);
        }
    }

    @ParameterizedTest
    @MethodSource("subjects")
    void freeOfZeroDoesNothing(Subject s) {
        try (NativeAllocator a = s.create()) {
            long p = a.malloc(16);
            assertDoesNotThrow(() -> a.free(0));
            assertTrue(a.size(p) >= 16);
            assertThrows(IllegalArgumentException.class, () -> a.size(0));
            a.free(p);
            assertWorks(a);
        }
    }

    @ParameterizedTest
    @MethodSource("subjects")
    void reallocKeepsContents(Subject s) {
        try (NativeAllocator a = s.create()) {
            long p = a.realloc(0, 100);
            assertNotEquals(0, p, "realloc(0, n) allocates");
            fill(a, p, 100, 5);
            long blocker = a.malloc(64); // likely right after p: forces a move on growth
            long q = a.realloc(p, 5000);
            assertNotEquals(0, q);
            assertTrue(a.size(q) >= 5000);
            assertTrue(holds(a, q, 100, 5), "contents survive growth");
            long r = a.realloc(q, 40);
            assertNotEquals(0, r);
            assertTrue(a.size(r) >= 40);
            assertTrue(holds(a, r, 40, 5), "contents survive shrinking");
            a.free(r);
            a.free(blocker);
            assertWorks(a);
        }
    }

    @ParameterizedTest
    @MethodSource("subjects")
    void viewsAreZeroCopyAndNativeOrder(Subject s) {
        try (NativeAllocator a = s.create()) {
            long p = a.malloc(40);
            ByteBuffer whole = Subjects.view(a, p);
            assertTrue(whole.isDirect());
            assertEquals(ByteOrder.nativeOrder(), whole.order());
            assertEquals(a.size(p), whole.capacity());
            assertEquals(0, whole.position());
            assertEquals(whole.capacity(), whole.limit());
            whole.putLong(8, 0x0102030405060708L);
            ByteBuffer part = Subjects.view(a, p, 16);
            assertEquals(16, part.capacity());
            assertEquals(0x0102030405060708L, part.getLong(8), "both views share the block's memory");
            assertEquals(0, Subjects.view(a, p, 0).capacity());
            long usable = a.size(p);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> Subjects.view(a, p, (int) usable + 1));
            assertTrue(e.getMessage().startsWith("length=" + (usable + 1) + " is not in 0..usable=" + usable), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> Subjects.view(a, p, -1));
            a.free(p);
            assertThrows(IllegalArgumentException.class, () -> Subjects.view(a, p), "no view of a freed block");
            assertWorks(a);
        }
    }

    @ParameterizedTest
    @MethodSource("subjects")
    void everyCallAfterCloseThrowsAndCloseIsIdempotent(Subject s) {
        NativeAllocator a = s.create();
        long p = a.malloc(16);
        a.close();
        assertDoesNotThrow(a::close, "second close");
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> a.malloc(16));
        assertTrue(e.getMessage().endsWith(" is closed"), e.getMessage());
        assertThrows(IllegalStateException.class, () -> a.malloc(16, 64));
        assertThrows(IllegalStateException.class, () -> a.malloc(-1), "closed is reported before arguments");
        assertThrows(IllegalStateException.class, () -> a.realloc(p, 32));
        assertThrows(IllegalStateException.class, () -> a.realloc(0, 32));
        assertThrows(IllegalStateException.class, () -> a.free(p));
        assertThrows(IllegalStateException.class, () -> a.free(0));
        assertThrows(IllegalStateException.class, () -> a.size(p));
        assertThrows(IllegalStateException.class, () -> Subjects.view(a, p));
        assertThrows(IllegalStateException.class, () -> Subjects.check(a));
        assertTrue(a.toString().contains("closed"), a.toString());
    }

    @ParameterizedTest
    @MethodSource("subjects")
    void manyBlocksStayDistinctAndIntact(Subject s) {
        try (NativeAllocator a = s.create()) {
            long[] blocks = new long[300];
            for (int i = 0; i < blocks.length; i++) {
                blocks[i] = a.malloc(16 + (i * 37) % 500);
                assertNotEquals(0, blocks[i]);
                fill(a, blocks[i], 16, i);
            }
            for (int i = 0; i < blocks.length; i += 2) {
                a.free(blocks[i]);
            }
            for (int i = 1; i < blocks.length; i += 2) {
                assertTrue(holds(a, blocks[i], 16, i), "block " + i);
                a.free(blocks[i]);
            }
            assertWorks(a);
        }
    }
}
