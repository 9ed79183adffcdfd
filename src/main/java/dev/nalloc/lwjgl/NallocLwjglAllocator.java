package dev.nalloc.lwjgl;

import dev.nalloc.CacheWarmup;
import dev.nalloc.NativeAllocator;
import dev.nalloc.Smmalloc;
import dev.nalloc.SmmallocStats;
import dev.nalloc.ThreadCache;
import dev.nalloc.internal.Handles;
import dev.nalloc.internal.door.LwjglDoor;
import dev.nalloc.internal.jni.LwjglNative;
import dev.nalloc.internal.jni.SmmallocNative;
import dev.nalloc.toolkit.DebugAllocator;
import org.lwjgl.system.MemoryUtil;

/**
 * LWJGL 3's {@link MemoryUtil.MemoryAllocator} backed by nalloc's {@link Smmalloc}: one switch on
 * the command line moves an application's whole native allocation ({@code memAlloc},
 * {@code memCalloc}, {@code memRealloc}, {@code memAlignedAlloc}, the struct and buffer
 * {@code malloc}/{@code calloc} factories, and native libraries that LWJGL hands
 * {@link #getMalloc()} and friends) to nalloc:
 * <pre>
 * java -Dorg.lwjgl.system.allocator=dev.nalloc.lwjgl.NallocLwjglAllocator -cp ... MyApp
 * </pre>
 * or, in code before LWJGL's {@code MemoryUtil} is first touched,
 * {@code Configuration.MEMORY_ALLOCATOR.set("dev.nalloc.lwjgl.NallocLwjglAllocator")}. LWJGL reads
 * the setting once, when {@code MemoryUtil} initialises, and instantiates this class through its
 * public no-arg constructor. If that fails (nalloc's native library is missing, a setting below is
 * invalid) LWJGL logs "Failed to instantiate memory allocator" and silently uses its default: check
 * {@code MemoryUtil.getAllocator()} when it matters.
 *
 * <p><b>One allocator per process.</b> Every instance is a view of the same {@link Smmalloc},
 * created on first use and never closed: LWJGL has no shutdown point for its allocator, and native
 * libraries may keep calling the function pointers until the process ends. Its settings are read
 * from system properties at that moment:
 * <table>
 *   <caption>Settings</caption>
 *   <tr><th>property</th><th>default</th><th>why the default</th></tr>
 *   <tr><td>{@value #BUCKETS_PROPERTY}</td><td>{@value #DEFAULT_BUCKETS}</td>
 *       <td>the most buckets smmalloc has: blocks of 16 to 1024 bytes, which covers LWJGL's
 *       structs ({@code Vk*CreateInfo} and the like), small arrays and strings; larger requests
 *       (vertex and image data) go to the system allocator behind the fallback registry, where a
 *       bucket would not help</td></tr>
 *   <tr><td>{@value #BUCKET_BYTES_PROPERTY}</td><td>{@value #DEFAULT_BUCKET_BYTES} (8 MiB)</td>
 *       <td>8 MiB per bucket, 512 MiB of address space in all, made resident only as blocks are
 *       handed out; a bucket that runs out falls back to the system allocator, so the size bounds
 *       the reservation, not what can be allocated</td></tr>
 *   <tr><td>{@value #THREAD_CACHE_BYTES_PROPERTY}</td><td>{@value #DEFAULT_THREAD_CACHE_BYTES}</td>
 *       <td>bytes cached per bucket in each allocating Java thread's {@link ThreadCache}, made
 *       on the thread's first allocation: without caches every call contends on the shared
 *       lists (the README's JMH table: about 2&times; slower on one thread, far worse on two);
 *       {@code 0} turns them off</td></tr>
 * </table>
 *
 * <p><b>Semantics</b> are C's, as LWJGL expects: 0 is returned on failure (LWJGL's
 * {@code memAlloc} turns that into an {@link OutOfMemoryError}), {@code free(0)} does nothing,
 * {@code realloc(0, n)} is {@code malloc(n)}, negative sizes read as sizes no allocator can meet
 * and give 0. Where C would have undefined behaviour, nalloc is stricter: {@link #free},
 * {@link #aligned_free} and {@link #realloc} of an address that is not a live block of this
 * allocator (a double free, a foreign or interior pointer) throw {@link IllegalArgumentException}
 * and change nothing, instead of corrupting the heap or killing the JVM; so does
 * {@link #aligned_alloc} of an alignment LWJGL's contract does not allow (0, not a power of two)
 * or above nalloc's limit {@value #ALIGNMENT_LIMIT} (1 GiB), instead of a 0 that LWJGL would
 * report as an {@link OutOfMemoryError}.
 *
 * <p><b>Native callers</b> get the function pointers of small C functions in nalloc's JNI
 * library, with the C library's signatures ({@code malloc(size_t)}, {@code calloc(size_t, size_t)},
 * {@code realloc(void*, size_t)}, {@code free(void*)}, {@code aligned_alloc(size_t, size_t)},
 * {@code aligned_free(void*)}), working on the same allocator: a block may be allocated in Java
 * and freed in C or the other way round. A native {@code free} cannot report an error, so there a
 * pointer the allocator does not own (foreign, interior, already freed) is ignored: no crash, no
 * change, but also no diagnostic.
 *
 * <p><b>LWJGL's debug layers.</b> With {@code -Dorg.lwjgl.util.DebugAllocator=true} (or
 * {@code org.lwjgl.util.Debug}) LWJGL wraps this allocator in its tracking {@code DebugAllocator}:
 * {@code MemoryUtil.getAllocator()} then returns the wrapper and
 * {@code MemoryUtil.getAllocator(false)} this class. The Java calls still end here, after the
 * wrapper's bookkeeping; the wrapper's {@code getMalloc()} and friends return its own tracking
 * callbacks instead of this class's C functions. Only the plain case is tested.
 *
 * <p><b>Thread safety:</b> every method may be called from any thread at once; a block may be
 * freed by another thread than the one that allocated it (the allocation must happen-before the
 * free, as with any allocator).
 */
