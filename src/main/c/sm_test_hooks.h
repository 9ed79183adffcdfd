/* Test-only hooks of smmalloc: points inside its lock-free paths where a
 * test may stop a thread, to force an interleaving that a stress test hits
 * only by luck (a remote free racing the owner's collection, two frees of one block at once).
 * Compiled in only when NALLOC_TEST_HOOKS is defined, which the build does
 * for the tests' own copy of the core (nalloc_core_hooks); nalloc_core and
 * the JNI library have neither the hooks nor the cost of testing for one.
 * Not part of the public API. */
#ifndef NALLOC_SM_TEST_HOOKS_H
#define NALLOC_SM_TEST_HOOKS_H

#ifndef NALLOC_TEST_HOOKS
#error "sm_test_hooks.h is only for builds with NALLOC_TEST_HOOKS"
#endif

typedef enum {
    /* span_push_remote: the block's link to the loaded remote head is
     * written; the CAS that publishes the block comes next. */
    SM_HOOK_REMOTE_PUSH_WINDOW,
    /* block_claim: right before the USED -> FREE_MARK CAS of a free. */
    SM_HOOK_CLAIM_WINDOW
} sm_hook_point;

typedef void (*sm_hook_fn)(sm_hook_point point);

/* Installs fn (NULL: none), called by every thread at every hook point of
 * every allocator; it must tell the threads it wants to stop apart itself.
 * Install it before starting the threads that should see it. */
void sm_test_set_hook(sm_hook_fn fn);

#endif
