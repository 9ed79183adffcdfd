package dev.nalloc.buffer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nalloc.TlsfHeap;
import dev.nalloc.toolkit.ArenaAllocator;
import java.nio.ByteOrder;
import java.nio.IntBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The typed buffers: element access, bulk copies, slices, NIO views, bounds and lifetime. */
class NativeBufferTest {
    private TlsfHeap heap;

    @BeforeEach
    void create() {
        heap = TlsfHeap.create(1 << 20);
    }

    @AfterEach
    void close() {
        heap.check();
        heap.close();
    }

    private long used() {
        return heap.stats().usedBlocks();
    }

    @Test
    void intsAreZeroedReadAndWrittenAndFreedOnClose() {
        try (NativeIntBuffer ints = NativeIntBuffer.allocate(heap, 100)) {
            assertEquals(1, used());
            assertEquals(100, ints.length());
            assertEquals(400, ints.byteSize());
            assertEquals(0, ints.address() % 16);
            for (int i = 0; i < 100; i++) {
                assertEquals(0, ints.get(i), "zeroed");
                ints.set(i, i * i);
            }
            assertEquals(99 * 99, ints.get(99));
            assertEquals(81, heap.view(ints.address()).order(ByteOrder.nativeOrder()).getInt(36),
                    "the elements are the block's bytes, in native order");
        }
        assertEquals(0, used(), "close() freed the block");
    }

    @Test
    void outOfRangeAccessIsRefusedAndTouchesNothing() {
        try (NativeLongBuffer longs = NativeLongBuffer.allocate(heap, 10)) {
            assertThrows(IndexOutOfBoundsException.class, () -> longs.get(10));
            assertThrows(IndexOutOfBoundsException.class, () -> longs.get(-1));
            assertThrows(IndexOutOfBoundsException.class, () -> longs.set(10, 1L));
            long[] src = new long[11];
            assertThrows(IndexOutOfBoundsException.class, () -> longs.copyFrom(src));
            assertThrows(IndexOutOfBoundsException.class, () -> longs.copyFrom(src, 0, 5, 6));
            assertThrows(IndexOutOfBoundsException.class, () -> longs.copyFrom(src, 8, 0, 4));
            assertThrows(IndexOutOfBoundsException.class, () -> longs.copyTo(9, new long[5], 0, 2));
            assertThrows(IndexOutOfBoundsException.class, () -> longs.slice(5, 6));
            for (int i = 0; i < 10; i++) {
                assertEquals(0, longs.get(i), "a refused copy copied nothing");
            }
        }
        heap.check(); // no write outside the block corrupted the heap
    }

    @Test
    void everyAccessAfterCloseIsAnIllegalStateException() {
        NativeDoubleBuffer d = NativeDoubleBuffer.allocate(heap, 4);
        NativeDoubleBuffer slice = d.slice(1, 2);
        d.close();
        assertTrue(d.isClosed());
        assertTrue(slice.isClosed(), "slices share the lifetime");
        assertThrows(IllegalStateException.class, () -> d.get(0));
        assertThrows(IllegalStateException.class, () -> d.set(0, 1.0));
        assertThrows(IllegalStateException.class, () -> slice.get(0));
        assertThrows(IllegalStateException.class, d::address);
        assertThrows(IllegalStateException.class, d::asDoubleBuffer);
        assertThrows(IllegalStateException.class, () -> d.fill(2.0));
        assertThrows(IllegalStateException.class, d::toArray);
        d.close(); // twice: nothing
        assertEquals(0, used());
    }

