# Builds for linux-x86_64 against musl libc (Alpine and other musl systems)
# with Debian's musl-tools (musl-gcc, a gcc wrapper over the musl headers and
# libraries). Same OS and CPU, so this is not a cross build for CMake: the
# tests run natively. They are linked statically (-static), so they do not
# depend on the musl dynamic loader being installed.
#
#   apt-get install musl-tools
#   cmake -S . -B build/cross-musl -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/linux-x86_64-musl.cmake
#   cmake --build build/cross-musl && ctest --test-dir build/cross-musl
#
# musl-tools has no C++ wrapper: the headers-as-C++ check, if it runs, uses
# the host (glibc) g++, which only compiles the headers.
set(CMAKE_C_COMPILER musl-gcc)
set(CMAKE_EXE_LINKER_FLAGS_INIT "-static")
