/* Minimal test support shared by the C tests: a non-aborting CHECK that
 * counts failures, a deterministic RNG and a byte-pattern helper.
 * Tests stay dependency-free so they run the same under every sanitizer,
 * under qemu and under wine. */
#ifndef NALLOC_TEST_UTIL_H
#define NALLOC_TEST_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int test_checks;
static int test_failures;

/* Keeps going after a failure so one run reports every broken expectation. */
#define CHECK(cond)                                                          \
    do {                                                                     \
        ++test_checks;                                                       \
        if (!(cond)) {                                                       \
            ++test_failures;                                                 \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, \
                    #cond);                                                  \
        }                                                                    \
    } while (0)

/* For states after which continuing would only produce noise (a NULL heap). */
#define REQUIRE(cond)                                                        \
    do {                                                                     \
        ++test_checks;                                                       \
        if (!(cond)) {                                                       \
            fprintf(stderr, "%s:%d: REQUIRE failed: %s\n", __FILE__,         \
                    __LINE__, #cond);                                        \
            exit(1);                                                         \
        }                                                                    \
    } while (0)

#define RUN_TEST(fn)                                                         \
    do {                                                                     \
        int before_ = test_failures;                                         \
        fn();                                                                \
        printf("%-48s %s\n", #fn, test_failures == before_ ? "ok" : "FAILED"); \
    } while (0)

/* Prints the closing line and turns the failure count into the exit code. */
static inline int test_finish(const char *suite)
{
    printf("%s: %d checks, %d passed, %d failed\n", suite, test_checks,
           test_checks - test_failures, test_failures);
    return test_failures == 0 ? 0 : 1;
}

/* xorshift64*: fast, seedable, identical on every platform. */
typedef struct { uint64_t s; } test_rng;

static inline uint64_t rng_next(test_rng *r)
{
    uint64_t x = r->s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    r->s = x;
    return x * 0x2545F4914F6CDD1DULL;
}

/* Uniform in [lo, hi]; the modulo bias is irrelevant for tests. */
static inline uint64_t rng_range(test_rng *r, uint64_t lo, uint64_t hi)
{
    return lo + rng_next(r) % (hi - lo + 1);
}

/* Fills with a pattern derived from a tag so a block's contents identify it. */
static inline void pattern_fill(void *p, size_t n, uint64_t tag)
{
    unsigned char *b = (unsigned char *)p;
    for (size_t i = 0; i < n; ++i)
        b[i] = (unsigned char)(tag * 131u + i * 7u + (tag >> 8));
}

static inline int pattern_ok(const void *p, size_t n, uint64_t tag)
{
    const unsigned char *b = (const unsigned char *)p;
    for (size_t i = 0; i < n; ++i)
        if (b[i] != (unsigned char)(tag * 131u + i * 7u + (tag >> 8)))
            return 0;
    return 1;
}

/* Blocks that name themselves, for the concurrent tests: the first
 * TAG_BYTES hold a tag (thread and counter), the rest the tag's pattern, and
 * the size follows from the tag: mostly 8..128 bytes (buckets of up to
 * 128 B), 1 in 32 larger (the fallback). A block handed to two threads, or
 * written by the allocator while live, fails tagged_ok. */
#define TAG_BYTES 8

static inline size_t tagged_size(uint64_t tag)
{
    uint64_t h = tag * 0x9E3779B97F4A7C15ull;
    if ((h >> 59) == 0) return 129 + (size_t)((h >> 20) % 600);
    return TAG_BYTES + (size_t)((h >> 24) % (128 - TAG_BYTES + 1));
}

static inline void tagged_fill(void *p, uint64_t tag)
{
    memcpy(p, &tag, sizeof tag);
    pattern_fill((unsigned char *)p + TAG_BYTES, tagged_size(tag) - TAG_BYTES, tag);
}

/* The tag of a block filled by tagged_fill, 1 when its pattern is intact. */
static inline int tagged_ok(const void *p, uint64_t *tag)
{
    memcpy(tag, p, sizeof *tag);
    return pattern_ok((const unsigned char *)p + TAG_BYTES, tagged_size(*tag) - TAG_BYTES, *tag);
}

/* A test's size knob: argv[1] when given, else the environment variable
 * `name` when it is a positive number, else `fallback` (the CI size). */
static inline uint64_t test_size_arg(int argc, char **argv, const char *name, uint64_t fallback)
{
    if (argc > 1) return strtoull(argv[1], NULL, 0);
    const char *env = getenv(name);
    if (env != NULL && atoi(env) > 0) return strtoull(env, NULL, 0);
    return fallback;
}

/* The stress tests run one thread per core; NALLOC_TEST_THREADS overrides. */
#if defined(_WIN32)
#include <windows.h>
static inline int test_cpu_count(void)
{
    const char *env = getenv("NALLOC_TEST_THREADS");
    if (env && atoi(env) > 0) return atoi(env);
    SYSTEM_INFO si;
    GetSystemInfo(&si);
    return si.dwNumberOfProcessors > 0 ? (int)si.dwNumberOfProcessors : 1;
}
#else
#include <unistd.h>
static inline int test_cpu_count(void)
{
    const char *env = getenv("NALLOC_TEST_THREADS");
    if (env && atoi(env) > 0) return atoi(env);
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}
#endif

#endif
