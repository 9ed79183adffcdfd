package dev.nalloc.lwjgl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.lwjgl.system.MemoryUtil.memAddress;
import static org.lwjgl.system.MemoryUtil.memAlignedAlloc;
import static org.lwjgl.system.MemoryUtil.memAlignedFree;
import static org.lwjgl.system.MemoryUtil.memAlloc;
import static org.lwjgl.system.MemoryUtil.memCalloc;
import static org.lwjgl.system.MemoryUtil.memFree;
import static org.lwjgl.system.MemoryUtil.memGetByte;
import static org.lwjgl.system.MemoryUtil.memGetLong;
import static org.lwjgl.system.MemoryUtil.memPutLong;
import static org.lwjgl.system.MemoryUtil.memRealloc;
import static org.lwjgl.system.MemoryUtil.memSet;
import static org.lwjgl.system.MemoryUtil.nmemAlignedAlloc;
import static org.lwjgl.system.MemoryUtil.nmemAlloc;
import static org.lwjgl.system.MemoryUtil.nmemCalloc;
import static org.lwjgl.system.MemoryUtil.nmemFree;
import static org.lwjgl.system.MemoryUtil.nmemRealloc;

import dev.nalloc.Smmalloc;
import dev.nalloc.SmmallocStats;
import dev.nalloc.internal.Handles;
import dev.nalloc.internal.jni.LwjglNative;
import java.nio.ByteBuffer;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.lwjgl.system.JNI;
import org.lwjgl.system.MemoryUtil;

/**
 * The switch works through LWJGL's own entry points: this JVM was started with
 * {@code -Dorg.lwjgl.system.allocator=dev.nalloc.lwjgl.NallocLwjglAllocator} (surefire's
 * {@code lwjgl-adapter} execution, a JVM of its own), so {@code MemoryUtil} instantiated the
 * adapter when it initialised, and every {@code mem*} call below must land in nalloc.
 */
class NallocLwjglAllocatorTest {

    /** Bucket blocks and fallback blocks in use, so each test can prove it leaked nothing. */
    private long bucketBlocksAtStart;
    private long fallbackBlocksAtStart;

    @BeforeAll
    static void lwjglPickedTheAdapter() {
        assertEquals(NallocLwjglAllocator.class.getName(), System.getProperty("org.lwjgl.system.allocator"),
                "the lwjgl-adapter surefire execution sets the property before LWJGL is touched");
        // Touching MemoryUtil initialises it now, with the property above.
        assertTrue(MemoryUtil.getAllocator() instanceof NallocLwjglAllocator,
                "MemoryUtil.getAllocator() is " + MemoryUtil.getAllocator().getClass().getName());
    }

    NallocLwjglAllocatorTest() {
        SmmallocStats s = NallocLwjglAllocator.stats();
        bucketBlocksAtStart = s.bucketBlocksInUse();
        fallbackBlocksAtStart = s.fallbackBlocksInUse();
    }

    @AfterEach
    void nothingLeaked() {
        SmmallocStats s = NallocLwjglAllocator.stats();
        assertEquals(bucketBlocksAtStart, s.bucketBlocksInUse(), "bucket blocks in use: " + s);
        assertEquals(fallbackBlocksAtStart, s.fallbackBlocksInUse(), "fallback blocks in use: " + s);
    }

    @Test
    void memoryUtilUsesTheAdapterUnwrapped() {
        assertTrue(MemoryUtil.getAllocator() instanceof NallocLwjglAllocator);
        // no DebugAllocator layer in the plain case: tracked and untracked are the same object
        assertSame(MemoryUtil.getAllocator(), MemoryUtil.getAllocator(false));
        assertEquals(NallocLwjglAllocator.DEFAULT_BUCKETS, NallocLwjglAllocator.bucketCount());
    }

