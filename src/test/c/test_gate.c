/* The gate's contract: enter/leave pass an open gate, a shut gate turns
 * everyone away, and a shut or a hold returns only when nobody is inside.
 * The concurrent tests free what the gate guarded right after the shut, so
 * a reader left inside is a use after free for AddressSanitizer and a race
 * for ThreadSanitizer, and they count readers inside during every hold. */
#include "nalloc_gate.h"
#include "test_util.h"

#include <pthread.h>
#include <stdatomic.h>

static void enter_and_leave_an_open_gate(void)
{
    int target = 7;
    nalloc_gate *g = nalloc_gate_create(&target);
    REQUIRE(g != NULL);
    nalloc_gate_reader *r = nalloc_gate_reader_here();
    REQUIRE(r != NULL);
    CHECK(nalloc_gate_reader_of_thread() == r);
    CHECK(nalloc_gate_enter(g, r) == &target);
    CHECK(r->inside == g);
    nalloc_gate_leave(r);
    CHECK(r->inside == NULL);
    CHECK(nalloc_gate_light() == 0 || nalloc_gate_light() == 1);
    CHECK(r->fence == !nalloc_gate_light());
    nalloc_gate_free(g);
}

static void a_shut_gate_turns_everyone_away(void)
{
    int target = 7;
    nalloc_gate *g = nalloc_gate_create(&target);
    REQUIRE(g != NULL);
    nalloc_gate_reader *r = nalloc_gate_reader_here();
    nalloc_gate_shut(g);
    CHECK(g->state == NALLOC_GATE_SHUT);
    CHECK(nalloc_gate_enter(g, r) == NULL);
    CHECK(r->inside == NULL);
    nalloc_gate_shut(g); /* twice: harmless */
    CHECK(nalloc_gate_hold(g) == 0);
    nalloc_gate_free(g);
    nalloc_gate_free(NULL);
}

static void a_hold_lets_readers_in_after_release(void)
{
    int target = 7;
    nalloc_gate *g = nalloc_gate_create(&target);
    REQUIRE(g != NULL);
    nalloc_gate_reader *r = nalloc_gate_reader_here();
    CHECK(nalloc_gate_hold(g) == 1);
    CHECK(g->state == NALLOC_GATE_HELD);
    nalloc_gate_release(g);
    CHECK(nalloc_gate_enter(g, r) == &target);
    nalloc_gate_leave(r);
    nalloc_gate_free(g);
}

/* ---- concurrent: shut while readers work on the target ------------------ */

#define READERS 4
#define ROUNDS 64

typedef struct {
    nalloc_gate *_Atomic gate; /* the round's gate */
    _Atomic int round;         /* readers follow it; -1 = stop */
    _Atomic int inside;        /* readers inside right now */
    _Atomic long passes;
    _Atomic int next_id;       /* each reader's own slot of the target */
} shared_state;

static shared_state st;

/* Enters the current round's gate as often as it can and works on the
 * target (a heap buffer the closer frees after the shut). */
static void *reader_main(void *arg)
{
    (void)arg;
    int id = atomic_fetch_add(&st.next_id, 1);
    nalloc_gate_reader *r = nalloc_gate_reader_here();
    if (r == NULL) return NULL;
    for (;;) {
        int round = atomic_load(&st.round);
        if (round < 0) break;
        nalloc_gate *g = atomic_load(&st.gate);
        long *target = g != NULL ? (long *)nalloc_gate_enter(g, r) : NULL;
        if (target == NULL) { /* between rounds, or shut: wait for the next */
            sm_os_yield();
            continue;
        }
        atomic_fetch_add(&st.inside, 1);
        target[id] += 1; /* plain: only the gate orders it with the closer's writes */
        atomic_fetch_sub(&st.inside, 1);
        nalloc_gate_leave(r);
        atomic_fetch_add(&st.passes, 1);
    }
    return NULL;
}

