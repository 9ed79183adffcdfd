# macosx-arm64: Apple clang, arm64 slice, macOS 11 (the first arm64 macOS)
# or later. Not a cross toolchain: use it on a Mac (see
# .github/workflows/macos.yml); an Intel Mac can build but not run it.
# Apple silicon has 16 KiB pages and 128-byte cache lines; the page size is
# covered on Linux by scripts/cross-test.sh (qemu with QEMU_PAGESIZE=16384).
#
#   cmake -S . -B build/macosx-arm64 -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/macosx-arm64.cmake
#   cmake --build build/macosx-arm64 && ctest --test-dir build/macosx-arm64
set(CMAKE_OSX_ARCHITECTURES arm64 CACHE STRING "macOS architecture")
set(CMAKE_OSX_DEPLOYMENT_TARGET 11.0 CACHE STRING "Oldest macOS to run on")