    @Test
    void theNativeEntryPointsNeverSwitchAllocators() {
        long installed = LwjglNative.nalloc_lwjgl_allocator();
        assertNotEquals(0, installed, "the adapter installed its allocator behind the C entry points");
        assertEquals(1, LwjglNative.nalloc_lwjgl_install(installed), "installing the same one again is fine");
        try (Smmalloc other = new Smmalloc(1, 4096)) {
            assertEquals(0, LwjglNative.nalloc_lwjgl_install(Handles.smmalloc(other)), "a second one is refused");
        }
        assertEquals(installed, LwjglNative.nalloc_lwjgl_allocator());
    }

    @Test
    void anAllocatingThreadGetsAThreadCache() throws Exception {
        long before = NallocLwjglAllocator.stats().threadCaches();
        long[] during = new long[1];
        Thread probe = new Thread(() -> {
            long p = nmemAlloc(32); // this thread's first allocation makes its cache
            during[0] = NallocLwjglAllocator.stats().threadCaches();
            nmemFree(p);
        });
        probe.start();
        probe.join();
        assertEquals(before + 1, during[0], "the probe thread had a cache while it ran");
    }

    @Test
    void memAllocIsServedByNallocBuckets() {
        SmmallocStats before = NallocLwjglAllocator.stats();
        ByteBuffer small = memAlloc(48);
        long address = memAddress(small);
        assertEquals(48, small.capacity());
        assertEquals(2, NallocLwjglAllocator.bucket(address), "a 48-byte block is in bucket 2 (48 B)");
        assertEquals(before.bucketBlocksInUse() + 1, NallocLwjglAllocator.stats().bucketBlocksInUse());
        small.putLong(0, 0x0123456789ABCDEFL).putLong(40, -1L);
        assertEquals(0x0123456789ABCDEFL, memGetLong(address));
        memFree(small);
        assertEquals(-1, NallocLwjglAllocator.bucket(address), "freed: no longer a live block");
        assertEquals(before.bucketBlocksInUse(), NallocLwjglAllocator.stats().bucketBlocksInUse());
    }

    @Test
    void largeMemAllocIsServedByTheFallbackRegistry() {
        SmmallocStats before = NallocLwjglAllocator.stats();
        ByteBuffer big = memAlloc(1 << 20);
        assertEquals(-1, NallocLwjglAllocator.bucket(memAddress(big)), "above 1 KiB: no bucket");
        SmmallocStats during = NallocLwjglAllocator.stats();
        assertEquals(before.fallbackBlocksInUse() + 1, during.fallbackBlocksInUse());
        assertEquals(before.fallbackAllocs() + 1, during.fallbackAllocs());
        big.put((1 << 20) - 1, (byte) 7);
        memFree(big);
        assertEquals(before.fallbackBlocksInUse(), NallocLwjglAllocator.stats().fallbackBlocksInUse());
    }

    @Test
    void memCallocIsZeroedEvenOnARecycledBlock() {
        for (int size : new int[] {64, 1000, 5000}) {
            ByteBuffer dirty = memAlloc(size);
            long address = memAddress(dirty);
            memSet(dirty, 0xA5);
            memFree(dirty);
            // same size again: a bucket hands the block just freed back (LIFO), so the zeroing is
            // really tested against old contents
            ByteBuffer clean = memCalloc(size);
            if (size <= 1024) {
                assertEquals(address, memAddress(clean), "bucket LIFO reuse, size " + size);
                assertTrue(NallocLwjglAllocator.bucket(memAddress(clean)) >= 0);
            }
            for (int i = 0; i < size; i++) {
                assertEquals(0, clean.get(i), "byte " + i + " of memCalloc(" + size + ")");
            }
            memFree(clean);
        }
        ByteBuffer array = memCalloc(16, 8);
        assertEquals(128, array.capacity());
        for (int i = 0; i < 128; i++) {
            assertEquals(0, array.get(i));
        }
        memFree(array);
    }

    @Test
    void callocOverflowReturnsZeroInsteadOfWrapping() {
        // 2^33 * 2^33 = 2^66 wraps to 0 in size_t: a wrapping calloc would hand out a tiny block
        assertEquals(0, nmemCalloc(1L << 33, 1L << 33));
        assertEquals(0, nmemCalloc(3, Long.MAX_VALUE));
        assertEquals(0, nmemCalloc(-1, 16));
        assertEquals(0, nmemCalloc(16, -1));
        // zero elements is not an overflow: a minimum block, freed like any other
        long empty = nmemCalloc(0, 1L << 40);
        assertNotEquals(0, empty);
        nmemFree(empty);
    }

