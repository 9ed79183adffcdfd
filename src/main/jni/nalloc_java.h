/* nalloc_java.h - small C++ helpers for the public Java API (dev.nalloc),
 * compiled into libjninalloc by JavaCPP and bound by SystemNative (and, for
 * nalloc_tlsf_usable_size, by TlsfNative).
 *
 * Not part of the C core. Each helper is one JNI transition from Java and
 * allocates no Java object except nalloc_direct_buffer's ByteBuffer.
 */
#ifndef NALLOC_JAVA_H
#define NALLOC_JAVA_H

#include <jni.h>
#include <stddef.h>
#include <stdint.h>
#include "sm_platform.h"
#include "tlsf.h"

/* Memory from the system allocator aligned to `alignment` (a power of two,
 * at least sizeof(void*)), or NULL. Release with nalloc_system_free. */
static inline void *nalloc_system_alloc(size_t alignment, size_t bytes)
{
    if (bytes == 0) bytes = 1;
    return sm_os_aligned_alloc(alignment, bytes);
}

static inline void nalloc_system_free(void *p)
{
    sm_os_aligned_free(p);
}

/* A direct java.nio.ByteBuffer over [address, address + capacity), no copy
 * (JNI NewDirectByteBuffer; big-endian like every new buffer). NULL with a
 * pending exception if the JVM cannot make one. env and the calling class
 * are passed by JavaCPP for @Raw(withEnv = true). */
static inline jobject nalloc_direct_buffer(JNIEnv *env, jclass, void *address, jlong capacity)
{
    return env->NewDirectByteBuffer(address, capacity);
}

/* The address JavaCPP passes for a direct java.nio buffer argument (its
 * GetDirectBufferAddress plus position), as a number. */
static inline jlong nalloc_buffer_address(const void *p)
{
    return (jlong)(intptr_t)p;
}

/* Usable bytes of p when it is a live block of heap t, else 0: tlsf_owns and
 * tlsf_block_size in one transition (tlsf_block_size alone must not be given
 * a pointer that is not a live block). */
static inline size_t nalloc_tlsf_usable_size(tlsf_t t, const void *p)
{
    return tlsf_owns(t, p) ? tlsf_block_size(p) : 0;
}

#endif
