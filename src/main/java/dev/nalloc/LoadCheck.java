package dev.nalloc;

import dev.nalloc.internal.jni.NallocLibrary;
import dev.nalloc.internal.jni.SmmallocNative;
import dev.nalloc.internal.jni.TlsfNative;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.Pointer;

/**
 * Smoke check of a deployment: loads the JNI library from the classpath, builds a TLSF heap in
 * a native buffer and an smmalloc allocator, allocates and frees on both, and prints {@code OK}.
 * Exit status 0 on success, 1 on a failed check. Run with the nalloc jar, its platform jar and
 * javacpp's jar on the classpath:
 * <pre>java -cp nalloc.jar:nalloc-linux-x86_64.jar:javacpp.jar dev.nalloc.LoadCheck</pre>
 */
public final class LoadCheck {
    private LoadCheck() {}

    /**
     * Runs the check and prints the platform, the loaded library and {@code OK}.
     *
     * @param args ignored
     */
    public static void main(String[] args) {
        String library = NallocLibrary.load();
        System.out.println("platform " + Loader.getPlatform() + ", library " + library);

        long heapBytes = 1 << 20;
        Pointer mem = Pointer.malloc(heapBytes);
        check(mem != null && !mem.isNull(), "native buffer");
        try {
            long tlsf = TlsfNative.tlsf_create(mem.address(), heapBytes);
            check(tlsf != 0, "tlsf_create");
            long p = TlsfNative.tlsf_malloc(tlsf, 100);
            check(p != 0, "tlsf_malloc");
            check(TlsfNative.tlsf_owns(tlsf, p) == 1, "tlsf_owns");
            check(TlsfNative.tlsf_free_checked(tlsf, p) == TlsfNative.TLSF_OK, "tlsf_free_checked");
            check(TlsfNative.tlsf_owns(tlsf, p) == 0, "tlsf_owns after free");
            check(TlsfNative.tlsf_check(tlsf) == TlsfNative.TLSF_INV_OK, "tlsf_check");
        } finally {
            Pointer.free(mem);
        }

        long sm = SmmallocNative.sm_allocator_create(4, SmmallocNative.SM_BUCKET_SIZE_MIN);
        check(sm != 0, "sm_allocator_create");
        try {
            long q = SmmallocNative.sm_malloc(sm, 32, 0);
            check(q != 0, "sm_malloc");
            check(SmmallocNative.sm_owns(sm, q) == 1, "sm_owns");
            check(SmmallocNative.sm_free_checked(sm, q) == SmmallocNative.SM_OK, "sm_free_checked");
        } finally {
            SmmallocNative.sm_allocator_destroy(sm);
        }
        publicApi();
        System.out.println("OK");
    }

    /**
     * The public API on top, including what differs most between machines: the Java fast path
     * (plain loads and stores on the C cache) and blocks crossing threads (memory ordering on
     * weakly ordered CPUs such as arm64).
     */
    private static void publicApi() {
        try (dev.nalloc.TlsfHeap heap = dev.nalloc.TlsfHeap.create(1 << 20)) {
            long p = heap.malloc(300);
            check(p != 0 && heap.size(p) >= 300, "TlsfHeap.malloc");
            heap.view(p).putLong(0, 42L);
            p = heap.realloc(p, 5000);
            check(heap.view(p).getLong(0) == 42L, "TlsfHeap.realloc keeps contents");
            heap.free(p);
            heap.check();
        }
        try (dev.nalloc.Smmalloc sm = new dev.nalloc.Smmalloc(8, 1 << 20)) {
            java.util.concurrent.ArrayBlockingQueue<Long> queue = new java.util.concurrent.ArrayBlockingQueue<>(64);
            long[] bad = new long[1];
            boolean[] fast = new boolean[1];
            Thread consumer = new Thread(() -> {
                try (dev.nalloc.ThreadCache cache = sm.threadCache(1024, dev.nalloc.CacheWarmup.WARM)) {
                    for (int i = 0; i < 20_000; i++) {
                        long q = queue.take();
                        if (sm.view(q, 8).getLong(0) != q) {
                            bad[0]++;
                        }
                        cache.free(q); // blocks of the producer come home here
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            consumer.start();
            try (dev.nalloc.ThreadCache cache = sm.threadCache(1024, dev.nalloc.CacheWarmup.WARM)) {
                fast[0] = cache.isFastPath();
                for (int i = 0; i < 20_000; i++) {
                    long q = cache.malloc(16 + i % 100);
                    sm.view(q, 8).putLong(0, q);
                    queue.put(q);
                }
                consumer.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            check(bad[0] == 0, "blocks handed between threads keep their contents");
            sm.check();
            System.out.println("public API: TlsfHeap, Smmalloc and ThreadCache (fast path "
                    + (fast[0] ? "on" : "off") + ") on two threads");
        }
    }

    private static void check(boolean ok, String what) {
        if (!ok) {
            System.out.println("FAILED: " + what);
            System.exit(1);
        }
    }
}
