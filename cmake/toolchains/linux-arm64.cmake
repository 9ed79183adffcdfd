# Cross-compiles for linux-arm64 (aarch64, glibc) with Debian's
# gcc-aarch64-linux-gnu; ctest runs the tests under qemu-aarch64 (qemu-user)
# with the cross sysroot as its library prefix.
#
#   apt-get install gcc-aarch64-linux-gnu g++-aarch64-linux-gnu qemu-user
#   cmake -S . -B build/cross-arm64 -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/linux-arm64.cmake
#   cmake --build build/cross-arm64 && ctest --test-dir build/cross-arm64
#
# Other page sizes: arm64 kernels run with 4 KiB, 16 KiB (Apple silicon
# Linux, as macOS) or 64 KiB pages (RHEL/Ampere server builds). qemu-user
# reports and enforces the page size given by QEMU_PAGESIZE (or -p):
#   QEMU_PAGESIZE=16384 ctest --test-dir build/cross-arm64
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)

set(NALLOC_CROSS_TRIPLE aarch64-linux-gnu)
set(NALLOC_CROSS_SYSROOT /usr/${NALLOC_CROSS_TRIPLE} CACHE PATH "Target libraries (qemu -L)")

set(CMAKE_C_COMPILER ${NALLOC_CROSS_TRIPLE}-gcc)
# C++ only for the headers-compile-as-C++ check (and JavaCPP's glue later);
# optional, so a missing g++-aarch64-linux-gnu skips that check only.
find_program(NALLOC_CROSS_CXX ${NALLOC_CROSS_TRIPLE}-g++)
if(NALLOC_CROSS_CXX)
  set(CMAKE_CXX_COMPILER ${NALLOC_CROSS_CXX})
endif()

set(CMAKE_FIND_ROOT_PATH ${NALLOC_CROSS_SYSROOT})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

find_program(NALLOC_QEMU NAMES qemu-aarch64 qemu-aarch64-static)
if(NALLOC_QEMU)
  # -E: tells the tests they run emulated (test_sm_unit skips its /proc
  # residency check, which would measure qemu itself).
  set(CMAKE_CROSSCOMPILING_EMULATOR ${NALLOC_QEMU} -L ${NALLOC_CROSS_SYSROOT}
      -E NALLOC_TEST_EMULATED=qemu-aarch64)
endif()
