package dev.nalloc.internal.jni;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nalloc.internal.jni.TlsfNative;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.Pointer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The raw TLSF bindings against the real C core: a heap in a malloc'd native buffer. */
class TlsfNativeTest {
    static {
        // JavaCPP's own natives (Pointer.malloc, LongPointer) are compiled into libjninalloc;
        // without javacpp's platform jar they resolve only once it is loaded.
        NallocLibrary.load();
    }

    private static final long HEAP_BYTES = 1 << 20;

    private Pointer mem;
    private long heap;

    @BeforeEach
    void createHeap() {
        mem = Pointer.malloc(HEAP_BYTES);
        assertNotNull(mem);
        assertEquals(0, mem.address() % TlsfNative.tlsf_align_size(), "malloc'd memory is ALIGN_SIZE aligned");
        heap = TlsfNative.tlsf_create(mem.address(), HEAP_BYTES);
        assertNotEquals(0, heap, "tlsf_create");
    }

    @AfterEach
    void releaseHeap() {
        Pointer.free(mem);
    }

    @Test
    void mallocOwnsFree() {
        long p = TlsfNative.tlsf_malloc(heap, 100);
        assertNotEquals(0, p);
        assertEquals(0, p % TlsfNative.tlsf_align_size());
        assertTrue(p > mem.address() && p < mem.address() + HEAP_BYTES, "block inside the region");
        assertEquals(1, TlsfNative.tlsf_owns(heap, p));
        assertTrue(TlsfNative.tlsf_block_size(p) >= 100);
        TlsfNative.tlsf_free(heap, p);
        assertEquals(0, TlsfNative.tlsf_owns(heap, p));
        assertEquals(TlsfNative.TLSF_INV_OK, TlsfNative.tlsf_check(heap));
    }

    @Test
    void checkedFreeRefusesWrongPointers() {
        long p = TlsfNative.tlsf_malloc(heap, 64);
        assertNotEquals(0, p);
        assertEquals(TlsfNative.TLSF_ERR_NOT_OWNED, TlsfNative.tlsf_free_checked(heap, p + 16), "interior pointer");
        assertEquals(TlsfNative.TLSF_ERR_NOT_OWNED, TlsfNative.tlsf_free_checked(heap, mem.address() - 4096), "foreign pointer");
        assertEquals(1, TlsfNative.tlsf_owns(heap, p), "refused frees change nothing");
        assertEquals(TlsfNative.TLSF_OK, TlsfNative.tlsf_free_checked(heap, p));
        assertEquals(TlsfNative.TLSF_ERR_NOT_OWNED, TlsfNative.tlsf_free_checked(heap, p), "double free");
        assertEquals(TlsfNative.TLSF_OK, TlsfNative.tlsf_free_checked(heap, 0), "NULL");
        assertEquals(TlsfNative.TLSF_INV_OK, TlsfNative.tlsf_check(heap));
    }

    @Test
    void memalignAndRealloc() {
        long a = TlsfNative.tlsf_memalign(heap, 256, 40);
        assertNotEquals(0, a);
        assertEquals(0, a % 256);
        assertEquals(0, TlsfNative.tlsf_memalign(heap, 3, 40), "alignment not a power of two");

        long p = TlsfNative.tlsf_malloc(heap, 32);
        RawPointer.longsAt(p).put(0, 0x1234_5678_9abc_def0L);
        long q = TlsfNative.tlsf_realloc(heap, p, 4000);
        assertNotEquals(0, q);
        assertTrue(TlsfNative.tlsf_block_size(q) >= 4000);
        assertEquals(0x1234_5678_9abc_def0L, RawPointer.longsAt(q).get(0),
                "contents kept");
        TlsfNative.tlsf_free(heap, q);
        TlsfNative.tlsf_free(heap, a);
        assertEquals(TlsfNative.TLSF_INV_OK, TlsfNative.tlsf_check(heap));
    }