public final class NallocLwjglAllocator implements MemoryUtil.MemoryAllocator {

    /** System property: number of buckets, 1 to 64 (largest bucket block: 16 &times; buckets). */
    public static final String BUCKETS_PROPERTY = "dev.nalloc.lwjgl.buckets";
    /** System property: bytes per bucket, 4096 to 2<sup>30</sup>. */
    public static final String BUCKET_BYTES_PROPERTY = "dev.nalloc.lwjgl.bucketBytes";
    /** System property: bytes cached per bucket per thread, {@code 0} for no thread caches. */
    public static final String THREAD_CACHE_BYTES_PROPERTY = "dev.nalloc.lwjgl.threadCacheBytes";

    /**
     * Largest alignment {@link #aligned_alloc} serves: 2<sup>30</sup> (1 GiB), smmalloc's
     * {@code SM_ALIGN_FALLBACK_MAX}. Alignments up to {@value NativeAllocator#ALIGNMENT_MAX} (one
     * page) may come from a bucket; larger ones from the system allocator behind the fallback
     * registry.
     */
    public static final long ALIGNMENT_LIMIT = SmmallocNative.SM_ALIGN_FALLBACK_MAX;

    /** Default of {@value #BUCKETS_PROPERTY}: blocks of 16 to 1024 bytes. */
    public static final int DEFAULT_BUCKETS = 64;
    /** Default of {@value #BUCKET_BYTES_PROPERTY}: 8 MiB. */
    public static final long DEFAULT_BUCKET_BYTES = 8L << 20;
    /** Default of {@value #THREAD_CACHE_BYTES_PROPERTY}. */
    public static final long DEFAULT_THREAD_CACHE_BYTES = 4096;

