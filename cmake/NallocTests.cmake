# The ctest suite. Labels let CI pick subsets: the ThreadSanitizer build runs
# only the tests labelled "concurrent".
function(nalloc_test name labels)
  add_executable(${name} src/test/c/${name}.c)
  target_link_libraries(${name} PRIVATE nalloc_core)
  target_include_directories(${name} PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/src/test/c)
  nalloc_warnings(${name})
  add_test(NAME ${name} COMMAND ${name} ${ARGN})
  set_tests_properties(${name} PROPERTIES LABELS "${labels}" TIMEOUT 600)
endfunction()

nalloc_test(test_tlsf_unit   "tlsf;unit")
nalloc_test(test_tlsf_model  "tlsf;model")
nalloc_test(test_sm_unit     "sm;unit;concurrent")
nalloc_test(test_sm_model    "sm;model")
nalloc_test(test_sm_stress   "sm;stress;concurrent")
nalloc_test(test_api_contract "api;unit")

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
