// The JNI glue that JavaCPP generates is C++, so the public headers, and the
// OS layer and the gate's reader side that the glue includes, must be valid
// C++ as well as C11. Compiling this file is the whole test.
#include "sm_platform.h"
#include "nalloc_gate.h"
#include "smmalloc.h"
#include "tlsf.h"

extern "C++" int nalloc_headers_as_cxx(void);
int nalloc_headers_as_cxx(void)
{
    sm_allocator a = sm_allocator_create(1, 4096);
    tlsf_t t = tlsf_create(nullptr, 0);
    sm_allocator_destroy(a);
    void *p = sm_os_aligned_alloc(64, 64);
    sm_os_aligned_free(p);
    int target = 0;
    nalloc_gate *g = nalloc_gate_create(&target);
    nalloc_gate_reader *r = nalloc_gate_reader_here();
    if (g != nullptr && r != nullptr && nalloc_gate_enter(g, r) != nullptr) nalloc_gate_leave(r);
    nalloc_gate_free(g);
    return t == nullptr ? 0 : 1;
}
