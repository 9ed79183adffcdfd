/* nalloc_lwjgl.h - C entry points for LWJGL's MemoryAllocator function
 * pointers (getMalloc, getCalloc, ...), compiled into libjninalloc by
 * JavaCPP and bound by LwjglNative.
 *
 * Not part of the C core. LWJGL hands these addresses to native libraries
 * (stb, nuklear, vma, ...) that take a malloc/free callback pair, so they
 * must be plain functions with the C library's signatures. They cannot
 * take an allocator argument, hence one process-global sm_allocator that
 * the Java adapter (dev.nalloc.lwjgl.NallocLwjglAllocator) installs once,
 * before it hands out any address, and never destroys.
 *
 * Errors follow smmalloc.h: freeing a pointer the allocator does not own
 * (foreign, interior, already freed) is ignored, never a crash, because a
 * native library has no way to receive an error from free(). Java callers
 * get an IllegalArgumentException instead: they go through sm_free_checked.
 */
#ifndef NALLOC_LWJGL_H
#define NALLOC_LWJGL_H

#include <jni.h>
#include <atomic>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "smmalloc.h"

/* A function-local static rather than a namespace-scope one: one object per
 * translation unit either way (the header is included by the generated glue
 * only), but it needs no definition elsewhere. Atomic because native
 * threads that LWJGL never saw may call the shims. */
static inline std::atomic<sm_allocator> &nalloc_lwjgl_slot()
{
    static std::atomic<sm_allocator> slot(nullptr);
    return slot;
}

/* The installed allocator, NULL before nalloc_lwjgl_install. */
static inline sm_allocator nalloc_lwjgl_allocator()
{
    return nalloc_lwjgl_slot().load(std::memory_order_acquire);
}

/* Installs `a` as the shims' allocator if none is installed yet. Returns 1
 * when `a` is (now or already) the installed allocator, 0 when another one
 * was installed first: the shims never switch allocators, since a block
 * from the first could then be "freed" into the second and leak. */
static inline jint nalloc_lwjgl_install(sm_allocator a)
{
    sm_allocator expected = nullptr;
    if (nalloc_lwjgl_slot().compare_exchange_strong(expected, a, std::memory_order_acq_rel)) {
        return 1;
    }
    return expected == a ? 1 : 0;
}

/* The shims. sm_malloc(NULL allocator, ...) is never reached in practice:
 * Java installs the allocator before any address leaves the adapter; the
 * NULL checks only keep a misuse from dereferencing NULL. */

static void *nalloc_lwjgl_malloc(size_t size)
{
    sm_allocator a = nalloc_lwjgl_allocator();
    return a ? sm_malloc(a, size, 0) : NULL;
}

/* num * size must not wrap: a wrapped product would hand back a block
 * smaller than the caller indexes into. */
static void *nalloc_lwjgl_calloc(size_t num, size_t size)
{
    sm_allocator a = nalloc_lwjgl_allocator();
    if (a == NULL || (size != 0 && num > SIZE_MAX / size)) {
        return NULL;
    }
    size_t bytes = num * size;
    void *p = sm_malloc(a, bytes, 0);
    if (p != NULL) {
        /* blocks are recycled without being cleared, and fallback blocks
         * come from the system's malloc: neither is known to be zero */
        memset(p, 0, bytes);
    }
    return p;
}

static void *nalloc_lwjgl_realloc(void *p, size_t size)
{
    sm_allocator a = nalloc_lwjgl_allocator();
    return a ? sm_realloc(a, p, size, 0) : NULL;
}

static void nalloc_lwjgl_free(void *p)
{
    sm_allocator a = nalloc_lwjgl_allocator();
    if (a != NULL) {
        sm_free(a, p);
    }
}

/* C11 aligned_alloc argument order. Any power of two up to
 * SM_ALIGN_FALLBACK_MAX (1 GiB) is served, above SM_ALIGN_MAX (4096) by the
 * fallback; one that is not a power of two or is larger fails with NULL, as
 * sm_malloc does. */
static void *nalloc_lwjgl_aligned_alloc(size_t alignment, size_t size)
{
    sm_allocator a = nalloc_lwjgl_allocator();
    if (a == NULL || alignment == 0) {
        return NULL; /* sm_malloc reads 0 as "default", aligned_alloc must not */
    }
    return sm_malloc(a, size, alignment);
}

static void nalloc_lwjgl_aligned_free(void *p)
{
    nalloc_lwjgl_free(p);
}

#define NALLOC_LWJGL_MALLOC 0
#define NALLOC_LWJGL_CALLOC 1
#define NALLOC_LWJGL_REALLOC 2
#define NALLOC_LWJGL_FREE 3
#define NALLOC_LWJGL_ALIGNED_ALLOC 4
#define NALLOC_LWJGL_ALIGNED_FREE 5

/* Address of shim `which` (NALLOC_LWJGL_*), 0 for an unknown index. One
 * function instead of six @MemberGetters: the cast from a function pointer
 * to an integer is spelled out once. */
static inline jlong nalloc_lwjgl_function(jint which)
{
    switch (which) {
    case NALLOC_LWJGL_MALLOC: return (jlong)reinterpret_cast<intptr_t>(&nalloc_lwjgl_malloc);
    case NALLOC_LWJGL_CALLOC: return (jlong)reinterpret_cast<intptr_t>(&nalloc_lwjgl_calloc);
    case NALLOC_LWJGL_REALLOC: return (jlong)reinterpret_cast<intptr_t>(&nalloc_lwjgl_realloc);
    case NALLOC_LWJGL_FREE: return (jlong)reinterpret_cast<intptr_t>(&nalloc_lwjgl_free);
    case NALLOC_LWJGL_ALIGNED_ALLOC: return (jlong)reinterpret_cast<intptr_t>(&nalloc_lwjgl_aligned_alloc);
    case NALLOC_LWJGL_ALIGNED_FREE: return (jlong)reinterpret_cast<intptr_t>(&nalloc_lwjgl_aligned_free);
    default: return 0;
    }
}

#endif
