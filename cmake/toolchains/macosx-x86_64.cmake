# macosx-x86_64: Apple clang, x86_64 slice, macOS 10.15 or later.
# Not a cross toolchain: use it on a Mac (the GitHub Actions workflow
# .github/workflows/macos.yml does). On an Apple-silicon Mac it builds x86_64
# binaries that ctest runs under Rosetta 2. Cannot be used from Linux (no
# macOS SDK in Debian; osxcross would be needed).
#
#   cmake -S . -B build/macosx-x86_64 -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/macosx-x86_64.cmake
#   cmake --build build/macosx-x86_64 && ctest --test-dir build/macosx-x86_64
set(CMAKE_OSX_ARCHITECTURES x86_64 CACHE STRING "macOS architecture")
set(CMAKE_OSX_DEPLOYMENT_TARGET 10.15 CACHE STRING "Oldest macOS to run on")