    @Test
    void bulkCopiesFillAndSlicesShareMemory() {
        try (NativeFloatBuffer f = NativeFloatBuffer.allocate(heap, 8);
                NativeFloatBuffer g = NativeFloatBuffer.allocateUninitialized(heap, 8)) {
            f.copyFrom(new float[] {1, 2, 3, 4, 5, 6, 7, 8});
            g.fill(-1f);
            g.copyFrom(f, 2, 4, 3);
            assertArrayEquals(new float[] {-1, -1, -1, -1, 3, 4, 5, -1}, g.toArray());
            f.copyFrom(f, 0, 2, 6); // overlapping, as if through a temporary
            assertArrayEquals(new float[] {1, 2, 1, 2, 3, 4, 5, 6}, f.toArray());
            NativeFloatBuffer mid = f.slice(2, 4);
            assertEquals(4, mid.length());
            mid.set(0, 9f);
            assertEquals(9f, f.get(2));
            assertThrows(IndexOutOfBoundsException.class, () -> mid.get(4), "a slice has its own bounds");
            mid.close(); // does nothing: the parent still owns the block
            assertEquals(9f, f.get(2));
            float[] out = new float[3];
            f.copyTo(5, out, 0, 3);
            assertArrayEquals(new float[] {4, 5, 6}, out);
            f.clear();
            assertArrayEquals(new float[8], f.toArray());
        }
    }

    @Test
    void nioViewsAreZeroCopy() {
        try (NativeIntBuffer ints = NativeIntBuffer.allocate(heap, 16);
                NativeByteBuffer bytes = NativeByteBuffer.allocate(heap, 64)) {
            IntBuffer view = ints.asIntBuffer();
            assertEquals(16, view.capacity());
            assertTrue(view.isDirect());
            view.put(3, 33);
            assertEquals(33, ints.get(3));
            ints.set(4, 44);
            assertEquals(44, ints.asByteBuffer().getInt(16));
            bytes.fill((byte) 7);
            assertEquals(0x0707070707070707L, bytes.asByteBuffer().getLong(8));
            bytes.set(63, (byte) 1);
            assertEquals(1, bytes.asByteBuffer().get(63));
        }
    }

    @Test
    void wrappedMemoryIsNotFreedAndArenaBlocksWaitForTheArena() {
        long block = heap.malloc(64);
        try (NativeLongBuffer wrapped = NativeLongBuffer.wrap(block, 8)) {
            wrapped.set(7, 77);
        }
        assertEquals(77, heap.view(block).order(ByteOrder.nativeOrder()).getLong(56), "still there");
        heap.free(block);
        assertThrows(IllegalArgumentException.class, () -> NativeIntBuffer.wrap(block + 2, 4), "misaligned");
        assertThrows(IllegalArgumentException.class, () -> NativeIntBuffer.wrap(0, 4));

        try (ArenaAllocator arena = new ArenaAllocator(heap, 4096)) {
            NativeIntBuffer a = NativeIntBuffer.allocate(arena, 10);
            a.close(); // invalidated; the arena keeps the memory until its own close
            assertThrows(IllegalStateException.class, () -> a.get(0));
            assertEquals(1, arena.blocks());
        }
        assertEquals(0, used());
    }

    @Test
    void badLengthsAndExhaustionAreExceptions() {
        assertThrows(IllegalArgumentException.class, () -> NativeIntBuffer.allocate(heap, -1));
        assertThrows(IllegalArgumentException.class, () -> NativeDoubleBuffer.allocate(heap, Integer.MAX_VALUE));
        assertThrows(OutOfMemoryError.class, () -> NativeByteBuffer.allocate(heap, 2 << 20), "heap is 1 MiB");
        try (NativeByteBuffer empty = NativeByteBuffer.allocate(heap, 0)) {
            assertEquals(0, empty.length());
            assertThrows(IndexOutOfBoundsException.class, () -> empty.get(0));
        }
        assertEquals(0, used());
    }

    /** wrap over a range that runs past 2^64 is refused. */
    @Test
    void wrapOfARangeThatWrapsPastTheAddressSpaceIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> NativeIntBuffer.wrap(0xffff_ffff_ffff_fff0L, 8));
        assertThrows(IllegalArgumentException.class, () -> NativeLongBuffer.wrap(-8, 2));
        assertThrows(IllegalArgumentException.class, () -> NativeByteBuffer.wrap(-1, 2));
        assertThrows(IllegalArgumentException.class, () -> NativeDoubleBuffer.wrap(0xffff_ffff_ffff_f000L, 1 << 20));
    }
}
