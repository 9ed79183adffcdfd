package dev.nalloc;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.nalloc.toolkit.ArenaAllocator;
import dev.nalloc.toolkit.BlockPool;
import dev.nalloc.toolkit.ConcurrentBlockPool;
import dev.nalloc.toolkit.DebugAllocator;
import dev.nalloc.toolkit.LeakReporting;
import dev.nalloc.toolkit.LinearAllocator;
import dev.nalloc.toolkit.SystemAllocator;
import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

/** Every allocator states whether it may be called by several threads at once. */
class IsThreadSafeTest {

    @Test
    void everyAllocatorAnswersAsItsContractSays() {
        try (SystemAllocator sys = new SystemAllocator();
                TlsfHeap heap = TlsfHeap.create(1 << 20);
                SharedTlsfHeap shared = SharedTlsfHeap.create(1 << 20);
                Smmalloc sm = new Smmalloc(4, 1 << 16);
                BlockPool pool = BlockPool.over(sys, 64, 16, 16);
                ConcurrentBlockPool concurrentPool = ConcurrentBlockPool.over(sys, 64, 16, 16);
                ArenaAllocator arena = new ArenaAllocator(sys);
                LinearAllocator linear = LinearAllocator.over(ByteBuffer.allocateDirect(1024));
                LinearAllocator growing = LinearAllocator.over(sys, 4096);
                DebugAllocator debugHeap = new DebugAllocator("heap", heap, LeakReporting.LOG, false);
                DebugAllocator debugSm = new DebugAllocator("sm", sm, LeakReporting.LOG, false)) {
            assertEquals(false, heap.isThreadSafe(), "TlsfHeap");
            assertEquals(true, shared.isThreadSafe(), "SharedTlsfHeap");
            assertEquals(true, sm.isThreadSafe(), "Smmalloc");
            assertEquals(true, sys.isThreadSafe(), "SystemAllocator");
            assertEquals(false, pool.isThreadSafe(), "BlockPool");
            assertEquals(true, concurrentPool.isThreadSafe(), "ConcurrentBlockPool");
            assertEquals(false, arena.isThreadSafe(), "ArenaAllocator");
            assertEquals(false, linear.isThreadSafe(), "LinearAllocator over a buffer");
            assertEquals(false, growing.isThreadSafe(), "LinearAllocator over a parent");
            assertEquals(false, debugHeap.isThreadSafe(), "DebugAllocator answers as its target");
            assertEquals(true, debugSm.isThreadSafe(), "DebugAllocator answers as its target");
        }
    }
}