    /**
     * The process-wide state, in a holder class so that it is built on the first constructor call
     * (LWJGL's, when {@code MemoryUtil} initialises) rather than when this class is merely loaded,
     * and exactly once however many instances are made.
     */
    private static final class Global {
        static final Smmalloc SMMALLOC;
        /** Its C handle, for the calls whose contract is wider than NativeAllocator's. */
        static final long HANDLE;
        static final long THREAD_CACHE_BYTES;
        /** Each thread's cache; null where caches are off. Never closed: see threadCache(). */
        static final ThreadLocal<ThreadCache> CACHES;
        static final long MALLOC;
        static final long CALLOC;
        static final long REALLOC;
        static final long FREE;
        static final long ALIGNED_ALLOC;
        static final long ALIGNED_FREE;

        static {
            int buckets = intProperty(BUCKETS_PROPERTY, DEFAULT_BUCKETS);
            long bucketBytes = longProperty(BUCKET_BYTES_PROPERTY, DEFAULT_BUCKET_BYTES);
            long cacheBytes = longProperty(THREAD_CACHE_BYTES_PROPERTY, DEFAULT_THREAD_CACHE_BYTES);
            if (cacheBytes < 0) {
                throw new IllegalArgumentException(THREAD_CACHE_BYTES_PROPERTY + "=" + cacheBytes + " is negative");
            }
            Smmalloc sm = new Smmalloc(buckets, bucketBytes);
            // The C entry points must reach the same allocator before any of their addresses is
            // handed out; a second allocator in the slot would make native frees of this one's
            // blocks no-ops (leaks), so refuse rather than switch.
            long handle = Handles.smmalloc(sm);
            if (LwjglNative.nalloc_lwjgl_install(handle) != 1) {
                sm.close();
                throw new IllegalStateException("another allocator is already installed behind nalloc's"
                        + " LWJGL entry points (a second copy of nalloc in another class loader?)");
            }
            SMMALLOC = sm;
            HANDLE = handle;
            THREAD_CACHE_BYTES = cacheBytes;
            CACHES = cacheBytes == 0 ? null : new ThreadLocal<>();
            MALLOC = function(LwjglNative.NALLOC_LWJGL_MALLOC);
            CALLOC = function(LwjglNative.NALLOC_LWJGL_CALLOC);
            REALLOC = function(LwjglNative.NALLOC_LWJGL_REALLOC);
            FREE = function(LwjglNative.NALLOC_LWJGL_FREE);
            ALIGNED_ALLOC = function(LwjglNative.NALLOC_LWJGL_ALIGNED_ALLOC);
            ALIGNED_FREE = function(LwjglNative.NALLOC_LWJGL_ALIGNED_FREE);
        }

        private static long function(int which) {
            long address = LwjglNative.nalloc_lwjgl_function(which);
            if (address == 0) {
                throw new IllegalStateException("nalloc_lwjgl_function(" + which + ") is 0");
            }
            return address;
        }

        private static int intProperty(String name, int fallback) {
            long value = longProperty(name, fallback);
            if (value != (int) value) {
                throw new IllegalArgumentException(name + "=" + value + " is out of range");
            }
            return (int) value;
        }

        private static long longProperty(String name, long fallback) {
            String text = System.getProperty(name);
            if (text == null || text.isBlank()) {
                return fallback;
            }
            try {
                return Long.parseLong(text.trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(name + "=" + text + " is not a number of bytes", e);
            }
        }
    }

    /**
     * Creates a view of the process-wide allocator, creating that allocator (with the settings of
     * the class notes) on the first call. LWJGL calls this once, through reflection.
     *
     * @throws IllegalArgumentException if a setting is invalid (first call only; later calls then
     *         fail with {@link NoClassDefFoundError}, as for any failed class initialisation)
     * @throws UnsatisfiedLinkError if nalloc's native library for this platform is not on the
     *         classpath
     */
    public NallocLwjglAllocator() {
        Global.SMMALLOC.bucketCount(); // forces the holder's initialisation now, not at first malloc
    }

    // ---- Java entry points (MemoryUtil's nmem* and mem* land here) ----

