/* nalloc_exports.h - the C entry points of the JDK 22+ binding: exported
 * extern "C" functions that dev.nalloc.internal.door (META-INF/versions/22)
 * calls through java.lang.foreign downcall handles. Compiled into
 * libjninalloc by JavaCPP with the JNI glue (@Platform include list of
 * NallocLibrary), so there is one library and one loading path for both
 * bindings.
 *
 * Why wrappers rather than the core's own symbols:
 *  - the gated calls (nalloc_sm_gated.h), nalloc_java.h's helpers and the
 *    LWJGL calloc are static inline C++ and have no symbol at all;
 *  - in a Windows DLL only explicitly exported functions are visible, and the
 *    core's functions are not marked;
 *  - every argument and result is an integer (uintptr_t, size_t, int32_t), so
 *    the Java side describes them as JAVA_LONG / JAVA_INT and no MemorySegment
 *    is made per call. nalloc ships 64-bit platforms only: uintptr_t and
 *    size_t are 64 bits wide (checked below).
 *
 * They live in the glue's translation unit on purpose: nalloc_lwjgl.h's
 * installed allocator is a function-local static of that unit, and the LWJGL
 * entry points here must see the same one.
 *
 * Which calls the Java side marks critical (Linker.Option.critical(false):
 * no thread-state transition, no safepoint while inside): the ones that
 * neither block for long nor call back into Java. Allocation calls qualify;
 * nalloc_ffm_sm_close (waits for the calls inside the gate) and
 * nalloc_ffm_gate_barrier (a process-wide barrier: a system call that waits
 * for every CPU) do not.
 */
#ifndef NALLOC_EXPORTS_H
#define NALLOC_EXPORTS_H

#include <jni.h>
#include <stddef.h>
#include <stdint.h>
#include "nalloc_gate.h"
#include "nalloc_java.h"
#include "nalloc_lwjgl.h"
#include "nalloc_sm_gated.h"
#include "smmalloc.h"
#include "tlsf.h"

static_assert(sizeof(uintptr_t) == 8 && sizeof(size_t) == 8,
              "the FFM binding passes pointers and sizes as Java longs");

/* Bumped whenever a signature below changes: the Java side checks it before
 * it links anything, so a main jar never calls a mismatched library. */
#define NALLOC_FFM_ABI 1

#define NALLOC_FFM_PTR(x) ((void *)(uintptr_t)(x))
#define NALLOC_FFM_TLSF(x) ((tlsf_t)(uintptr_t)(x))
#define NALLOC_FFM_SM(x) ((sm_allocator)(uintptr_t)(x))
#define NALLOC_FFM_GATE(x) ((nalloc_gate *)(uintptr_t)(x))
#define NALLOC_FFM_ADDR(p) ((uintptr_t)(p))

