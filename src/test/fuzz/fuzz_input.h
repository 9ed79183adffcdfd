/* Decodes a libFuzzer input as a stream of small integers. Reading past the
 * end yields zeros, so every input, however short, is a valid program. */
#ifndef NALLOC_FUZZ_INPUT_H
#define NALLOC_FUZZ_INPUT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct {
    const uint8_t *p;
    size_t left;
} fuzz_input;

static inline uint32_t fuzz_u8(fuzz_input *in)
{
    if (in->left == 0) return 0;
    --in->left;
    return *in->p++;
}

static inline uint32_t fuzz_u16(fuzz_input *in)
{
    uint32_t lo = fuzz_u8(in);
    return lo | (fuzz_u8(in) << 8);
}

/* A size skewed towards small values but reaching large ones: the low bits
 * pick a magnitude, the rest a value within it. */
static inline size_t fuzz_size(fuzz_input *in, unsigned max_log2)
{
    uint32_t v = fuzz_u16(in);
    unsigned mag = (v & 0xf) % (max_log2 + 1);
    size_t top = (size_t)1 << mag;
    return (size_t)(v >> 4) % (top + 1);
}

/* A tag-derived byte pattern: a block's contents identify it, so a block
 * handed out twice or corrupted by a neighbour shows up on verification. */
static inline void fuzz_fill(void *p, size_t n, uint32_t tag)
{
    unsigned char *b = (unsigned char *)p;
    for (size_t i = 0; i < n; ++i) b[i] = (unsigned char)(tag + i * 31u);
}

static inline int fuzz_verify(const void *p, size_t n, uint32_t tag)
{
    const unsigned char *b = (const unsigned char *)p;
    for (size_t i = 0; i < n; ++i)
        if (b[i] != (unsigned char)(tag + i * 31u)) return 0;
    return 1;
}

/* Any broken expectation is a crash, which is what libFuzzer reports. */
#define FUZZ_ASSERT(cond) do { if (!(cond)) __builtin_trap(); } while (0)

#endif