    @Test
    void statsIntoLongArrayAndNativeStruct() {
        long[] stats = new long[TlsfNative.TLSF_STATS_LONGS];
        assertEquals(TlsfNative.TLSF_STATS_LONGS, TlsfNative.tlsf_stats(heap, stats));
        assertEquals(0, stats[TlsfNative.TLSF_STATS_USED_BLOCKS]);
        long pool = stats[TlsfNative.TLSF_STATS_POOL_BYTES];
        assertTrue(pool > 0 && pool <= HEAP_BYTES, "pool bytes " + pool);

        long p = TlsfNative.tlsf_malloc(heap, 1000);
        TlsfNative.tlsf_stats(heap, stats);
        assertEquals(1, stats[TlsfNative.TLSF_STATS_USED_BLOCKS]);
        assertEquals(TlsfNative.tlsf_block_size(p), stats[TlsfNative.TLSF_STATS_USED_BYTES]);
        assertTrue(stats[TlsfNative.TLSF_STATS_LARGEST_FREE_BLOCK] <= stats[TlsfNative.TLSF_STATS_FREE_BYTES]);

        // The same numbers through a caller-provided native tlsf_stats_t.
        try (LongPointer struct = new LongPointer(TlsfNative.TLSF_STATS_LONGS)) {
            TlsfNative.tlsf_stats(heap, struct.address());
            for (int i = 0; i < TlsfNative.TLSF_STATS_LONGS; i++) {
                assertEquals(stats[i], struct.get(i), "field " + i);
            }
        }

        // A short array gets a prefix, never an overflow.
        long[] shortArray = {-1, -1};
        assertEquals(TlsfNative.TLSF_STATS_LONGS, TlsfNative.tlsf_stats(heap, shortArray));
        assertEquals(stats[0], shortArray[0]);
        assertEquals(stats[1], shortArray[1]);
        TlsfNative.tlsf_free(heap, p);
    }

    @Test
    void poolsAndSizes() {
        assertEquals(16, TlsfNative.tlsf_align_size());
        assertTrue(TlsfNative.tlsf_block_size_min() > 0);
        assertTrue(TlsfNative.tlsf_block_size_max() > TlsfNative.tlsf_block_size_min());
        long poolBytes = TlsfNative.tlsf_pool_size_for(100_000, 0);
        assertTrue(poolBytes >= 100_000, "pool size for 100000 bytes: " + poolBytes);
        assertTrue(TlsfNative.tlsf_pool_overhead(poolBytes) > 0);

        Pointer extra = Pointer.malloc(poolBytes);
        try {
            assertEquals(TlsfNative.TLSF_OK, TlsfNative.tlsf_add_pool(heap, extra.address(), poolBytes));
            assertEquals(TlsfNative.TLSF_ERR_OVERLAP, TlsfNative.tlsf_add_pool(heap, extra.address(), poolBytes));
            assertNotEquals(0, TlsfNative.tlsf_get_pool(heap));
            assertEquals(TlsfNative.TLSF_ERR_FIRST_POOL, TlsfNative.tlsf_remove_pool(heap, TlsfNative.tlsf_get_pool(heap)));
            assertEquals(TlsfNative.TLSF_OK, TlsfNative.tlsf_remove_pool(heap, extra.address()));
            assertEquals(TlsfNative.TLSF_ERR_NOT_POOL, TlsfNative.tlsf_remove_pool(heap, extra.address()));
            assertEquals(TlsfNative.TLSF_INV_OK, TlsfNative.tlsf_check(heap));
        } finally {
            Pointer.free(extra);
        }
    }

    @Test
    void invariantNames() {
        assertNotNull(TlsfNative.tlsf_invariant_name(TlsfNative.TLSF_INV_OK));
        for (int code = 1; code < TlsfNative.TLSF_INV_COUNT; code++) {
            String name = TlsfNative.tlsf_invariant_name(code);
            assertNotNull(name);
            assertNotEquals(TlsfNative.tlsf_invariant_name(TlsfNative.TLSF_INV_COUNT + 1), name, "code " + code + " has its own sentence");
        }
    }

    @Test
    void createRefusesBadRegions() {
        assertEquals(0, TlsfNative.tlsf_create(0, HEAP_BYTES), "NULL memory");
        assertEquals(0, TlsfNative.tlsf_create(mem.address() + 8, HEAP_BYTES - 8), "misaligned memory");
        assertEquals(0, TlsfNative.tlsf_create(mem.address(), 64), "too small");
    }
}
