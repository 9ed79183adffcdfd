# NALLOC_SANITIZER selects one sanitizer set for the whole build:
#   ""        none (release-like build)
#   "address" AddressSanitizer + UndefinedBehaviorSanitizer
#   "thread"  ThreadSanitizer (for the concurrent tests)
# Applied globally so the static core and the tests are instrumented alike.
set(NALLOC_SANITIZER "" CACHE STRING "Sanitizer build: '', 'address' or 'thread'")
set_property(CACHE NALLOC_SANITIZER PROPERTY STRINGS "" address thread)

if(NALLOC_SANITIZER STREQUAL "address")
  set(_san_flags -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
elseif(NALLOC_SANITIZER STREQUAL "thread")
  set(_san_flags -fsanitize=thread -fno-omit-frame-pointer)
elseif(NOT NALLOC_SANITIZER STREQUAL "")
  message(FATAL_ERROR "NALLOC_SANITIZER must be '', 'address' or 'thread', not '${NALLOC_SANITIZER}'")
endif()

if(_san_flags)
  add_compile_options(${_san_flags} -g)
  add_link_options(${_san_flags})
endif()
