# Cross-compiles for windows-x86_64 with Debian's mingw-w64 gcc; ctest runs
# the tests under wine (64-bit).
#
#   apt-get install gcc-mingw-w64-x86-64 g++-mingw-w64-x86-64 wine wine64
#   cmake -S . -B build/cross-windows -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/windows-x86_64.cmake
#   cmake --build build/cross-windows && ctest --test-dir build/cross-windows
#
# Compiler: the default "win32" thread model of x86_64-w64-mingw32-gcc. The
# library itself uses only Win32 threads (SRWLOCK, FLS, INIT_ONCE); C11
# _Thread_local is emulated (emutls) whose per-thread blocks are freed from a
# Win32 TLS callback at DLL_THREAD_DETACH, i.e. after smmalloc's FLS
# thread-exit callback has run (it still touches the thread-local state).
# The tests use pthreads from mingw-w64's winpthreads, which works with either
# thread model. Every executable is linked with -static so that libgcc and
# libwinpthread are inside the .exe and wine needs no extra DLLs.
#
# ctest runs `wine` with WINEDEBUG=-all and WINEPREFIX=<build>/wineprefix
# (unless WINEPREFIX is set when configuring); the first start creates the
# prefix and takes a while: run `wineboot -i` once first (scripts/cross-test.sh does).
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR AMD64)

set(NALLOC_CROSS_TRIPLE x86_64-w64-mingw32)
# Debian ships both thread models side by side (-win32, -posix) and points
# the plain name at one of them through update-alternatives: pin win32.
find_program(NALLOC_CROSS_CC NAMES ${NALLOC_CROSS_TRIPLE}-gcc-win32 ${NALLOC_CROSS_TRIPLE}-gcc)
set(CMAKE_C_COMPILER ${NALLOC_CROSS_CC})
find_program(NALLOC_CROSS_CXX NAMES ${NALLOC_CROSS_TRIPLE}-g++-win32 ${NALLOC_CROSS_TRIPLE}-g++)
if(NALLOC_CROSS_CXX)
  set(CMAKE_CXX_COMPILER ${NALLOC_CROSS_CXX})
endif()
set(CMAKE_RC_COMPILER ${NALLOC_CROSS_TRIPLE}-windres)

set(CMAKE_FIND_ROOT_PATH /usr/${NALLOC_CROSS_TRIPLE})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

set(CMAKE_EXE_LINKER_FLAGS_INIT "-static")

find_program(NALLOC_WINE NAMES wine wine64)
if(NALLOC_WINE)
  if(DEFINED ENV{WINEPREFIX})
    set(_nalloc_wineprefix "$ENV{WINEPREFIX}")
  else()
    set(_nalloc_wineprefix "${CMAKE_BINARY_DIR}/wineprefix")
  endif()
  set(CMAKE_CROSSCOMPILING_EMULATOR
      /usr/bin/env WINEDEBUG=-all WINEPREFIX=${_nalloc_wineprefix} ${NALLOC_WINE})
endif()
