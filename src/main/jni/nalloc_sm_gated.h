/* nalloc_sm_gated.h - the bucket allocator's calls as the Java API makes
 * them: each one behind the allocator's gate (src/main/c/nalloc_gate.h), so
 * that Smmalloc.close() may race every other call. Compiled into
 * libjninalloc by JavaCPP and bound by GatedSmmallocNative.
 *
 * Java holds the gate, never the sm_allocator: a call that read the gate's
 * address just before close() still finds a valid gate (Java frees it only
 * once the Smmalloc object is unreachable), sees it shut and returns the
 * "closed" answer below without touching the allocator, which close()
 * destroys only after every call inside has left.
 *
 * Results for a shut gate: NULL or 0 where the C call returns a pointer or
 * a size (Java then checks its own closed flag), NALLOC_SM_CLOSED where it
 * returns a status. A thread that cannot get its 32-byte reader record
 * (memory exhausted) gets the same answers as for a shut gate.
 */
#ifndef NALLOC_SM_GATED_H
#define NALLOC_SM_GATED_H

#include <jni.h>
#include <stddef.h>
#include <stdint.h>
#include "nalloc_gate.h"
#include "nalloc_jni.h"
#include "smmalloc.h"

#define NALLOC_SM_CLOSED (-100)

/* Runs call(a) inside g, or returns `closed` when g is shut. */
template <typename R, typename Call>
static inline R nalloc_sm_gated(nalloc_gate *g, R closed, Call call)
{
    nalloc_gate_reader *r = nalloc_gate_reader_here();
    if (NALLOC_UNLIKELY(r == NULL)) return closed;
    sm_allocator a = (sm_allocator)nalloc_gate_enter(g, r);
    if (NALLOC_UNLIKELY(a == NULL)) return closed;
    R result = call(a);
    nalloc_gate_leave(r);
    return result;
}

/* A new allocator behind a new gate; NULL on bad arguments or exhaustion. */
static inline nalloc_gate *nalloc_sm_open(size_t bucket_count, size_t bucket_size_bytes)
{
    sm_allocator a = sm_allocator_create(bucket_count, bucket_size_bytes);
    if (a == NULL) return NULL;
    nalloc_gate *g = nalloc_gate_create(a);
    if (g == NULL) sm_allocator_destroy(a);
    return g;
}

/* Shuts the gate, waits for the calls inside, destroys the allocator. The
 * gate itself stays valid for callers that still hold it. Once only. */
static inline void nalloc_sm_close(nalloc_gate *g)
{
    nalloc_gate_shut(g);
    sm_allocator_destroy((sm_allocator)g->target);
}

/* The allocator itself, for nalloc's own C entry points (LWJGL). */
static inline sm_allocator nalloc_sm_allocator(nalloc_gate *g) { return (sm_allocator)g->target; }

static inline void *nalloc_sm_malloc(nalloc_gate *g, size_t bytes, size_t alignment)
{
    return nalloc_sm_gated(g, (void *)NULL, [=](sm_allocator a) { return sm_malloc(a, bytes, alignment); });
}

static inline int nalloc_sm_free(nalloc_gate *g, void *p)
{
    return nalloc_sm_gated(g, NALLOC_SM_CLOSED, [=](sm_allocator a) { return sm_free_checked(a, p); });
}

/* Refused entries, or -1 when closed (nothing freed). */
static inline jlong nalloc_sm_free_batch(nalloc_gate *g, jlong *ptrs, jlong count)
{
    return nalloc_sm_gated(g, (jlong)-1, [=](sm_allocator a) {
        return (jlong)sm_free_batch_checked(a, (void **)ptrs, (size_t)count);
    });
}

static inline void *nalloc_sm_realloc(nalloc_gate *g, void *p, size_t bytes, size_t alignment)
{
    return nalloc_sm_gated(g, (void *)NULL, [=](sm_allocator a) { return sm_realloc(a, p, bytes, alignment); });
}

static inline size_t nalloc_sm_msize(nalloc_gate *g, void *p)
{
    return nalloc_sm_gated(g, (size_t)0, [=](sm_allocator a) { return sm_msize(a, p); });
}

/* The bucket, -1 for no live bucket block, NALLOC_SM_CLOSED when closed. */
static inline int nalloc_sm_mbucket(nalloc_gate *g, void *p)
{
    return nalloc_sm_gated(g, NALLOC_SM_CLOSED, [=](sm_allocator a) { return (int)sm_mbucket(a, p); });
}

static inline int nalloc_sm_owns(nalloc_gate *g, void *p)
{
    return nalloc_sm_gated(g, NALLOC_SM_CLOSED, [=](sm_allocator a) { return sm_owns(a, p); });
}

/* 1 done, NALLOC_SM_CLOSED when closed. */
static inline int nalloc_sm_thread_cache_create(nalloc_gate *g, int warmup, size_t bytes_per_bucket)
{
    return nalloc_sm_gated(g, NALLOC_SM_CLOSED, [=](sm_allocator a) {
        sm_allocator_thread_cache_create(a, (sm_cache_warmup)warmup, bytes_per_bucket);
        return 1;
    });
}

static inline int nalloc_sm_thread_cache_destroy(nalloc_gate *g)
{
    return nalloc_sm_gated(g, NALLOC_SM_CLOSED, [=](sm_allocator a) {
        sm_allocator_thread_cache_destroy(a);
        return 1;
    });
}

static inline int nalloc_sm_thread_cache_exists(nalloc_gate *g)
{
    return nalloc_sm_gated(g, NALLOC_SM_CLOSED, [=](sm_allocator a) { return sm_allocator_thread_cache_exists(a); });
}

/* sm_thread_cache_layout; 0 (no cache) when closed. */
static inline jlong nalloc_sm_thread_cache_layout(nalloc_gate *g, jlong *out, jlong len)
{
    return nalloc_sm_gated(g, (jlong)0, [=](sm_allocator a) {
        return (jlong)sm_thread_cache_layout(a, (uint64_t *)out, (size_t)len);
    });
}

/* nalloc_sm_stats_longs, or NALLOC_SM_CLOSED when closed. */
static inline jint nalloc_sm_stats(nalloc_gate *g, jlong *out, jint len)
{
    return nalloc_sm_gated(g, (jint)NALLOC_SM_CLOSED, [=](sm_allocator a) { return nalloc_sm_stats_longs(a, out, len); });
}

/* sm_check with the gate held: no call runs meanwhile (new ones wait), so
 * the walk sees a quiescent allocator. NALLOC_SM_CLOSED when closed. */
static inline int nalloc_sm_check(nalloc_gate *g)
{
    if (!nalloc_gate_hold(g)) return NALLOC_SM_CLOSED;
    int broken = sm_check((sm_allocator)g->target);
    nalloc_gate_release(g);
    return broken;
}

#endif
