package dev.nalloc.toolkit;

import dev.nalloc.TlsfHeap;

/**
 * Child-JVM scenario of {@link DebugAllocatorTest}: the backing heap (a 1 MiB pool, which glibc
 * maps on its own and unmaps on free) is closed before the debug allocator, whose calls must
 * then report the order instead of reading the unmapped guard bytes. Prints the messages and OK.
 */
public final class DebugAllocatorCloseOrder {
    private DebugAllocatorCloseOrder() {}

    public static void main(String[] args) {
        TlsfHeap heap = TlsfHeap.create(1 << 20);
        DebugAllocator debug = new DebugAllocator("order", heap, LeakReporting.LOG, false);
        long p = debug.malloc(100);
        long q = debug.malloc(200);
        heap.close();
        expectClosedFirst(() -> debug.free(p));
        expectClosedFirst(() -> debug.realloc(q, 300));
        expectClosedFirst(debug::check);
        expectClosedFirst(debug::close);
        debug.close(); // closed now: nothing
        try {
            debug.malloc(1);
            throw new AssertionError("malloc after close");
        } catch (IllegalStateException expected) {
            System.out.println(expected.getMessage());
        }
        System.out.println("OK");
    }

    private static void expectClosedFirst(Runnable call) {
        try {
            call.run();
        } catch (IllegalStateException e) {
            if (!e.getMessage().contains("was closed before it")) {
                throw new AssertionError("unexpected message", e);
            }
            System.out.println(e.getMessage());
            return;
        }
        throw new AssertionError("no IllegalStateException");
    }
}