    @Test
    void memReallocKeepsContentsAcrossBucketsAndFallback() {
        ByteBuffer b = memAlloc(32);
        for (int i = 0; i < 32; i++) {
            b.put(i, (byte) (i * 3 + 1));
        }
        b = memRealloc(b, 4000); // bucket -> fallback
        assertEquals(4000, b.capacity());
        assertEquals(-1, NallocLwjglAllocator.bucket(memAddress(b)));
        for (int i = 0; i < 32; i++) {
            assertEquals((byte) (i * 3 + 1), b.get(i), "byte " + i + " after growing");
        }
        b.put(3999, (byte) 99);
        b = memRealloc(b, 100); // fallback -> bucket
        assertTrue(NallocLwjglAllocator.bucket(memAddress(b)) >= 0, "100 bytes fit a bucket");
        for (int i = 0; i < 32; i++) {
            assertEquals((byte) (i * 3 + 1), b.get(i), "byte " + i + " after shrinking");
        }
        memFree(b);

        long p = nmemRealloc(0, 24); // realloc(NULL, n) is malloc(n)
        assertTrue(NallocLwjglAllocator.bucket(p) >= 0);
        assertEquals(0, nmemRealloc(p, -1), "an impossible size fails ...");
        memPutLong(p, 42);
        assertEquals(42, memGetLong(p), "... and leaves the block valid");
        nmemFree(p);
    }

