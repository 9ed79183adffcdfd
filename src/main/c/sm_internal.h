/* Internal arithmetic of smmalloc shared with its unit test: the block index
 * of an address without integer division. Not part of the public API. */
#ifndef NALLOC_SM_INTERNAL_H
#define NALLOC_SM_INTERNAL_H

#include <stdint.h>

/* Largest divisor d (= bucket index + 1) and largest n (= byte offset in the
 * bucket / 16) for which sm_div_exact is exact. They follow from the public
 * limits: 64 buckets, buckets of at most 1 GiB (offset < 2^30, n < 2^26). */
#define SM_DIV_D_MAX 64u
#define SM_DIV_N_LIMIT ((uint64_t)1 << 26)

/* m = ceil(2^32 / d), for 1 <= d <= SM_DIV_D_MAX (m = 2^32 for d = 1, hence
 * 64 bits). Computed once per bucket at create. */
static inline uint64_t sm_div_magic(uint32_t d)
{
    return (((uint64_t)1 << 32) + d - 1) / d;
}

/* floor(n / d) as (n * m) >> 32.
 *
 * Proof of exactness for 1 <= d <= 64 and 0 <= n < 2^26:
 *   Write m = (2^32 + e) / d with e = m*d - 2^32; since m = ceil(2^32/d),
 *   0 <= e <= d - 1 <= 63. Write n = q*d + r with 0 <= r <= d - 1. Then
 *     n*m / 2^32 = n/d + n*e/(d*2^32) = q + (r + n*e/2^32) / d.
 *   n*e < 2^26 * 63 < 2^32, so n*e/2^32 < 1 and r + n*e/2^32 < (d-1) + 1 = d;
 *   the bracket is in [0, 1), so floor(n*m / 2^32) = q exactly.
 *   No overflow: n*m < 2^26 * 2^32 = 2^58.
 * The bound is nearly tight (n*e < 2^32 needs n < 2^32/63 ~ 2^26.02), which
 * is why buckets are limited to 1 GiB and bucket_count to 64. */
static inline uint32_t sm_div_exact(uint64_t n, uint64_t magic)
{
    return (uint32_t)((n * magic) >> 32);
}

#endif
