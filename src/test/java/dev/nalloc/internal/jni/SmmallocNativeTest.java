package dev.nalloc.internal.jni;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nalloc.internal.jni.SmmallocNative;
import org.bytedeco.javacpp.LongPointer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The raw smmalloc bindings against the real C core. */
class SmmallocNativeTest {
    static {
        // JavaCPP's own natives (Pointer.malloc, LongPointer) are compiled into libjninalloc;
        // without javacpp's platform jar they resolve only once it is loaded.
        NallocLibrary.load();
    }

    private static final int BUCKETS = 8;

    private long allocator;

    @BeforeEach
    void createAllocator() {
        allocator = SmmallocNative.sm_allocator_create(BUCKETS, 64 * 1024);
        assertNotEquals(0, allocator, "sm_allocator_create");
    }

    @AfterEach
    void destroyAllocator() {
        SmmallocNative.sm_allocator_destroy(allocator);
    }

    @Test
    void mallocOwnsFree() {
        long p = SmmallocNative.sm_malloc(allocator, 24, 0);
        assertNotEquals(0, p);
        assertEquals(0, p % SmmallocNative.SM_ALIGN_DEFAULT);
        assertEquals(1, SmmallocNative.sm_owns(allocator, p));
        assertEquals(32, SmmallocNative.sm_msize(allocator, p), "24 bytes come from the 32-byte bucket");
        assertEquals(1, SmmallocNative.sm_mbucket(allocator, p));
        SmmallocNative.sm_free(allocator, p);
        assertEquals(0, SmmallocNative.sm_owns(allocator, p));
        assertEquals(-1, SmmallocNative.sm_mbucket(allocator, p));
        assertEquals(0, SmmallocNative.sm_check(allocator));
    }

    @Test
    void checkedFreeRefusesWrongPointers() {
        long p = SmmallocNative.sm_malloc(allocator, 48, 0);
        assertNotEquals(0, p);
        assertEquals(SmmallocNative.SM_ERR_NOT_OWNED, SmmallocNative.sm_free_checked(allocator, p + 8), "interior pointer");
        long other = SmmallocNative.sm_allocator_create(1, SmmallocNative.SM_BUCKET_SIZE_MIN);
        try {
            long foreign = SmmallocNative.sm_malloc(other, 16, 0);
            assertEquals(SmmallocNative.SM_ERR_NOT_OWNED, SmmallocNative.sm_free_checked(allocator, foreign), "another allocator's block");
            assertEquals(SmmallocNative.SM_OK, SmmallocNative.sm_free_checked(other, foreign));
        } finally {
            SmmallocNative.sm_allocator_destroy(other);
        }
        assertEquals(1, SmmallocNative.sm_owns(allocator, p), "refused frees change nothing");
        assertEquals(SmmallocNative.SM_OK, SmmallocNative.sm_free_checked(allocator, p));
        assertEquals(SmmallocNative.SM_ERR_DOUBLE_FREE, SmmallocNative.sm_free_checked(allocator, p), "double free of a bucket block");
        assertEquals(SmmallocNative.SM_OK, SmmallocNative.sm_free_checked(allocator, 0), "NULL");
        assertEquals(0, SmmallocNative.sm_check(allocator));
    }

    @Test
    void fallbackBlocksAndRealloc() {
        long big = SmmallocNative.sm_malloc(allocator, 10_000, 0); // larger than any bucket block
        assertNotEquals(0, big);
        assertEquals(1, SmmallocNative.sm_owns(allocator, big));
        assertEquals(-1, SmmallocNative.sm_mbucket(allocator, big));
        assertTrue(SmmallocNative.sm_msize(allocator, big) >= 10_000);

        long p = SmmallocNative.sm_malloc(allocator, 16, 0);
        RawPointer.longsAt(p).put(0, 42L);
        long q = SmmallocNative.sm_realloc(allocator, p, 100, 0);
        assertNotEquals(0, q);
        assertEquals(42L, RawPointer.longsAt(q).get(0), "contents kept");
        assertEquals(0, SmmallocNative.sm_malloc(allocator, 16, 3), "alignment not a power of two");
        SmmallocNative.sm_free(allocator, q);
        SmmallocNative.sm_free(allocator, big);
        assertEquals(0, SmmallocNative.sm_check(allocator));
    }

    @Test
    void batchFreeCheckedWithLongArray() {
        long[] ptrs = new long[5];
        for (int i = 0; i < 5; i++) {
            ptrs[i] = SmmallocNative.sm_malloc(allocator, 16L * (i + 1), 0);
            assertNotEquals(0, ptrs[i]);
        }
        long live = ptrs[3];
        long beyondCount = ptrs[4];
        ptrs[3] = live + 8;   // interior pointer: refused, left in place
        assertEquals(1, SmmallocNative.sm_free_batch_checked(allocator, ptrs, 4));
        assertArrayEquals(new long[] {0, 0, 0, live + 8, beyondCount}, ptrs,
                "freed entries are set to NULL in the Java array, entries past count untouched");
        assertEquals(1, SmmallocNative.sm_owns(allocator, live));
        assertEquals(1, SmmallocNative.sm_owns(allocator, beyondCount));
        SmmallocNative.sm_free(allocator, beyondCount);

        // Only ptrs[0..count) is touched.
        long[] two = {live, SmmallocNative.sm_malloc(allocator, 16, 0)};
        assertEquals(0, SmmallocNative.sm_free_batch_checked(allocator, two, 1));
        assertEquals(0, two[0]);
        assertEquals(1, SmmallocNative.sm_owns(allocator, two[1]));
        SmmallocNative.sm_free_batch(allocator, two, 2);
        assertEquals(0, SmmallocNative.sm_owns(allocator, two[1]));

        assertThrows(IndexOutOfBoundsException.class, () -> SmmallocNative.sm_free_batch_checked(allocator, new long[2], 3));
        assertThrows(IndexOutOfBoundsException.class, () -> SmmallocNative.sm_free_batch(allocator, new long[2], -1));
        assertEquals(0, SmmallocNative.sm_check(allocator));
    }