    /**
     * C's {@code malloc}: a block of at least {@code size} bytes aligned to 16, or 0. {@code size}
     * 0 gives a unique minimum block.
     *
     * @param size bytes; negative reads as an impossible size and gives 0
     * @return the block, or 0 when memory is exhausted
     */
    @Override
    public long malloc(long size) {
        if (size < 0) {
            return 0;
        }
        ThreadCache cache = threadCache();
        return cache != null ? cache.malloc(size) : Global.SMMALLOC.malloc(size);
    }

    /**
     * C's {@code calloc}: a zeroed block of {@code num * size} bytes, or 0. The product is checked
     * as {@code size_t}: one that would wrap gives 0, never a block shorter than asked for.
     *
     * @param num element count; negative gives 0
     * @param size element bytes; negative gives 0
     * @return the zeroed block, or 0 on overflow or exhaustion
     */
    @Override
    public long calloc(long num, long size) {
        if (num < 0 || size < 0) {
            return 0;
        }
        // the native entry point itself: one overflow check and one memset, shared with getCalloc()
        return LwjglDoor.calloc(num, size);
    }

    /**
     * C's {@code realloc}: resizes a block, keeping its first {@code min(old usable size, size)}
     * bytes; {@code address} 0 is {@code malloc(size)}. {@code size} 0 moves the block to a minimum
     * block rather than freeing it (C leaves the choice to the implementation; returning 0 there
     * would read as a failure with the old block still live).
     *
     * @param address a live block of this allocator, or 0
     * @param size new bytes; negative gives 0 and leaves the block as it was
     * @return the (possibly moved) block; 0 when memory is exhausted, and then {@code address} is
     *         still valid and unchanged
     * @throws IllegalArgumentException if {@code address} is not a live block of this allocator
     */
    @Override
    public long realloc(long address, long size) {
        if (size < 0) {
            return 0;
        }
        return Global.SMMALLOC.realloc(address, size);
    }

    /**
     * C's {@code free}; 0 does nothing.
     *
     * @param address a live block of this allocator, or 0
     * @throws IllegalArgumentException if {@code address} is not a live block of this allocator
     *         (double free, foreign or interior pointer); nothing is changed
     */
    @Override
    public void free(long address) {
        if (address == 0) {
            return;
        }
        ThreadCache cache = threadCache();
        if (cache != null) {
            cache.free(address);
        } else {
            Global.SMMALLOC.free(address);
        }
    }

    /**
     * C11's {@code aligned_alloc}: a block of at least {@code size} bytes whose address is a
     * multiple of {@code alignment}, or 0 when memory is exhausted. Any power of two up to
     * {@value #ALIGNMENT_LIMIT} is served: up to {@value NativeAllocator#ALIGNMENT_MAX} (one page)
     * possibly from a bucket, above that from the system allocator behind the fallback registry.
     * The block may be freed with {@link #aligned_free} or {@link #free} alike.
     *
     * @param alignment a power of two from 1 to {@value #ALIGNMENT_LIMIT}
     * @param size bytes; negative gives 0
     * @return the block, or 0 on exhaustion or a negative size
     * @throws IllegalArgumentException if {@code alignment} is not a power of two or is above
     *         {@value #ALIGNMENT_LIMIT}; nothing is allocated
     */
    @Override
    public long aligned_alloc(long alignment, long size) {
        if (alignment <= 0 || alignment > ALIGNMENT_LIMIT || (alignment & (alignment - 1)) != 0) {
            throw new IllegalArgumentException("alignment=" + alignment + " is not a power of two in 1.."
                    + ALIGNMENT_LIMIT);
        }
        if (size < 0) {
            return 0;
        }
        // sm_malloc itself: Smmalloc.malloc(size, alignment) keeps NativeAllocator's one-page
        // limit, which LWJGL's contract does not have (this allocator is never closed)
        return LwjglDoor.alignedAlloc(Global.HANDLE, size, alignment);
    }

    /**
     * Frees a block from {@link #aligned_alloc}; 0 does nothing. Blocks of this allocator carry no
     * alignment-specific header, so this is {@link #free}.
     *
     * @param address a live block of this allocator, or 0
     * @throws IllegalArgumentException if {@code address} is not a live block of this allocator
     */
    @Override
    public void aligned_free(long address) {
        free(address);
    }

