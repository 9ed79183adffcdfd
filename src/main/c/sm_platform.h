/* Internal OS layer of smmalloc: address-space reservation, aligned system
 * allocation, a mutex, and a per-thread value with a thread-exit callback.
 * Included by smmalloc.c only (everything is static). POSIX and _WIN32.
 *
 * The includer must define, before including this header:
 *     static void sm_thread_exit_hook(void *value);
 * which is called at the exit of every thread that registered a non-NULL
 * value with sm_os_thread_value_set (with that value). A fixed hook instead
 * of a function pointer keeps the once-initialisation free of casts. */
#ifndef NALLOC_SM_PLATFORM_H
#define NALLOC_SM_PLATFORM_H

#include <stddef.h>

static void sm_thread_exit_hook(void *value);

#if defined(_WIN32)

#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>
#include <malloc.h>

/* SRWLOCK: no destruction needed, statically initialisable. */
typedef SRWLOCK sm_mutex;
#define SM_MUTEX_INIT SRWLOCK_INIT
static inline void sm_mutex_init(sm_mutex *m) { InitializeSRWLock(m); }
static inline void sm_mutex_destroy(sm_mutex *m) { (void)m; }
static inline void sm_mutex_lock(sm_mutex *m) { AcquireSRWLockExclusive(m); }
static inline void sm_mutex_unlock(sm_mutex *m) { ReleaseSRWLockExclusive(m); }

/* Reserve only: Windows needs an explicit commit before use (sm_os_commit).
 * Committed pages are demand-zero (only touched pages get resident) but are
 * charged against the system commit limit at once, so smmalloc.c commits
 * lazily, ahead of each bucket's bump frontier (SM_OS_LAZY_COMMIT). A
 * commit may cover pages already committed; the range is rounded out to
 * whole pages by VirtualAlloc itself, whatever the page size. */
#define SM_OS_LAZY_COMMIT 1
static inline void *sm_os_reserve(size_t bytes)
{
    return VirtualAlloc(NULL, bytes, MEM_RESERVE, PAGE_NOACCESS);
}
static inline int sm_os_commit(void *p, size_t bytes)
{
    return VirtualAlloc(p, bytes, MEM_COMMIT, PAGE_READWRITE) != NULL;
}
static inline void sm_os_release(void *p, size_t bytes)
{
    (void)bytes;
    VirtualFree(p, 0, MEM_RELEASE);
}

static inline void *sm_os_aligned_alloc(size_t alignment, size_t bytes)
{
    return _aligned_malloc(bytes, alignment);
}
static inline void sm_os_aligned_free(void *p) { _aligned_free(p); }

/* Thread exit: a fiber-local slot whose callback runs at thread exit (and at
 * FlsFree, which we never call). It runs before the loader's
 * DLL_THREAD_DETACH notifications and TLS callbacks (observed under wine 8;
 * the order Windows' ntdll uses too), i.e. while the thread's C11
 * thread-locals are still alive: with MSVC/clang native TLS, and with
 * mingw gcc's emulated TLS in its "win32" thread model (emutls blocks freed
 * from a TLS callback). gcc's "posix" thread model frees emutls blocks of
 * winpthreads threads earlier, at pthread exit, and the hook's reset of the
 * thread state would then allocate a fresh block that leaks: build with
 * x86_64-w64-mingw32-gcc-win32 (cmake/toolchains/windows-x86_64.cmake). */
static DWORD sm_fls_index = FLS_OUT_OF_INDEXES;
static INIT_ONCE sm_fls_once = INIT_ONCE_STATIC_INIT;

static void WINAPI sm_fls_callback(PVOID value)
{
    if (value != NULL) sm_thread_exit_hook(value);
}

static BOOL CALLBACK sm_fls_init(PINIT_ONCE once, PVOID param, PVOID *ctx)
{
    (void)once;
    (void)param;
    (void)ctx;
    sm_fls_index = FlsAlloc(sm_fls_callback);
    return TRUE;
}

/* Sets the calling thread's value (NULL: no callback). 1 on success. */
static inline int sm_os_thread_value_set(void *value)
{
    InitOnceExecuteOnce(&sm_fls_once, sm_fls_init, NULL, NULL);
    return sm_fls_index != FLS_OUT_OF_INDEXES && FlsSetValue(sm_fls_index, value);
}

#else /* POSIX */

#include <pthread.h>
#include <stdlib.h>
#include <sys/mman.h>

#ifndef MAP_NORESERVE
#define MAP_NORESERVE 0 /* not every system has it; only affects accounting */
#endif
#if !defined(MAP_ANONYMOUS) && defined(MAP_ANON)
#define MAP_ANONYMOUS MAP_ANON
#endif

typedef pthread_mutex_t sm_mutex;
#define SM_MUTEX_INIT PTHREAD_MUTEX_INITIALIZER
static inline void sm_mutex_init(sm_mutex *m) { pthread_mutex_init(m, NULL); }
static inline void sm_mutex_destroy(sm_mutex *m) { pthread_mutex_destroy(m); }
static inline void sm_mutex_lock(sm_mutex *m) { pthread_mutex_lock(m); }
static inline void sm_mutex_unlock(sm_mutex *m) { pthread_mutex_unlock(m); }

/* The reservation is usable at once; sm_os_commit is a no-op. */
#define SM_OS_LAZY_COMMIT 0

/* MAP_NORESERVE: the reservation can be far larger than what will ever be
 * used (power-of-two strides, 64 buckets of 1 GiB) without being charged
 * against overcommit; pages become resident only when first written. */
static inline void *sm_os_reserve(size_t bytes)
{
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}
static inline int sm_os_commit(void *p, size_t bytes)
{
    (void)p; /* the mapping is already readable and writable */
    (void)bytes;
    return 1;
}
static inline void sm_os_release(void *p, size_t bytes) { munmap(p, bytes); }

static inline void *sm_os_aligned_alloc(size_t alignment, size_t bytes)
{
    void *p = NULL;
    if (alignment < sizeof(void *)) alignment = sizeof(void *);
    return posix_memalign(&p, alignment, bytes) == 0 ? p : NULL;
}
static inline void sm_os_aligned_free(void *p) { free(p); }

/* Thread exit: one process-wide key whose destructor runs at the exit of
 * every thread that set a non-NULL value. */
static pthread_key_t sm_exit_key;
static pthread_once_t sm_exit_once = PTHREAD_ONCE_INIT;
static int sm_exit_key_ok;

static void sm_exit_key_destructor(void *value)
{
    if (value != NULL) sm_thread_exit_hook(value);
}

static void sm_exit_key_init(void)
{
    sm_exit_key_ok = pthread_key_create(&sm_exit_key, sm_exit_key_destructor) == 0;
}

/* Sets the calling thread's value (NULL: no callback). 1 on success. */
static inline int sm_os_thread_value_set(void *value)
{
    pthread_once(&sm_exit_once, sm_exit_key_init);
    return sm_exit_key_ok && pthread_setspecific(sm_exit_key, value) == 0;
}

#endif

#endif