    @Test
    void batchFreeFromNativeArray() {
        try (LongPointer array = new LongPointer(3)) {
            for (int i = 0; i < 3; i++) {
                array.put(i, SmmallocNative.sm_malloc(allocator, 64, 0));
            }
            long kept = array.get(2);
            array.put(2, kept + 16);
            assertEquals(1, SmmallocNative.sm_free_batch_checked(allocator, array.address(), 3));
            assertEquals(0, array.get(0));
            assertEquals(0, array.get(1));
            array.put(2, kept);
            SmmallocNative.sm_free_batch(allocator, array.address(), 3);
            assertEquals(0, SmmallocNative.sm_owns(allocator, kept));
        }
    }

    @Test
    void statsIntoLongArrayAndNativeStruct() {
        long p = SmmallocNative.sm_malloc(allocator, 16, 0);
        long[] stats = new long[SmmallocNative.SM_STATS_MAX_LONGS];
        int need = SmmallocNative.sm_get_stats(allocator, stats);
        assertEquals(SmmallocNative.SM_STATS_HEADER_LONGS + BUCKETS * SmmallocNative.SM_BUCKET_STATS_LONGS, need);
        assertEquals(BUCKETS, stats[SmmallocNative.SM_STATS_BUCKET_COUNT]);
        for (int b = 0; b < BUCKETS; b++) {
            assertEquals(16L * (b + 1), stats[SmmallocNative.smBucketStatsIndex(b, SmmallocNative.SM_BUCKET_BLOCK_SIZE)]);
            assertEquals(64 * 1024 / (16 * (b + 1)), stats[SmmallocNative.smBucketStatsIndex(b, SmmallocNative.SM_BUCKET_BLOCKS_TOTAL)]);
        }
        assertEquals(1, stats[SmmallocNative.smBucketStatsIndex(0, SmmallocNative.SM_BUCKET_BLOCKS_IN_USE)]);

        // The same numbers through a caller-provided native sm_stats.
        long structLongs = NativeConstants.sizeof_sm_stats() / Long.BYTES;
        try (LongPointer struct = new LongPointer(structLongs)) {
            SmmallocNative.sm_get_stats(allocator, struct.address());
            assertEquals(BUCKETS, struct.get(0));
            long bucket0InUse = struct.get(1 + 3);  // bucket_count, then buckets[0].blocks_in_use
            assertEquals(1, bucket0InUse);
        }

        long[] header = new long[SmmallocNative.SM_STATS_HEADER_LONGS];
        assertEquals(need, SmmallocNative.sm_get_stats(allocator, header), "a short array gets a prefix, never an overflow");
        assertEquals(BUCKETS, header[SmmallocNative.SM_STATS_BUCKET_COUNT]);
        SmmallocNative.sm_free(allocator, p);
    }

    @Test
    void threadCache() {
        assertEquals(0, SmmallocNative.sm_allocator_thread_cache_exists(allocator));
        SmmallocNative.sm_allocator_thread_cache_create(allocator, SmmallocNative.SM_CACHE_WARM, 4096);
        assertEquals(1, SmmallocNative.sm_allocator_thread_cache_exists(allocator));
        long p = SmmallocNative.sm_malloc(allocator, 16, 0);
        assertEquals(1, SmmallocNative.sm_owns(allocator, p));
        SmmallocNative.sm_free(allocator, p);
        SmmallocNative.sm_allocator_thread_cache_destroy(allocator);
        assertEquals(0, SmmallocNative.sm_allocator_thread_cache_exists(allocator));
        assertEquals(0, SmmallocNative.sm_check(allocator));
    }

    @Test
    void createRefusesBadArguments() {
        assertEquals(0, SmmallocNative.sm_allocator_create(0, SmmallocNative.SM_BUCKET_SIZE_MIN));
        assertEquals(0, SmmallocNative.sm_allocator_create(SmmallocNative.SM_MAX_BUCKETS + 1, SmmallocNative.SM_BUCKET_SIZE_MIN));
        assertEquals(0, SmmallocNative.sm_allocator_create(1, SmmallocNative.SM_BUCKET_SIZE_MIN - 1));
        assertEquals(BUCKETS, SmmallocNative.sm_bucket_count(allocator));
        assertEquals(16L * BUCKETS, SmmallocNative.sm_max_block_size(allocator));
    }
}
