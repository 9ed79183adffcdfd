# The ctest suite. Labels let CI pick subsets: the ThreadSanitizer build runs
# only the tests labelled "concurrent".

# The core once more, with the test-only hooks of sm_test_hooks.h compiled
# in, for the tests that force an interleaving. nalloc_core, which the JNI
# library links, never has them.
add_library(nalloc_core_hooks STATIC src/main/c/smmalloc.c)
target_include_directories(nalloc_core_hooks PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/src/main/c)
target_compile_definitions(nalloc_core_hooks PUBLIC NALLOC_TEST_HOOKS)
target_link_libraries(nalloc_core_hooks PUBLIC Threads::Threads)
nalloc_warnings(nalloc_core_hooks)

# nalloc_test(name labels [CORE library] [TIMEOUT seconds] [args...]):
# src/test/c/<name>.c linked with nalloc_core (or CORE), run with args.
function(nalloc_test name labels)
  cmake_parse_arguments(PARSE_ARGV 2 T "" "CORE;TIMEOUT" "")
  if(NOT T_CORE)
    set(T_CORE nalloc_core)
  endif()
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 600)
  endif()
  add_executable(${name} src/test/c/${name}.c)
  target_link_libraries(${name} PRIVATE ${T_CORE})
  target_include_directories(${name} PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/src/test/c)
  nalloc_warnings(${name})
  add_test(NAME ${name} COMMAND ${name} ${T_UNPARSED_ARGUMENTS})
  set_tests_properties(${name} PROPERTIES LABELS "${labels}" TIMEOUT ${T_TIMEOUT})
endfunction()

nalloc_test(test_tlsf_unit   "tlsf;unit")
nalloc_test(test_tlsf_model  "tlsf;model")
nalloc_test(test_sm_unit     "sm;unit;concurrent")
nalloc_test(test_sm_model    "sm;model")
nalloc_test(test_sm_stress   "sm;stress;concurrent")
# Producer/consumer: every free a remote free (NALLOC_REMOTE_BLOCKS for longer runs).
nalloc_test(test_sm_remote_stress "sm;stress;concurrent")
nalloc_test(test_api_contract "api;unit")
# Deterministic: a forced interleaving that waits for another thread hangs
# when the code under test is wrong, so a short timeout makes that a failure.
nalloc_test(test_sm_interleavings "sm;unit;concurrent" CORE nalloc_core_hooks TIMEOUT 60)
# Runs about a second; a worker spinning on a list sm_check damaged hangs.
nalloc_test(test_sm_check_live "sm;stress;concurrent" TIMEOUT 120)
# Shut and hold racing reader threads; the target is freed right after each
# shut, so a reader left inside is a use after free or a race.
nalloc_test(test_gate        "gate;unit;concurrent" TIMEOUT 300)

# Both headers must also compile as C++ (JavaCPP's generated glue is C++).
include(CheckLanguage)
check_language(CXX)
if(CMAKE_CXX_COMPILER)
  enable_language(CXX)
  add_library(headers_as_cxx OBJECT src/test/c/headers_as_cxx.cpp)
  target_include_directories(headers_as_cxx PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/src/main/c)
  if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
    target_compile_options(headers_as_cxx PRIVATE -Wall -Wextra -Werror -pedantic)
  endif()
endif()
