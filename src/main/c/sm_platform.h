/* The OS layer of nalloc's C core: address-space reservation, aligned system
 * allocation, a mutex, a once-flag, a per-thread key whose destructor runs
 * at thread exit, yielding, and a process-wide memory barrier. POSIX and _WIN32. Every OS #if of the core lives here.
 *
 * Included by smmalloc.c and by the JNI glue (src/main/jni/nalloc_java.h),
 * so it is valid C11 and C++, and everything is static inline: an includer
 * that uses a part of it gets no unused-function warning for the rest.
 *
 * Include it before any other header: the feature macros below must be seen
 * by the first system header (they are no-ops if it comes later, as in the
 * C++ glue, where g++ defines _GNU_SOURCE anyway). */
#ifndef NALLOC_SM_PLATFORM_H
#define NALLOC_SM_PLATFORM_H

/* MAP_ANONYMOUS and MAP_NORESERVE are not in the strict C11/POSIX mode of
 * glibc, nor of macOS. */
#if !defined(_WIN32)
#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE 1
#endif
#ifndef _DARWIN_C_SOURCE
#define _DARWIN_C_SOURCE 1
#endif
#endif

#include <stddef.h>

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

/* Runs `init` exactly once for `flag`, whichever thread calls first. The
 * function pointer travels in a struct because INIT_ONCE's parameter is a
 * data pointer. */
typedef INIT_ONCE sm_os_once_flag;
#define SM_OS_ONCE_INIT INIT_ONCE_STATIC_INIT
struct sm_os_once_call {
    void (*init)(void);
};
static inline BOOL CALLBACK sm_os_once_run(PINIT_ONCE once, PVOID param, PVOID *ctx)
{
    (void)once;
    (void)ctx;
    ((struct sm_os_once_call *)param)->init();
    return TRUE;
}
static inline void sm_os_once(sm_os_once_flag *flag, void (*init)(void))
{
    struct sm_os_once_call call = {init};
    InitOnceExecuteOnce(flag, sm_os_once_run, &call, NULL);
}

/* Thread exit: a fiber-local slot whose callback runs at thread exit (and at
 * FlsFree, which we never call). It runs before the loader's
 * DLL_THREAD_DETACH notifications and TLS callbacks (observed under wine 8;
 * the order Windows' ntdll uses too), i.e. while the thread's C11
 * thread-locals are still alive: with MSVC/clang native TLS, and with
 * mingw gcc's emulated TLS in its "win32" thread model (emutls blocks freed
 * from a TLS callback). gcc's "posix" thread model frees emutls blocks of
 * winpthreads threads earlier, at pthread exit, and the destructor's reset
 * of the thread state would then allocate a fresh block that leaks: build with
 * x86_64-w64-mingw32-gcc-win32 (cmake/toolchains/windows-x86_64.cmake).
 *
 * The destructor has the FLS callback's calling convention (it differs
 * from the C default on 32-bit x86), so it is passed to FlsAlloc without a
 * cast: define it as `static void SM_OS_THREAD_EXIT_CALL f(void *value)`.
 * It may also be called with NULL. */
typedef DWORD sm_os_thread_key;
#define SM_OS_THREAD_EXIT_CALL WINAPI
/* 1 on success. */
static inline int sm_os_thread_key_create(sm_os_thread_key *key,
                                          void(SM_OS_THREAD_EXIT_CALL *destructor)(void *))
{
    *key = FlsAlloc(destructor);
    return *key != FLS_OUT_OF_INDEXES;
}
/* Sets the calling thread's value (NULL: no callback). 1 on success. */
static inline int sm_os_thread_key_set(sm_os_thread_key key, void *value)
{
    return FlsSetValue(key, value) != 0;
}

/* The process-wide barrier: when it returns, every other thread of the
 * process has executed a full memory barrier, so a store it made before that
 * point is visible here and a load it makes after it sees what this thread
 * stored before the call. That lets a rare writer (closing an allocator)
 * pair with readers that only order their accesses for the compiler.
 * sm_os_process_barrier_init says once whether it is available; when it is
 * not, readers must use a full fence of their own. */
static inline int sm_os_process_barrier_init(void) { return 1; }
static inline void sm_os_process_barrier(void) { FlushProcessWriteBuffers(); }

static inline void sm_os_yield(void) { SwitchToThread(); }
static inline void sm_os_nap(void) { Sleep(1); }

#else /* POSIX */

#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#if defined(__linux__)
#include <sys/syscall.h>
#endif

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

typedef pthread_once_t sm_os_once_flag;
#define SM_OS_ONCE_INIT PTHREAD_ONCE_INIT
static inline void sm_os_once(sm_os_once_flag *flag, void (*init)(void))
{
    pthread_once(flag, init);
}

/* Thread exit: a key whose destructor runs at the exit of every thread that
 * set a non-NULL value. */
typedef pthread_key_t sm_os_thread_key;
#define SM_OS_THREAD_EXIT_CALL
/* 1 on success. */
static inline int sm_os_thread_key_create(sm_os_thread_key *key,
                                          void(SM_OS_THREAD_EXIT_CALL *destructor)(void *))
{
    return pthread_key_create(key, destructor) == 0;
}
/* Sets the calling thread's value (NULL: no callback). 1 on success. */
static inline int sm_os_thread_key_set(sm_os_thread_key key, void *value)
{
    return pthread_setspecific(key, value) == 0;
}

static inline void sm_os_yield(void) { sched_yield(); }
/* A short sleep for waits that may last: 50 microseconds. */
static inline void sm_os_nap(void)
{
    struct timespec ts = {0, 50 * 1000};
    nanosleep(&ts, NULL);
}

/* The process-wide barrier (see the _WIN32 part). Linux: membarrier(2)'s
 * private expedited command (kernel 4.14+), which interrupts the CPUs that
 * run this process's threads. Elsewhere, or where the kernel refuses it
 * (old kernel, seccomp, an emulator), there is none and readers fence. The
 * command numbers are the kernel ABI's; <linux/membarrier.h> is not on
 * every libc's include path. */
#if defined(__linux__) && defined(SYS_membarrier)
#define SM_MEMBARRIER_CMD_PRIVATE_EXPEDITED 8
#define SM_MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED 16
static inline int sm_os_process_barrier_init(void)
{
    return syscall(SYS_membarrier, SM_MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0) == 0 &&
           syscall(SYS_membarrier, SM_MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0) == 0;
}
static inline void sm_os_process_barrier(void)
{
    (void)syscall(SYS_membarrier, SM_MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0);
}
#else
static inline int sm_os_process_barrier_init(void) { return 0; }
static inline void sm_os_process_barrier(void) {}
#endif

#endif

/* The thread-local state is read on every call. In a shared library (the
 * JNI library links the core with -fPIC) the default TLS model goes through
 * __tls_get_addr; initial-exec is a single %fs-relative load. It takes a
 * few dozen bytes (smmalloc's state, the gate's reader pointers) of the
 * static TLS surplus that glibc reserves for dlopen'ed libraries; define
 * SM_TLS_DEFAULT_MODEL to opt out. glibc only: musl has no
 * surplus and refuses to dlopen such a library ("initial-exec TLS resolves
 * to dynamic definition"). __GLIBC__ comes from <stdlib.h> above. */
#if (defined(__GNUC__) || defined(__clang__)) && defined(__ELF__) && \
    defined(__GLIBC__) && !defined(SM_TLS_DEFAULT_MODEL)
#define SM_TLS_ATTR __attribute__((tls_model("initial-exec")))
#else
#define SM_TLS_ATTR
#endif

#endif
