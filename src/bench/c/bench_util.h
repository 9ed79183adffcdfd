/* Helpers shared by the C benchmarks (nalloc_bench, tlsf_icount): timing,
 * the random number generator and size mix, and sorting for medians and
 * percentiles. Include it first: clock_gettime needs the feature macro
 * below ahead of every system header. */
#ifndef NALLOC_BENCH_UTIL_H
#define NALLOC_BENCH_UTIL_H

#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

/* ---- timing ------------------------------------------------------------ */

static inline double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#define TICK_UNIT "TSC ticks"
/* lfence on both sides keeps the measured call from drifting out of the
 * window in either direction. */
static inline uint64_t ticks(void)
{
    uint64_t t;
    _mm_lfence();
    t = __rdtsc();
    _mm_lfence();
    return t;
}
#else
#define TICK_UNIT "ns"
static inline uint64_t ticks(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
#endif

/* ---- random numbers ---------------------------------------------------- */

static inline uint64_t rng_next(uint64_t *s)
{
    /* xorshift64* */
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545F4914F6CDD1DULL;
}

/* 8..256 B like the harness's random set, or (wide) one request in eight
 * up to 8 KiB, so splits and merges cross first levels and the live set
 * outgrows the L2 cache. */
static inline size_t rng_size(uint64_t *s, int wide)
{
    uint64_t x = rng_next(s);
    if (wide && (x & 7) == 0)
        return 8 + (x >> 8) % 8185;
    return 8 + (x >> 8) % 249;
}

/* ---- sorting ----------------------------------------------------------- */

static inline int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static inline int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* Sorts v in place. */
static inline double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof v[0], cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

#endif
