package dev.nalloc.internal.jni;

import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import org.bytedeco.javacpp.Pointer;
import org.junit.jupiter.api.Test;

/**
 * The hot bindings allocate no Java object per call: a long run of malloc/owns/free (and the
 * pinned long[] batch free) leaves this thread's allocated-bytes counter practically unchanged.
 * One object per call would show up as at least 16 bytes x CALLS.
 */
class HotPathAllocationTest {
    static {
        // JavaCPP's own natives (Pointer.malloc, LongPointer) are compiled into libjninalloc;
        // without javacpp's platform jar they resolve only once it is loaded.
        NallocLibrary.load();
    }

    private static final int CALLS = 200_000;
    /** Far below one byte per call; leaves room for stray allocations of the test harness. */
    private static final long SLACK_BYTES = 64 * 1024;

    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    private static long allocatedBytes() {
        return THREADS.getThreadAllocatedBytes(Thread.currentThread().getId());
    }

    @Test
    void tlsfCallsAllocateNothing() {
        long bytes = 1 << 20;
        Pointer mem = Pointer.malloc(bytes);
        try {
            long heap = TlsfNative.tlsf_create(mem.address(), bytes);
            assertNotEquals(0, heap);
            long[] stats = new long[TlsfNative.TLSF_STATS_LONGS];
            tlsfLoop(heap, stats, 20_000); // link the natives, warm up
            long before = allocatedBytes();
            long sink = tlsfLoop(heap, stats, CALLS);
            long allocated = allocatedBytes() - before;
            assertTrue(allocated < SLACK_BYTES, allocated + " bytes allocated over " + CALLS + " iterations (" + sink + ")");
        } finally {
            Pointer.free(mem);
        }
    }

    private static long tlsfLoop(long heap, long[] stats, int n) {
        long sink = 0;
        for (int i = 0; i < n; i++) {
            long p = TlsfNative.tlsf_malloc(heap, 16 + (i & 255));
            sink += TlsfNative.tlsf_owns(heap, p) + TlsfNative.tlsf_block_size(p);
            sink += TlsfNative.tlsf_free_checked(heap, p);
            if ((i & 1023) == 0) {
                sink += TlsfNative.tlsf_stats(heap, stats);
            }
        }
        return sink;
    }

    @Test
    void smmallocCallsAllocateNothing() {
        long allocator = SmmallocNative.sm_allocator_create(8, 1 << 20);
        assertNotEquals(0, allocator);
        try {
            long[] batch = new long[16];
            smLoop(allocator, batch, 20_000 / batch.length);
            long before = allocatedBytes();
            long sink = smLoop(allocator, batch, CALLS / batch.length);
            long allocated = allocatedBytes() - before;
            assertTrue(allocated < SLACK_BYTES, allocated + " bytes allocated over " + CALLS + " iterations (" + sink + ")");
        } finally {
            SmmallocNative.sm_allocator_destroy(allocator);
        }
    }

    private static long smLoop(long allocator, long[] batch, int rounds) {
        long sink = 0;
        for (int r = 0; r < rounds; r++) {
            for (int i = 0; i < batch.length; i++) {
                batch[i] = SmmallocNative.sm_malloc(allocator, 16 + 8 * i, 0);
                sink += SmmallocNative.sm_owns(allocator, batch[i]) + SmmallocNative.sm_msize(allocator, batch[i]);
            }
            sink += SmmallocNative.sm_free_checked(allocator, batch[0]);
            batch[0] = 0;
            sink += SmmallocNative.sm_free_batch_checked(allocator, batch, batch.length);
        }
        return sink;
    }
}
