package dev.nalloc.buffer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nalloc.SharedTlsfHeap;
import dev.nalloc.Smmalloc;
import dev.nalloc.TlsfHeap;
import dev.nalloc.internal.Blocks;
import dev.nalloc.toolkit.BlockPool;
import dev.nalloc.toolkit.ConcurrentBlockPool;
import dev.nalloc.toolkit.DebugAllocator;
import dev.nalloc.toolkit.LeakReporting;
import dev.nalloc.toolkit.SystemAllocator;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;

/** The allocateDirect replacement: same buffers, explicit free, and the Cleaner safety net. */
class ByteBufferAllocatorTest {

    @Test
    void buffersLookLikeAllocateDirectsAndAreNallocBlocks() {
        try (Smmalloc sm = new Smmalloc(8, 1 << 20)) {
            ByteBufferAllocator buffers = new ByteBufferAllocator(sm, ByteBufferAllocator.SafetyNet.NONE);
            ByteBuffer b = buffers.allocateDirect(100);
            ByteBuffer jdk = ByteBuffer.allocateDirect(100);
            assertTrue(b.isDirect());
            assertEquals(jdk.order(), b.order(), "big-endian, like allocateDirect");
            assertEquals(ByteOrder.BIG_ENDIAN, b.order());
            assertEquals(100, b.capacity());
            assertEquals(100, b.limit());
            assertEquals(0, b.position());
            assertEquals(jdk, b, "zeroed");
            b.putInt(0, 0x01020304);
            assertEquals(1, b.get(0));
            long address = Blocks.address(b);
            assertTrue(sm.size(address) >= 100, "a live nalloc block");
            buffers.free(b);
            assertThrows(IllegalArgumentException.class, () -> buffers.free(b), "double free");
            assertThrows(IllegalArgumentException.class, () -> buffers.free(jdk), "not ours");
            assertThrows(IllegalArgumentException.class, () -> buffers.free(ByteBuffer.allocate(8)), "heap");
            ByteBuffer c = buffers.allocateDirect(64);
            assertThrows(IllegalArgumentException.class, () -> buffers.free(c.slice(16, 16)), "a slice");
            buffers.free(c);
            assertThrows(IllegalArgumentException.class, () -> buffers.allocateDirect(-1));
            assertEquals(0, sm.stats().bucketBlocksInUse() + sm.stats().fallbackBlocksInUse());
            sm.check();
        }
    }

    @Test
    void withASafetyNetExplicitFreesStillWorkExactlyOnce() {
        try (SharedTlsfHeap heap = SharedTlsfHeap.create(1 << 20)) {
            ByteBufferAllocator buffers = new ByteBufferAllocator(heap, ByteBufferAllocator.SafetyNet.FREE);
            ByteBuffer b = buffers.allocateDirect(1000);
            ByteBuffer slice = b.slice(10, 10);
            assertThrows(IllegalArgumentException.class, () -> buffers.free(slice));
            buffers.free(b);
            assertThrows(IllegalArgumentException.class, () -> buffers.free(b));
            assertEquals(0, heap.stats().usedBlocks());
            assertEquals(0, buffers.rescuedBuffers());
            assertThrows(OutOfMemoryError.class, () -> buffers.allocateDirect(2 << 20));
        }
        assertThrows(IllegalArgumentException.class, () -> new ByteBufferAllocator(TlsfHeap.create(4096),
                ByteBufferAllocator.SafetyNet.FREE), "a single-threaded heap cannot take the Cleaner's frees");
    }

    /** Allocates and drops a buffer; the report must name this method. */
    private static void forgetABuffer(ByteBufferAllocator buffers) {
        ByteBuffer lost = buffers.allocateDirect(256);
        lost.putLong(0, 1);
    }