    @Test
    void memAlignedAllocHonoursTheAlignment() {
        for (int alignment = 16; alignment <= 4096; alignment <<= 1) {
            for (int size : new int[] {alignment, 100, 3 * alignment}) {
                ByteBuffer b = memAlignedAlloc(alignment, size);
                long address = memAddress(b);
                assertEquals(0, address % alignment, "alignment " + alignment + " size " + size);
                assertEquals(size, b.capacity());
                b.put(size - 1, (byte) 1);
                memAlignedFree(b);
            }
        }
        // 64-byte alignment of a 64-byte block: bucket 3's blocks are multiples of 64
        long cacheLine = nmemAlignedAlloc(64, 64);
        assertEquals(0, cacheLine % 64);
        assertEquals(3, NallocLwjglAllocator.bucket(cacheLine));
        MemoryUtil.nmemAlignedFree(cacheLine);
        // beyond one page (LWJGL takes any power of two): the system allocator behind the fallback
        for (long alignment = 8192; alignment <= 1 << 20; alignment <<= 1) {
            long p = nmemAlignedAlloc(alignment, 64);
            assertNotEquals(0, p, "alignment " + alignment);
            assertEquals(0, p % alignment, "alignment " + alignment);
            assertEquals(-1, NallocLwjglAllocator.bucket(p), "a fallback block");
            memPutLong(p + 56, alignment);
            MemoryUtil.nmemAlignedFree(p);
        }
        ByteBuffer page16 = memAlignedAlloc(65536, 64);
        assertEquals(0, memAddress(page16) % 65536);
        memAlignedFree(page16);
        // not a power of two, or past the limit: an exception naming the limit, not LWJGL's
        // OutOfMemoryError for a 0
        for (long bad : new long[] {48, 0, -64, 1L << 31}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> nmemAlignedAlloc(bad, 96));
            assertEquals("alignment=" + bad + " is not a power of two in 1.." + (1L << 30), e.getMessage());
        }
    }

    @Test
    void doubleFreeThroughMemFreeIsAnExceptionNotACrash() {
        ByteBuffer small = memAlloc(64);
        memFree(small);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> memFree(small));
        assertTrue(e.getMessage().contains("double free"), e.getMessage());

        ByteBuffer big = memAlloc(64 << 10);
        memFree(big);
        assertThrows(IllegalArgumentException.class, () -> memFree(big), "fallback block freed twice");

        ByteBuffer aligned = memAlignedAlloc(256, 256);
        memAlignedFree(aligned);
        assertThrows(IllegalArgumentException.class, () -> memAlignedFree(aligned));

        ByteBuffer foreign = ByteBuffer.allocateDirect(64);
        assertThrows(IllegalArgumentException.class, () -> memFree(foreign), "not nalloc's block");
        ByteBuffer live = memAlloc(64);
        assertThrows(IllegalArgumentException.class, () -> nmemFree(memAddress(live) + 16), "interior pointer");
        assertThrows(IllegalArgumentException.class, () -> nmemRealloc(memAddress(live) + 16, 8));

        memFree((ByteBuffer) null); // MemoryUtil's null check
        nmemFree(0);   // free(NULL)
        // the allocator is unchanged and keeps working
        assertTrue(NallocLwjglAllocator.bucket(memAddress(live)) >= 0);
        memFree(live);
        long again = nmemAlloc(64);
        assertTrue(NallocLwjglAllocator.bucket(again) >= 0);
        nmemFree(again);
    }

    @Test
    void nativeFunctionPointersAreDistinctCFunctions() {
        MemoryUtil.MemoryAllocator a = MemoryUtil.getAllocator();
        List<Long> functions = List.of(a.getMalloc(), a.getCalloc(), a.getRealloc(), a.getFree(),
                a.getAlignedAlloc(), a.getAlignedFree());
        Set<Long> distinct = new HashSet<>(functions);
        assertEquals(6, distinct.size(), "six distinct addresses: " + functions);
        assertTrue(functions.stream().allMatch(f -> f != 0), functions.toString());
        // every instance hands out the same entry points: one allocator per process
        NallocLwjglAllocator other = new NallocLwjglAllocator();
        assertEquals(a.getMalloc(), other.getMalloc());
        assertEquals(a.getFree(), other.getFree());
    }

    @Test
    void nativeFunctionPointersWorkWhenCalledFromC() {
        MemoryUtil.MemoryAllocator a = MemoryUtil.getAllocator();
        // JNI.invoke*: LWJGL's own trampolines, which call the address as a C function pointer,
        // exactly as a native library given the pointer would
        long p = JNI.invokePP(48, a.getMalloc());
        assertEquals(2, NallocLwjglAllocator.bucket(p), "native malloc(48) is a bucket-2 block");
        memPutLong(p, 0x1122334455667788L);
        memPutLong(p + 40, 77);

        long q = JNI.invokePPP(p, 3000, a.getRealloc());
        assertNotEquals(0, q);
        assertEquals(-1, NallocLwjglAllocator.bucket(q), "3000 bytes: a fallback block");
        assertEquals(0x1122334455667788L, memGetLong(q));
        assertEquals(77, memGetLong(q + 40));
        assertEquals(-1, NallocLwjglAllocator.bucket(p), "moved: the old block is free");
        JNI.invokePV(q, a.getFree());

        long dirty = JNI.invokePP(128, a.getMalloc());
        MemoryUtil.memSet(dirty, 0xFF, 128);
        JNI.invokePV(dirty, a.getFree());
        long zeroed = JNI.invokePPP(16, 8, a.getCalloc());
        assertEquals(dirty, zeroed, "bucket LIFO reuse: calloc gets the dirty block back");
        for (int i = 0; i < 128; i++) {
            assertEquals(0, memGetByte(zeroed + i), "native calloc byte " + i);
        }
        JNI.invokePV(zeroed, a.getFree());
        assertEquals(0, JNI.invokePPP(1L << 33, 1L << 33, a.getCalloc()), "native calloc overflow");

        long aligned = JNI.invokePPP(512, 700, a.getAlignedAlloc()); // aligned_alloc(alignment, size)
        assertEquals(0, aligned % 512);
        JNI.invokePV(aligned, a.getAlignedFree());
        for (long alignment = 8192; alignment <= 1 << 20; alignment <<= 1) {
            long large = JNI.invokePPP(alignment, 700, a.getAlignedAlloc());
            assertNotEquals(0, large, "native aligned_alloc, alignment " + alignment);
            assertEquals(0, large % alignment);
            JNI.invokePV(large, a.getAlignedFree());
        }
        assertEquals(0, JNI.invokePPP(1L << 31, 64, a.getAlignedAlloc()), "alignment past the limit");
        assertEquals(0, JNI.invokePPP(3, 64, a.getAlignedAlloc()), "alignment not a power of two");
        assertEquals(0, JNI.invokePPP(0, 64, a.getAlignedAlloc()), "alignment 0");

        long fromNull = JNI.invokePPP(0, 40, a.getRealloc()); // realloc(NULL, n) = malloc(n)
        assertTrue(NallocLwjglAllocator.bucket(fromNull) >= 0);
        JNI.invokePV(fromNull, a.getFree());
    }

    @Test
    void nativeFreeIgnoresPointersTheAllocatorDoesNotOwn() {
        MemoryUtil.MemoryAllocator a = MemoryUtil.getAllocator();
        long freeFn = a.getFree();
        SmmallocStats before = NallocLwjglAllocator.stats();

        JNI.invokePV(0, freeFn); // free(NULL)
        ByteBuffer foreign = ByteBuffer.allocateDirect(64);
        JNI.invokePV(memAddress(foreign), freeFn); // not ours: ignored, the JVM's block is untouched
        foreign.putLong(0, 5);

        long p = JNI.invokePP(64, a.getMalloc());
        JNI.invokePV(p + 16, freeFn); // interior pointer: ignored
        assertTrue(NallocLwjglAllocator.bucket(p) >= 0, "still live after the interior free");
        JNI.invokePV(p, freeFn);
        JNI.invokePV(p, freeFn); // double free from C: ignored, no crash
        assertEquals(-1, NallocLwjglAllocator.bucket(p));
        // the same double free from Java is reported
        assertThrows(IllegalArgumentException.class, () -> nmemFree(p));
        assertEquals(before.bucketBlocksInUse(), NallocLwjglAllocator.stats().bucketBlocksInUse());
        assertEquals(0, JNI.invokePPP(p, 128, a.getRealloc()), "native realloc of a freed block: NULL");
    }

    @Test
    void blocksCrossBetweenJavaAndNativeAndBetweenThreads() throws Exception {
        MemoryUtil.MemoryAllocator a = MemoryUtil.getAllocator();
        // Java malloc, native free, and the other way round
        long javaBlock = nmemAlloc(80);
        JNI.invokePV(javaBlock, a.getFree());
        assertEquals(-1, NallocLwjglAllocator.bucket(javaBlock));
        long nativeBlock = JNI.invokePP(80, a.getMalloc());
        nmemFree(nativeBlock);
        assertEquals(-1, NallocLwjglAllocator.bucket(nativeBlock));

        // producers allocate through MemoryUtil (each with its own thread cache), consumers free
        // half through MemoryUtil and half through the native free
        int producers = 2;
        int perProducer = 20_000;
        BlockingQueue<Long> queue = new ArrayBlockingQueue<>(1024);
        ExecutorService pool = Executors.newFixedThreadPool(producers + 1);
        try {
            for (int t = 0; t < producers; t++) {
                long seed = t;
                pool.submit(() -> {
                    for (int i = 0; i < perProducer; i++) {
                        int size = 8 + (int) ((seed * 31 + i * 7) % 2000);
                        long block = nmemAlloc(size);
                        memPutLong(block, size);
                        queue.put(block);
                    }
                    return null;
                });
            }
            Future<Long> consumer = pool.submit(() -> {
                long checked = 0;
                for (int i = 0; i < producers * perProducer; i++) {
                    long block = queue.take();
                    long size = memGetLong(block);
                    assertTrue(size >= 8 && size < 2008, "block contents intact");
                    if ((i & 1) == 0) {
                        nmemFree(block);
                    } else {
                        JNI.invokePV(block, a.getFree());
                    }
                    checked++;
                }
                return checked;
            });
            assertEquals(producers * perProducer, consumer.get(60, TimeUnit.SECONDS));
        } finally {
            pool.shutdownNow();
            assertTrue(pool.awaitTermination(30, TimeUnit.SECONDS));
        }
    }
}
