/* nalloc_gate: the reader registry and the writer side (shut, hold). The
 * reader side is inline in nalloc_gate.h; the protocol is described there. */
#include "sm_platform.h"

#include "nalloc_gate.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Readers: a list that only grows (records are recycled, never freed), so a
 * writer can walk it without a lock while threads register. */
static nalloc_gate_reader *gate_readers;

/* Serializes shut and hold across all gates: both are rare, and one writer
 * at a time keeps a hold from interleaving with a shut of the same gate. */
static sm_mutex gate_writers = SM_MUTEX_INIT;

static sm_os_once_flag gate_once = SM_OS_ONCE_INIT;
static int gate_is_light;
static sm_os_thread_key gate_exit_key;
static int gate_exit_key_ok;

/* The calling thread's record as the core sees it (each translation unit
 * that inlines the reader side keeps its own copy of the pointer). */
static _Thread_local nalloc_gate_reader *gate_mine SM_TLS_ATTR;

static void SM_OS_THREAD_EXIT_CALL gate_thread_exit(void *value)
{
    if (value == NULL) return; /* Windows may call with an empty slot */
    nalloc_gate_reader *r = (nalloc_gate_reader *)value;
    __atomic_store_n(&r->in_use, 0, __ATOMIC_RELEASE);
    gate_mine = NULL;
}

static void gate_init(void)
{
    gate_is_light = sm_os_process_barrier_init();
    gate_exit_key_ok = sm_os_thread_key_create(&gate_exit_key, gate_thread_exit);
}

int nalloc_gate_light(void)
{
    sm_os_once(&gate_once, gate_init);
    return gate_is_light;
}

/* Gates and reader records get a cache line each: the hot words would
 * otherwise share a line with whatever the C library puts next to them,
 * written by other threads. */
#define GATE_LINE 64
_Static_assert(sizeof(nalloc_gate) <= GATE_LINE && sizeof(nalloc_gate_reader) <= GATE_LINE,
               "one cache line each");

static void *line_alloc(void)
{
    void *p = sm_os_aligned_alloc(GATE_LINE, GATE_LINE);
    if (p != NULL) memset(p, 0, GATE_LINE);
    return p;
}

nalloc_gate *nalloc_gate_create(void *target)
{
    nalloc_gate *g = (nalloc_gate *)line_alloc();
    if (g == NULL) return NULL;
    g->target = target;
    __atomic_store_n(&g->state, NALLOC_GATE_OPEN, __ATOMIC_RELEASE);
    return g;
}

void nalloc_gate_free(nalloc_gate *g) { sm_os_aligned_free(g); }

/* A record no live thread owns, or a new one linked at the head. */
static nalloc_gate_reader *reader_claim(void)
{
    for (nalloc_gate_reader *r = __atomic_load_n(&gate_readers, __ATOMIC_ACQUIRE); r != NULL;
         r = r->next) {
        int idle = 0;
        if (__atomic_load_n(&r->in_use, __ATOMIC_RELAXED) == 0 &&
            __atomic_compare_exchange_n(&r->in_use, &idle, 1, false, __ATOMIC_ACQUIRE,
                                        __ATOMIC_RELAXED))
            return r;
    }
    nalloc_gate_reader *r = (nalloc_gate_reader *)line_alloc();
    if (r == NULL) return NULL;
    r->in_use = 1;
    r->fence = !gate_is_light;
    nalloc_gate_reader *head = __atomic_load_n(&gate_readers, __ATOMIC_RELAXED);
    do {
        r->next = head;
    } while (!__atomic_compare_exchange_n(&gate_readers, &head, r, true, __ATOMIC_RELEASE,
                                          __ATOMIC_RELAXED));
    return r;
}

nalloc_gate_reader *nalloc_gate_reader_of_thread(void)
{
    nalloc_gate_reader *r = gate_mine;
    if (r != NULL) return r;
    sm_os_once(&gate_once, gate_init);
    /* Without the exit key a record could never be handed on when its
     * thread ends; refuse rather than leak one per thread. */
    if (!gate_exit_key_ok) return NULL;
    r = reader_claim();
    if (r == NULL) return NULL;
    if (!sm_os_thread_key_set(gate_exit_key, r)) {
        __atomic_store_n(&r->in_use, 0, __ATOMIC_RELEASE);
        return NULL;
    }
    gate_mine = r;
    return r;
}

/* Every other thread's earlier stores are visible to this one's later loads
 * and vice versa (see the protocol in nalloc_gate.h). Without the process
 * barrier the readers' sequentially consistent exchange pairs with the
 * state store and the loads of wait_readers_gone on its own. */
static void gate_barrier(void)
{
    if (gate_is_light) sm_os_process_barrier();
}

/* Yields first (a reader inside usually leaves within nanoseconds), then
 * naps, so a reader that was preempted inside gets the CPU back. */
static void backoff(unsigned *spins)
{
    if (++*spins < 64) sm_os_yield();
    else sm_os_nap();
}

void nalloc_gate_barrier(void)
{
    sm_os_once(&gate_once, gate_init);
    gate_barrier();
}

static void wait_readers_gone(nalloc_gate *g)
{
    for (nalloc_gate_reader *r = __atomic_load_n(&gate_readers, __ATOMIC_ACQUIRE); r != NULL;
         r = r->next) {
        unsigned spins = 0;
        while (__atomic_load_n(&r->inside, __ATOMIC_SEQ_CST) == g) backoff(&spins);
    }
}

void nalloc_gate_shut(nalloc_gate *g)
{
    sm_os_once(&gate_once, gate_init);
    sm_mutex_lock(&gate_writers);
    __atomic_store_n(&g->state, NALLOC_GATE_SHUT, __ATOMIC_SEQ_CST);
    gate_barrier();
    wait_readers_gone(g);
    sm_mutex_unlock(&gate_writers);
}

int nalloc_gate_hold(nalloc_gate *g)
{
    sm_os_once(&gate_once, gate_init);
    sm_mutex_lock(&gate_writers);
    if (__atomic_load_n(&g->state, __ATOMIC_ACQUIRE) == NALLOC_GATE_SHUT) {
        sm_mutex_unlock(&gate_writers);
        return 0;
    }
    __atomic_store_n(&g->state, NALLOC_GATE_HELD, __ATOMIC_SEQ_CST);
    gate_barrier();
    wait_readers_gone(g);
    return 1; /* gate_writers stays locked until nalloc_gate_release */
}

void nalloc_gate_release(nalloc_gate *g)
{
    __atomic_store_n(&g->state, NALLOC_GATE_OPEN, __ATOMIC_RELEASE);
    sm_mutex_unlock(&gate_writers);
}

void nalloc_gate_wait_held(nalloc_gate *g)
{
    unsigned spins = 0;
    while (__atomic_load_n(&g->state, __ATOMIC_ACQUIRE) == NALLOC_GATE_HELD) backoff(&spins);
}