    @Test
    void aForgottenBufferIsFreedAfterGcAndReported() throws Exception {
        List<LogRecord> records = new CopyOnWriteArrayList<>();
        Logger jul = Logger.getLogger(ByteBufferAllocator.class.getName());
        Handler capture = new Handler() {
            @Override
            public void publish(LogRecord r) {
                records.add(r);
            }

            @Override
            public void flush() {}

            @Override
            public void close() {}
        };
        jul.addHandler(capture);
        try (Smmalloc sm = new Smmalloc(8, 1 << 20)) {
            ByteBufferAllocator buffers = new ByteBufferAllocator(sm, ByteBufferAllocator.SafetyNet.REPORT);
            forgetABuffer(buffers);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (buffers.rescuedBuffers() == 0 && System.nanoTime() < deadline) {
                System.gc(); // waits for the event (the Cleaner ran), not for a duration
                Thread.sleep(10);
            }
            assertEquals(1, buffers.rescuedBuffers());
            assertEquals(0, sm.stats().fallbackBlocksInUse(), "the block was freed");
            deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (records.isEmpty() && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            assertEquals(1, records.size());
            LogRecord r = records.get(0);
            assertTrue(r.getMessage().contains("256 bytes"), r.getMessage());
            assertTrue(r.getMessage().contains("never freed"), r.getMessage());
            assertNotNull(r.getThrown());
            boolean named = false;
            for (StackTraceElement e : r.getThrown().getStackTrace()) {
                named |= e.getMethodName().equals("forgetABuffer");
            }
            assertTrue(named, "the allocation site is in the report");
            sm.check();
        } finally {
            jul.removeHandler(capture);
        }
    }

    /** The Cleaner frees from its own thread: a net needs an allocator that says it is thread-safe. */
    @Test
    void aSafetyNetRefusesEveryAllocatorThatIsNotThreadSafe() {
        try (SystemAllocator sys = new SystemAllocator();
                TlsfHeap heap = TlsfHeap.create(1 << 20);
                BlockPool pool = BlockPool.over(sys, 64, 16, 64);
                ConcurrentBlockPool shared = ConcurrentBlockPool.over(sys, 64, 16, 64);
                DebugAllocator debugHeap = new DebugAllocator("heap", heap, LeakReporting.LOG, false)) {
            for (var unsafe : List.of(heap, pool, debugHeap)) {
                for (var net : List.of(ByteBufferAllocator.SafetyNet.FREE, ByteBufferAllocator.SafetyNet.REPORT)) {
                    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                            () -> new ByteBufferAllocator(unsafe, net), unsafe + " " + net);
                    assertTrue(e.getMessage().contains("is not thread-safe"), e.getMessage());
                }
                assertNotNull(new ByteBufferAllocator(unsafe, ByteBufferAllocator.SafetyNet.NONE));
            }
            ByteBufferAllocator buffers = new ByteBufferAllocator(shared, ByteBufferAllocator.SafetyNet.FREE);
            ByteBuffer b = buffers.allocateDirect(64);
            buffers.free(b);
            assertEquals(0, shared.liveBlocks());
        }
    }

    /**
     * Only the buffer object allocateDirect returned frees the block: a head slice or a duplicate
     * has the same address (and a duplicate the same capacity) but is refused.
     */
    @Test
    void freeRefusesSlicesAndDuplicatesOfALiveBuffer() {
        try (Smmalloc sm = new Smmalloc(8, 1 << 20)) {
            for (var net : ByteBufferAllocator.SafetyNet.values()) {
                ByteBufferAllocator buffers = new ByteBufferAllocator(sm, net);
                ByteBuffer b = buffers.allocateDirect(64);
                for (ByteBuffer alias : List.of(b.slice(0, 16), b.duplicate(), b.slice(), b.asReadOnlyBuffer())) {
                    assertEquals(Blocks.address(b), Blocks.address(alias));
                    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> buffers.free(alias),
                            net + " " + alias);
                    assertTrue(e.getMessage().contains("a slice, a duplicate"), e.getMessage());
                }
                assertTrue(sm.size(Blocks.address(b)) >= 64, net + ": still live");
                buffers.free(b);
                assertThrows(IllegalArgumentException.class, () -> buffers.free(b), net + ": double free");
                assertEquals(0, sm.stats().bucketBlocksInUse() + sm.stats().fallbackBlocksInUse(), net.toString());
            }
        }
    }
}
