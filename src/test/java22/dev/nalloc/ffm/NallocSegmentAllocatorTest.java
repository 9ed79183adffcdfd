package dev.nalloc.ffm;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nalloc.NativeAllocator;
import dev.nalloc.Smmalloc;
import dev.nalloc.TlsfHeap;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class NallocSegmentAllocatorTest {

    static List<Allocators> allocators() {
        return Allocators.all().toList();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("allocators")
    void allocateAndFreeOneByOne(Allocators kind) {
        try (NativeAllocator a = kind.create()) {
            NallocSegmentAllocator allocator = NallocSegmentAllocator.of(a);
            assertSame(a, allocator.allocator());
            long before = Allocators.blocksInUse(a);
            MemorySegment s = allocator.allocate(100, 64);
            assertEquals(100, s.byteSize());
            assertEquals(0, s.address() % 64);
            assertEquals(Arena.global().scope(), s.scope(), "unscoped: freed by hand");
            assertTrue(a.size(s.address()) >= 100);
            assertEquals(0, s.get(JAVA_BYTE, 99), "zero-initialized");
            s.setAtIndex(JAVA_INT, 24, 1234);
            assertEquals(1234, s.getAtIndex(JAVA_INT, 24));
            if (a instanceof Smmalloc sm) {
                assertTrue(sm.bucket(s.address()) >= 0, "a bucket block");
            }
            assertEquals(before + 1, Allocators.blocksInUse(a));
            allocator.free(s);
            assertEquals(before, Allocators.blocksInUse(a));
            assertThrows(IllegalArgumentException.class, () -> allocator.free(s), "double free");
            allocator.free(MemorySegment.NULL); // free(0): nothing
            Allocators.check(a);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("allocators")
    void freeRefusesWhatIsNotItsBlock(Allocators kind) {
        try (NativeAllocator a = kind.create(); Arena jdk = Arena.ofConfined()) {
            NallocSegmentAllocator allocator = NallocSegmentAllocator.of(a);
            MemorySegment s = allocator.allocate(64);
            assertThrows(IllegalArgumentException.class, () -> allocator.free(s.asSlice(16)), "interior");
            assertThrows(IllegalArgumentException.class, () -> allocator.free(MemorySegment.ofArray(new byte[8])), "heap");
            assertThrows(IllegalArgumentException.class, () -> allocator.free(jdk.allocate(64)), "an arena's");
            try (NallocArena arena = NallocArena.ofConfined(a)) {
                MemorySegment owned = arena.allocate(64);
                assertThrows(IllegalArgumentException.class, () -> allocator.free(owned), "a NallocArena's");
            }
            allocator.free(s);
            assertEquals(0, Allocators.blocksInUse(a));
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("allocators")
    void badRequests(Allocators kind) {
        try (NativeAllocator a = kind.create()) {
            NallocSegmentAllocator allocator = NallocSegmentAllocator.of(a);
            assertThrows(IllegalArgumentException.class, () -> allocator.allocate(-1));
            assertThrows(IllegalArgumentException.class, () -> allocator.allocate(8, 0));
            assertThrows(IllegalArgumentException.class, () -> allocator.allocate(8, 3));
            assertThrows(IllegalArgumentException.class, () -> allocator.allocate(8, 8192));
            assertEquals(0, Allocators.blocksInUse(a));
        }
    }

    @Test
    void exhaustionIsOutOfMemoryError() {
        try (TlsfHeap heap = TlsfHeap.create(Allocators.HEAP_BYTES)) {
            NallocSegmentAllocator allocator = NallocSegmentAllocator.of(heap);
            assertThrows(OutOfMemoryError.class, () -> allocator.allocate(Allocators.HEAP_BYTES * 2));
            assertEquals(0, heap.stats().usedBlocks());
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("allocators")
    void allocateFromString(Allocators kind) {
        try (NativeAllocator a = kind.create()) {
            NallocSegmentAllocator allocator = NallocSegmentAllocator.of(a);
            MemorySegment text = allocator.allocateFrom("hello, segment");
            assertEquals("hello, segment", text.getString(0));
            assertEquals(15, text.byteSize());
            assertTrue(a.size(text.address()) >= 15);
            allocator.free(text);
            assertEquals(0, Allocators.blocksInUse(a));
        }
    }

    @Test
    void closedAllocatorIsIllegalState() {
        Smmalloc sm = new Smmalloc(8, 64 * 1024);
        NallocSegmentAllocator allocator = NallocSegmentAllocator.of(sm);
        sm.close();
        assertThrows(IllegalStateException.class, () -> allocator.allocate(16));
    }
}
