/* nalloc_jni.h - C++ helpers compiled into libjninalloc by JavaCPP.
 *
 * Not part of the C core: included only by the generated JNI glue (see
 * @Platform on dev.nalloc.internal.jni.NallocLibrary). They copy the stats
 * structs field by field into a Java long[] (pinned by the caller with
 * GetPrimitiveArrayCritical), so Java never depends on struct layout and no
 * Java object is made per call. The index order here is the one documented
 * by the *_STATS_* constants of TlsfNative and SmmallocNative.
 */
#ifndef NALLOC_JNI_H
#define NALLOC_JNI_H

#include <jni.h>
#include <stddef.h>
#include <stdint.h>
#include "tlsf.h"

#include "smmalloc.h"

#define NALLOC_TLSF_STATS_LONGS 6
#define NALLOC_SM_STATS_HEADER_LONGS 5
#define NALLOC_SM_BUCKET_STATS_LONGS 8

/* Fills out[0..min(len, 6)) and returns 6, the number of longs of a full copy. */
static inline jint nalloc_tlsf_stats_longs(tlsf_t t, jlong *out, jint len)
{
    tlsf_stats_t s;
    tlsf_stats(t, &s);
    const jlong v[NALLOC_TLSF_STATS_LONGS] = {
        (jlong)s.pool_bytes, (jlong)s.used_bytes, (jlong)s.free_bytes,
        (jlong)s.largest_free_block, (jlong)s.used_blocks, (jlong)s.free_blocks,
    };
    for (jint i = 0; i < len && i < NALLOC_TLSF_STATS_LONGS; i++) {
        out[i] = v[i];
    }
    return NALLOC_TLSF_STATS_LONGS;
}

/* Fills out[0..min(len, need)) and returns need = 5 + 8 * bucket_count:
 * [bucket_count, fallback_allocs, fallback_blocks_in_use,
 *  fallback_bytes_in_use, thread_caches], then per bucket i at 5 + 8*i:
 * [block_size, blocks_total, blocks_touched, blocks_in_use, blocks_cached,
 *  cache_hits, global_hits, fallbacks]. */
static inline jint nalloc_sm_stats_longs(sm_allocator a, jlong *out, jint len)
{
    sm_stats s;
    sm_get_stats(a, &s);
    const size_t buckets = s.bucket_count < SM_MAX_BUCKETS ? s.bucket_count : SM_MAX_BUCKETS;
    const jint need = (jint)(NALLOC_SM_STATS_HEADER_LONGS + NALLOC_SM_BUCKET_STATS_LONGS * buckets);
    const jint n = len < need ? len : need;
    const jlong header[NALLOC_SM_STATS_HEADER_LONGS] = {
        (jlong)s.bucket_count, (jlong)s.fallback_allocs, (jlong)s.fallback_blocks_in_use,
        (jlong)s.fallback_bytes_in_use, (jlong)s.thread_caches,
    };
    jint k = 0;
    for (jint i = 0; k < n && i < NALLOC_SM_STATS_HEADER_LONGS; i++) {
        out[k++] = header[i];
    }
    for (size_t b = 0; k < n && b < buckets; b++) {
        const sm_bucket_stats *bs = &s.buckets[b];
        const jlong v[NALLOC_SM_BUCKET_STATS_LONGS] = {
            (jlong)bs->block_size, (jlong)bs->blocks_total, (jlong)bs->blocks_touched,
            (jlong)bs->blocks_in_use, (jlong)bs->blocks_cached, (jlong)bs->cache_hits,
            (jlong)bs->global_hits, (jlong)bs->fallbacks,
        };
        for (jint i = 0; k < n && i < NALLOC_SM_BUCKET_STATS_LONGS; i++) {
            out[k++] = v[i];
        }
    }
    return need;
}

#endif