    /**
     * The calling thread's cache, made on its first allocation. Never closed by this class: a
     * thread that ends hands its cached blocks back through the C thread-exit hook, and closing it
     * early would only make that thread's next call slower.
     */
    private static ThreadCache threadCache() {
        ThreadLocal<ThreadCache> caches = Global.CACHES;
        if (caches == null) {
            return null;
        }
        ThreadCache cache = caches.get();
        if (cache == null) {
            cache = Global.SMMALLOC.threadCache(Global.THREAD_CACHE_BYTES, CacheWarmup.COLD);
            caches.set(cache);
        }
        return cache;
    }

    // ---- native entry points (handed by LWJGL to native libraries) ----

    /**
     * The address of a C function {@code void *malloc(size_t size)} on this allocator.
     *
     * @return a function pointer, never 0
     */
    @Override
    public long getMalloc() {
        return Global.MALLOC;
    }

    /**
     * The address of a C function {@code void *calloc(size_t num, size_t size)} on this allocator:
     * zeroed, and NULL when {@code num * size} overflows.
     *
     * @return a function pointer, never 0
     */
    @Override
    public long getCalloc() {
        return Global.CALLOC;
    }

    /**
     * The address of a C function {@code void *realloc(void *ptr, size_t size)} on this allocator:
     * NULL {@code ptr} allocates; a pointer the allocator does not own gives NULL and is left
     * alone.
     *
     * @return a function pointer, never 0
     */
    @Override
    public long getRealloc() {
        return Global.REALLOC;
    }

    /**
     * The address of a C function {@code void free(void *ptr)} on this allocator. NULL, and any
     * pointer the allocator does not own (foreign, interior, already freed), are ignored: a native
     * caller cannot be told of the error, and a crash would take the JVM with it.
     *
     * @return a function pointer, never 0
     */
    @Override
    public long getFree() {
        return Global.FREE;
    }

    /**
     * The address of a C function {@code void *aligned_alloc(size_t alignment, size_t size)} on
     * this allocator, serving any power of two up to {@value #ALIGNMENT_LIMIT}: NULL for an
     * alignment that is 0, not a power of two or above that.
     *
     * @return a function pointer, never 0
     */
    @Override
    public long getAlignedAlloc() {
        return Global.ALIGNED_ALLOC;
    }

    /**
     * The address of a C function {@code void aligned_free(void *ptr)} on this allocator, the same
     * as {@link #getFree()}'s in behaviour (ignores NULL and pointers it does not own).
     *
     * @return a function pointer, never 0
     */
    @Override
    public long getAlignedFree() {
        return Global.ALIGNED_FREE;
    }

    // ---- introspection ----

    /**
     * A snapshot of the process-wide allocator's counters: how much of LWJGL's allocation nalloc
     * serves from buckets and how much falls back to the system allocator. The allocator itself is
     * not handed out: closing it would leave the native entry points on a destroyed allocator.
     *
     * @return a new snapshot
     */
    public static SmmallocStats stats() {
        return Global.SMMALLOC.stats();
    }

    /**
     * The bucket of a block of the process-wide allocator; never throws.
     *
     * @param address any address
     * @return 0 to {@code bucketCount() - 1} for a live bucket block; -1 for anything else (a block
     *         of the system fallback, a freed block, a foreign pointer, 0)
     */
    public static int bucket(long address) {
        return Global.SMMALLOC.bucket(address);
    }

    /**
     * The number of buckets the process-wide allocator was created with ({@value #BUCKETS_PROPERTY}).
     *
     * @return 1 to 64
     */
    public static int bucketCount() {
        return Global.SMMALLOC.bucketCount();
    }

    /**
     * {@code "NallocLwjglAllocator[buckets=64]"}.
     *
     * @return a short description
     */
    @Override
    public String toString() {
        return "NallocLwjglAllocator[buckets=" + Global.SMMALLOC.bucketCount() + "]";
    }
}