static void shut_while_readers_are_inside(void)
{
    pthread_t t[READERS];
    atomic_store(&st.round, 0);
    atomic_store(&st.next_id, 0);
    for (int k = 0; k < READERS; ++k) REQUIRE(pthread_create(&t[k], NULL, reader_main, NULL) == 0);
    long last = 0;
    int rounds_with_traffic = 0;
    /* Gates are freed after the readers are joined: a reader may have read a
     * round's gate just before it was replaced and enter it much later. */
    nalloc_gate *gates[ROUNDS];
    for (int round = 0; round < ROUNDS; ++round) {
        long *target = (long *)calloc(READERS, sizeof *target);
        REQUIRE(target != NULL);
        nalloc_gate *g = nalloc_gate_create(target);
        REQUIRE(g != NULL);
        long start = atomic_load(&st.passes);
        atomic_store(&st.gate, g);
        atomic_store(&st.round, round);
        /* shut while the readers are busy with this gate */
        for (int k = 0; k < 100000 && atomic_load(&st.passes) < start + 64; ++k) sm_os_yield();
        nalloc_gate_shut(g);
        CHECK(atomic_load(&st.inside) == 0);
        atomic_store(&st.gate, (nalloc_gate *)NULL);
        /* A reader still inside would now race these writes and touch freed memory. */
        for (int k = 0; k < READERS; ++k) target[k] = -1;
        free(target);
        gates[round] = g;
        long passes = atomic_load(&st.passes);
        if (passes > last) ++rounds_with_traffic;
        last = passes;
    }
    atomic_store(&st.round, -1);
    for (int k = 0; k < READERS; ++k) pthread_join(t[k], NULL);
    for (int round = 0; round < ROUNDS; ++round) nalloc_gate_free(gates[round]);
    CHECK(rounds_with_traffic > ROUNDS / 2);
    printf("  shut: %d rounds, %ld passes, %d rounds with readers\n", ROUNDS,
           atomic_load(&st.passes), rounds_with_traffic);
}

/* ---- concurrent: holds while readers come and go ------------------------ */

static void *hold_reader_main(void *arg)
{
    nalloc_gate *g = (nalloc_gate *)arg;
    int id = atomic_fetch_add(&st.next_id, 1);
    nalloc_gate_reader *r = nalloc_gate_reader_here();
    if (r == NULL) return NULL;
    while (atomic_load(&st.round) >= 0) {
        long *target = (long *)nalloc_gate_enter(g, r);
        if (target == NULL) break;
        atomic_fetch_add(&st.inside, 1);
        target[id] += 1;
        atomic_fetch_sub(&st.inside, 1);
        nalloc_gate_leave(r);
        atomic_fetch_add(&st.passes, 1);
    }
    return NULL;
}

static void hold_while_readers_come_and_go(void)
{
    long target[READERS] = {0};
    nalloc_gate *g = nalloc_gate_create(target);
    REQUIRE(g != NULL);
    pthread_t t[READERS];
    atomic_store(&st.round, 0);
    atomic_store(&st.passes, 0);
    atomic_store(&st.next_id, 0);
    for (int k = 0; k < READERS; ++k) REQUIRE(pthread_create(&t[k], NULL, hold_reader_main, g) == 0);
    int seen_inside = 0;
    for (int i = 0; i < ROUNDS; ++i) {
        REQUIRE(nalloc_gate_hold(g) == 1);
        /* nobody inside for the whole hold: the "check" may read freely */
        for (int k = 0; k < 100; ++k) seen_inside += atomic_load(&st.inside) != 0;
        for (int k = 0; k < READERS; ++k) target[k] = i; /* races a reader left inside */
        nalloc_gate_release(g);
        for (int k = 0; k < 100; ++k) sm_os_yield();
    }
    atomic_store(&st.round, -1);
    for (int k = 0; k < READERS; ++k) pthread_join(t[k], NULL);
    CHECK(seen_inside == 0);
    CHECK(atomic_load(&st.passes) > 0); /* readers got in between holds */
    nalloc_gate_shut(g);
    nalloc_gate_free(g);
}

/* A thread that ends hands its record to the next new thread. */
static void *record_of(void *out)
{
    *(nalloc_gate_reader **)out = nalloc_gate_reader_here();
    return NULL;
}

static void records_are_recycled(void)
{
    nalloc_gate_reader *first = NULL, *second = NULL;
    pthread_t t;
    REQUIRE(pthread_create(&t, NULL, record_of, &first) == 0);
    pthread_join(t, NULL);
    REQUIRE(pthread_create(&t, NULL, record_of, &second) == 0);
    pthread_join(t, NULL);
    CHECK(first != NULL);
    CHECK(second == first);
    CHECK(second != nalloc_gate_reader_here());
}

int main(void)
{
    RUN_TEST(enter_and_leave_an_open_gate);
    RUN_TEST(a_shut_gate_turns_everyone_away);
    RUN_TEST(a_hold_lets_readers_in_after_release);
    RUN_TEST(records_are_recycled);
    RUN_TEST(shut_while_readers_are_inside);
    RUN_TEST(hold_while_readers_come_and_go);
    return test_finish("test_gate");
}
