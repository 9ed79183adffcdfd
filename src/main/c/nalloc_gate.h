/* nalloc_gate: lets any number of threads pass into something (an allocator)
 * at the cost of two plain stores, and one thread at a time shut it for good
 * or hold it for a while, knowing that no thread is inside any more.
 *
 * It is what makes closing an allocator safe while other threads are still
 * calling it (a shutdown hook racing worker threads), and what lets a walk
 * of every structure (a health check) run while the allocator is in use:
 * the closer or checker waits until the threads inside have left, and
 * threads arriving meanwhile are turned away (shut) or wait (held).
 *
 * THE PROTOCOL (userspace-RCU style, with an asymmetric barrier)
 *  - A reader is one thread's record: `inside` names the gate it is in, or
 *    is NULL. Only its thread writes it. Records are never freed: a thread
 *    that ends hands its record to the next new thread.
 *  - Enter: store inside = gate, then load the gate's state; OPEN means go
 *    on, anything else means leave again. Leave: store inside = NULL with
 *    release order.
 *  - Shut or hold: store the state, then run the process-wide barrier
 *    (sm_os_process_barrier: every other thread executes a full fence), then
 *    wait until no reader's `inside` names the gate. Either a reader's store
 *    of `inside` is visible after the barrier (and is waited for), or its
 *    later load of the state sees the new state (and it turns back): the
 *    store-load pair of the classic Dekker handshake, with the expensive
 *    fence on the rare side only.
 *  - Where no process-wide barrier exists (nalloc_gate_light() == 0),
 *    readers make their store a sequentially consistent exchange instead,
 *    and both sides' accesses form the plain C11 Dekker pattern.
 *
 * MEMORY OF A GATE
 *  A gate must outlive every thread that may still enter it, including a
 *  thread that read its address just before it was shut: free it only when
 *  no such thread can exist (the Java layer frees it once the allocator
 *  object that owns it is unreachable).
 *
 * THREAD-SAFETY
 *  Enter and leave: any thread, any number at once. Shut, hold and release:
 *  any thread; they are serialized with each other process-wide (cold
 *  paths). A thread must not shut or hold a gate it is inside.
 *
 * Valid C11 and C++ (the JNI glue inlines the reader side): the shared
 * words are plain fields accessed through the compilers' __atomic builtins,
 * which gcc and clang provide in both languages. */
#ifndef NALLOC_GATE_H
#define NALLOC_GATE_H

#include "sm_platform.h"

#include "nalloc_compiler.h"

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define NALLOC_GATE_OPEN 0
#define NALLOC_GATE_HELD 1 /* by a checker: readers wait */
#define NALLOC_GATE_SHUT 2 /* for good: readers are refused */

/* Both words sit at offset 0 of their structs: the Java fast path writes
 * `inside` and reads `state` by address. */
typedef struct nalloc_gate {
    int state;    /* NALLOC_GATE_*; atomic */
    int reserved; /* keeps target 8-aligned on 32-bit targets too */
    void *target; /* what the gate guards; fixed at creation */
} nalloc_gate;

typedef struct nalloc_gate_reader {
    nalloc_gate *inside;              /* atomic; written by the owning thread only */
    struct nalloc_gate_reader *next;  /* the registry list; fixed once linked */
    int in_use;                       /* atomic: owned by a live thread */
    int fence;                        /* 1: no process barrier, enter fences */
} nalloc_gate_reader;

/* A new open gate guarding `target`; NULL when memory is exhausted. */
nalloc_gate *nalloc_gate_create(void *target);

/* Frees a gate (NULL ignored). Only when no thread can enter it any more. */
void nalloc_gate_free(nalloc_gate *g);

/* The calling thread's reader record, made or recycled on its first call;
 * NULL when memory is exhausted. The record belongs to the thread until it
 * exits. */
nalloc_gate_reader *nalloc_gate_reader_of_thread(void);

/* 1 when shut and hold use the process-wide barrier and readers need no
 * fence; 0 when readers must fence (no such barrier on this system). */
int nalloc_gate_light(void);

/* The barrier shut and hold use: with nalloc_gate_light(), every other
 * thread has executed a full fence when it returns; otherwise it does
 * nothing (the other side must then fence). For protocols of the same
 * shape elsewhere (the Java TlsfHeap's owner hand-over). */
void nalloc_gate_barrier(void);

/* Shuts the gate for good: from now on nalloc_gate_enter returns NULL.
 * Returns once no thread is inside. Shutting twice is harmless. */
void nalloc_gate_shut(nalloc_gate *g);

/* Holds the gate: returns 1 once no thread is inside, after which entering
 * threads wait until nalloc_gate_release; 0 (and nothing held) when the
 * gate is shut. */
int nalloc_gate_hold(nalloc_gate *g);

/* Ends a hold. */
void nalloc_gate_release(nalloc_gate *g);

/* Out of line: waits while the gate is held. */
void nalloc_gate_wait_held(nalloc_gate *g);

/* The calling thread's record, kept per translation unit in thread-local
 * storage so the hot path never calls out. */
static inline nalloc_gate_reader *nalloc_gate_reader_here(void)
{
    static NALLOC_THREAD_LOCAL nalloc_gate_reader *mine SM_TLS_ATTR;
    nalloc_gate_reader *r = mine;
    if (NALLOC_UNLIKELY(r == NULL)) mine = r = nalloc_gate_reader_of_thread();
    return r;
}

/* Enters g as reader r (the calling thread's): the gate's target, or NULL
 * when the gate is shut (r is then not inside). Waits while it is held. */
static inline void *nalloc_gate_enter(nalloc_gate *g, nalloc_gate_reader *r)
{
    for (;;) {
        if (NALLOC_LIKELY(!r->fence)) {
            __atomic_store_n(&r->inside, g, __ATOMIC_RELAXED);
            __atomic_signal_fence(__ATOMIC_SEQ_CST); /* the compiler keeps the order */
        } else {
            (void)__atomic_exchange_n(&r->inside, g, __ATOMIC_SEQ_CST); /* a full fence */
        }
        int state = __atomic_load_n(&g->state, __ATOMIC_SEQ_CST);
        if (NALLOC_LIKELY(state == NALLOC_GATE_OPEN)) return g->target;
        __atomic_store_n(&r->inside, (nalloc_gate *)NULL, __ATOMIC_RELEASE);
        if (state == NALLOC_GATE_SHUT) return NULL;
        nalloc_gate_wait_held(g);
    }
}

/* Leaves the gate r is inside: everything r did inside happens-before a
 * shut or hold that sees it gone. */
static inline void nalloc_gate_leave(nalloc_gate_reader *r)
{
    __atomic_store_n(&r->inside, (nalloc_gate *)NULL, __ATOMIC_RELEASE);
}

#ifdef __cplusplus
}
#endif

#endif
