# libFuzzer harnesses (clang only). Each harness decodes its input as a
# sequence of allocator operations and checks every invariant after each step;
# ASan and UBSan are linked in so memory errors surface as crashes.
if(NOT CMAKE_C_COMPILER_ID MATCHES "Clang")
  message(FATAL_ERROR "NALLOC_FUZZ needs clang (libFuzzer)")
endif()

foreach(target fuzz_tlsf fuzz_smmalloc)
  add_executable(${target} src/test/fuzz/${target}.c)
  target_link_libraries(${target} PRIVATE nalloc_core)
  target_compile_options(${target} PRIVATE -fsanitize=fuzzer,address,undefined)
  target_link_options(${target} PRIVATE -fsanitize=fuzzer,address,undefined)
  nalloc_warnings(${target})
endforeach()
# The core itself is instrumented for coverage so the fuzzer can steer.
target_compile_options(nalloc_core PRIVATE -fsanitize=fuzzer-no-link,address,undefined)
