# Warning policy for every C target: C11, -Wall -Wextra -Werror on gcc and
# clang. Kept in one function so test, fuzz and bench targets cannot drift.
function(nalloc_warnings target)
  if(CMAKE_C_COMPILER_ID MATCHES "GNU|Clang")
    target_compile_options(${target} PRIVATE
      -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
      -Wpointer-arith -Wcast-align -Wvla)
  elseif(MSVC)
    target_compile_options(${target} PRIVATE /W4 /WX)
  endif()
endfunction()
