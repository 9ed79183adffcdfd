// The JNI glue that JavaCPP generates is C++, so the public headers, and the
// OS layer that the glue (src/main/jni/nalloc_java.h) includes, must be valid
// C++ as well as C11. Compiling this file is the whole test.
#include "sm_platform.h"
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
    return t == nullptr ? 0 : 1;
}