extern "C" {

JNIEXPORT int32_t nalloc_ffm_abi(void) { return NALLOC_FFM_ABI; }

/* ---- TLSF (tlsf.h, nalloc_java.h): one thread at a time per heap ---- */

JNIEXPORT uintptr_t nalloc_ffm_tlsf_malloc(uintptr_t t, size_t bytes)
{
    return NALLOC_FFM_ADDR(tlsf_malloc(NALLOC_FFM_TLSF(t), bytes));
}

JNIEXPORT uintptr_t nalloc_ffm_tlsf_memalign(uintptr_t t, size_t align, size_t bytes)
{
    return NALLOC_FFM_ADDR(tlsf_memalign(NALLOC_FFM_TLSF(t), align, bytes));
}

JNIEXPORT uintptr_t nalloc_ffm_tlsf_realloc(uintptr_t t, uintptr_t p, size_t bytes)
{
    return NALLOC_FFM_ADDR(tlsf_realloc(NALLOC_FFM_TLSF(t), NALLOC_FFM_PTR(p), bytes));
}

JNIEXPORT int32_t nalloc_ffm_tlsf_free_checked(uintptr_t t, uintptr_t p)
{
    return tlsf_free_checked(NALLOC_FFM_TLSF(t), NALLOC_FFM_PTR(p));
}

JNIEXPORT int32_t nalloc_ffm_tlsf_owns(uintptr_t t, uintptr_t p)
{
    return tlsf_owns(NALLOC_FFM_TLSF(t), NALLOC_FFM_PTR(p));
}

JNIEXPORT size_t nalloc_ffm_tlsf_usable_size(uintptr_t t, uintptr_t p)
{
    return nalloc_tlsf_usable_size(NALLOC_FFM_TLSF(t), NALLOC_FFM_PTR(p));
}

/* ---- the bucket allocator behind its gate (nalloc_sm_gated.h) ---- */

JNIEXPORT uintptr_t nalloc_ffm_sm_malloc(uintptr_t g, size_t bytes, size_t alignment)
{
    return NALLOC_FFM_ADDR(nalloc_sm_malloc(NALLOC_FFM_GATE(g), bytes, alignment));
}

JNIEXPORT int32_t nalloc_ffm_sm_free(uintptr_t g, uintptr_t p)
{
    return nalloc_sm_free(NALLOC_FFM_GATE(g), NALLOC_FFM_PTR(p));
}

JNIEXPORT uintptr_t nalloc_ffm_sm_realloc(uintptr_t g, uintptr_t p, size_t bytes, size_t alignment)
{
    return NALLOC_FFM_ADDR(nalloc_sm_realloc(NALLOC_FFM_GATE(g), NALLOC_FFM_PTR(p), bytes, alignment));
}

JNIEXPORT size_t nalloc_ffm_sm_msize(uintptr_t g, uintptr_t p)
{
    return nalloc_sm_msize(NALLOC_FFM_GATE(g), NALLOC_FFM_PTR(p));
}

JNIEXPORT int32_t nalloc_ffm_sm_mbucket(uintptr_t g, uintptr_t p)
{
    return nalloc_sm_mbucket(NALLOC_FFM_GATE(g), NALLOC_FFM_PTR(p));
}

JNIEXPORT int32_t nalloc_ffm_sm_owns(uintptr_t g, uintptr_t p)
{
    return nalloc_sm_owns(NALLOC_FFM_GATE(g), NALLOC_FFM_PTR(p));
}

/* Waits for the calls inside the gate: never bound as a critical call. */
JNIEXPORT void nalloc_ffm_sm_close(uintptr_t g)
{
    nalloc_sm_close(NALLOC_FFM_GATE(g));
}

/* ---- the bucket allocator without a gate: the LWJGL adapter's allocator,
 * installed once and never destroyed (nalloc_lwjgl.h) ---- */

JNIEXPORT uintptr_t nalloc_ffm_lwjgl_aligned_alloc(uintptr_t a, size_t bytes, size_t alignment)
{
    return NALLOC_FFM_ADDR(sm_malloc(NALLOC_FFM_SM(a), bytes, alignment));
}

JNIEXPORT uintptr_t nalloc_ffm_lwjgl_calloc(size_t num, size_t size)
{
    return NALLOC_FFM_ADDR(nalloc_lwjgl_calloc(num, size));
}

/* ---- the gate (nalloc_gate.h) ---- */

/* A system call that waits for every CPU: never bound as a critical call. */
JNIEXPORT void nalloc_ffm_gate_barrier(void)
{
    nalloc_gate_barrier();
}

/* ---- the system allocator (nalloc_java.h) ---- */

JNIEXPORT uintptr_t nalloc_ffm_system_alloc(size_t alignment, size_t bytes)
{
    return NALLOC_FFM_ADDR(nalloc_system_alloc(alignment, bytes));
}

JNIEXPORT void nalloc_ffm_system_free(uintptr_t p)
{
    nalloc_system_free(NALLOC_FFM_PTR(p));
}

} /* extern "C" */

#endif
