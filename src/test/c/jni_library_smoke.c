/* Smoke test of a JNI library built for another machine, run where no JVM
 * of that machine is at hand (windows-x86_64 under wine): loads the library
 * as a JVM would (LoadLibrary / dlopen), resolves the exported JNI entry
 * points of a few binding methods by their mangled names and calls them
 * directly. It proves what a cross build can get wrong: the file loads, the
 * exports carry the names and calling convention the JVM will look up, the
 * C core linked into it works, and bad frees are refused.
 *
 * The entry points taken here are JavaCPP's glue for static native methods
 * with only primitive arguments; that glue never touches the JNIEnv, so a
 * null one is passed.
 *
 *   jni_library_smoke path/to/jninalloc.dll   prints OK, exits 0 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#ifdef _WIN32
#include <windows.h>
#define JNI_CALL __stdcall
static void *open_library(const char *path) { return (void *)LoadLibraryA(path); }
static void *symbol(void *lib, const char *name)
{
    return (void *)(uintptr_t)GetProcAddress((HMODULE)lib, name);
}
#else
#include <dlfcn.h>
#define JNI_CALL
static void *open_library(const char *path) { return dlopen(path, RTLD_NOW | RTLD_LOCAL); }
static void *symbol(void *lib, const char *name) { return dlsym(lib, name); }
#endif

typedef int64_t(JNI_CALL *fn_jj)(void *env, void *cls, int64_t, int64_t);
typedef int64_t(JNI_CALL *fn_jjj)(void *env, void *cls, int64_t, int64_t, int64_t);
typedef int32_t(JNI_CALL *fn_i_jj)(void *env, void *cls, int64_t, int64_t);
typedef int32_t(JNI_CALL *fn_i_j)(void *env, void *cls, int64_t);
typedef void(JNI_CALL *fn_v_j)(void *env, void *cls, int64_t);

static int failures;
#define EXPECT(cond)                                                 \
    do {                                                             \
        if (!(cond)) {                                               \
            printf("FAILED: %s (line %d)\n", #cond, __LINE__);     \
            failures++;                                              \
        }                                                            \
    } while (0)

static void *need(void *lib, const char *name)
{
    void *f = symbol(lib, name);
    if (f == NULL) {
        printf("FAILED: no export %s\n", name);
        exit(1);
    }
    return f;
}

#define SM "Java_dev_nalloc_internal_jni_SmmallocNative_"
#define TL "Java_dev_nalloc_internal_jni_TlsfNative_"

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s <jni library>\n", argv[0]);
        return 2;
    }
    void *lib = open_library(argv[1]);
    if (lib == NULL) {
        printf("FAILED: cannot load %s\n", argv[1]);
        return 1;
    }

    fn_jj sm_create = (fn_jj)(uintptr_t)need(lib, SM "sm_1allocator_1create");
    fn_jjj sm_malloc = (fn_jjj)(uintptr_t)need(lib, SM "sm_1malloc");
    fn_i_jj sm_free_checked = (fn_i_jj)(uintptr_t)need(lib, SM "sm_1free_1checked");
    fn_i_j sm_check = (fn_i_j)(uintptr_t)need(lib, SM "sm_1check");
    fn_v_j sm_destroy = (fn_v_j)(uintptr_t)need(lib, SM "sm_1allocator_1destroy");
    int64_t sm = sm_create(NULL, NULL, 4, 4096);
    EXPECT(sm != 0);
    int64_t p = sm_malloc(NULL, NULL, sm, 48, 0);
    EXPECT(p != 0 && p % 16 == 0);
    int64_t big = sm_malloc(NULL, NULL, sm, 100000, 0); /* the fallback */
    EXPECT(big != 0);
    EXPECT(sm_free_checked(NULL, NULL, sm, p) == 0);
    EXPECT(sm_free_checked(NULL, NULL, sm, p) == -1);  /* SM_ERR_DOUBLE_FREE */
    EXPECT(sm_free_checked(NULL, NULL, sm, p + 8) == -2); /* SM_ERR_NOT_OWNED */
    EXPECT(sm_free_checked(NULL, NULL, sm, big) == 0);
    EXPECT(sm_free_checked(NULL, NULL, sm, big) == -2);
    EXPECT(sm_check(NULL, NULL, sm) == 0);
    sm_destroy(NULL, NULL, sm);

    fn_jj tlsf_create = (fn_jj)(uintptr_t)need(lib, TL "tlsf_1create");
    fn_jj tlsf_malloc = (fn_jj)(uintptr_t)need(lib, TL "tlsf_1malloc");
    fn_i_jj tlsf_free_checked = (fn_i_jj)(uintptr_t)need(lib, TL "tlsf_1free_1checked");
    fn_i_j tlsf_check = (fn_i_j)(uintptr_t)need(lib, TL "tlsf_1check");
    size_t bytes = (size_t)1 << 20;
    void *mem = malloc(bytes + 16);
    EXPECT(mem != NULL);
    int64_t base = ((int64_t)(uintptr_t)mem + 15) & ~(int64_t)15;
    int64_t t = tlsf_create(NULL, NULL, base, (int64_t)bytes);
    EXPECT(t != 0);
    int64_t q = tlsf_malloc(NULL, NULL, t, 1000);
    EXPECT(q != 0);
    EXPECT(tlsf_free_checked(NULL, NULL, t, q) == 0);
    EXPECT(tlsf_free_checked(NULL, NULL, t, q) != 0); /* double free refused */
    EXPECT(tlsf_check(NULL, NULL, t) == 0);
    free(mem);

    if (failures == 0) printf("OK: %s loads and its JNI entry points work\n", argv[1]);
    return failures == 0 ? 0 : 1;
}
