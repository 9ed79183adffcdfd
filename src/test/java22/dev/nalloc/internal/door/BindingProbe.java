package dev.nalloc.internal.door;

import dev.nalloc.Smmalloc;
import dev.nalloc.TlsfHeap;
import dev.nalloc.toolkit.SystemAllocator;

/**
 * Run in a JVM of its own by {@link BindingTest}: prints the binding in use ({@code binding=...}),
 * makes one round of calls through every door, and prints {@code OK} last when each gave the
 * expected answer.
 */
public final class BindingProbe {
    private BindingProbe() {}

    public static void main(String[] args) {
        System.out.println("binding=" + Binding.kind() + "; status=" + Binding.status());
        try (Smmalloc sm = new Smmalloc(4, 64 * 1024); TlsfHeap heap = TlsfHeap.create(1 << 20);
                SystemAllocator system = new SystemAllocator()) {
            long a = sm.malloc(40);
            long b = heap.malloc(40);
            long c = system.malloc(40);
            check(a != 0 && b != 0 && c != 0, "blocks from every allocator");
            check(sm.size(a) == 48 && sm.bucket(a) == 2 && heap.size(b) >= 40, "sizes");
            sm.free(a);
            heap.free(b);
            system.free(c);
            check(throwsIllegalArgument(() -> sm.free(a)), "Smmalloc double free refused");
            check(throwsIllegalArgument(() -> heap.free(b)), "TlsfHeap double free refused");
        }
        System.out.println("OK");
    }

    private static boolean throwsIllegalArgument(Runnable r) {
        try {
            r.run();
            return false;
        } catch (IllegalArgumentException expected) {
            return true;
        }
    }

    private static void check(boolean ok, String what) {
        if (!ok) {
            System.out.println("FAILED: " + what);
            System.exit(1);
        }
    }
}
