/* Compiler hints shared by the C core (tlsf.c, smmalloc.c, nalloc_gate). Internal.
 *
 * Compiler #ifs live here, OS #ifs in sm_platform.h: tlsf.c is
 * freestanding and must not pull in the OS layer (windows.h, pthread.h,
 * sys/mman.h) just to mark a branch unlikely. */
#ifndef NALLOC_COMPILER_H
#define NALLOC_COMPILER_H

/* NALLOC_LIKELY / NALLOC_UNLIKELY: branch hints for the block layout.
 * NALLOC_FORCE_INLINE replaces `inline` where -O2 would keep a small hot
 * helper as a call; NALLOC_NOINLINE keeps a rare path out of its caller. */
#if defined(__GNUC__) || defined(__clang__)
#define NALLOC_LIKELY(x) __builtin_expect(!!(x), 1)
#define NALLOC_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define NALLOC_FORCE_INLINE inline __attribute__((always_inline))
#define NALLOC_NOINLINE __attribute__((noinline))
#elif defined(_MSC_VER)
#define NALLOC_LIKELY(x) (x)
#define NALLOC_UNLIKELY(x) (x)
#define NALLOC_FORCE_INLINE __forceinline
#define NALLOC_NOINLINE __declspec(noinline)
#else
#define NALLOC_LIKELY(x) (x)
#define NALLOC_UNLIKELY(x) (x)
#define NALLOC_FORCE_INLINE inline
#define NALLOC_NOINLINE
#endif

/* Thread-local storage in a header included by C and C++ translation units. */
#ifdef __cplusplus
#define NALLOC_THREAD_LOCAL thread_local
#else
#define NALLOC_THREAD_LOCAL _Thread_local
#endif

#endif
