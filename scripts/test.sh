#!/usr/bin/env bash
# Builds nalloc from source and runs every test: the scripts' own check
# (they parse; no pipe under pipefail ends in grep -q or head), the Java build and its
# JUnit tests (Maven: C core via CMake, JNI library via JavaCPP, unit tests,
# then the fresh-JVM loading test on the packaged jars), the same JUnit tests
# against a JNI library built with gcc's AddressSanitizer+UndefinedBehavior-
# Sanitizer (in target/native-asan, never packed), the C suite (gcc),
# the same suite under AddressSanitizer+UndefinedBehaviorSanitizer (clang),
# the concurrent tests under ThreadSanitizer (clang), the libFuzzer
# harnesses for a bounded time, and the platforms: the C suite cross-built for
# linux-arm64 (under qemu), windows-x86_64 (under wine) and musl, the
# classifier jars of linux-x86_64, linux-arm64 and windows-x86_64 with their
# smoke tests, a fresh project on nalloc-platform, and the main job
# (scripts/demo.sh) run after all that, with other platforms' jars beside
# this machine's in target/. Exits non-zero on the first failure.
#
#   scripts/test.sh                    everything
#   scripts/test.sh c asan             only the named stages
#                                      (scripts, java, jasan, c, asan,
#                                      tsan, fuzz, platforms)
#   FUZZ_SECONDS=10 scripts/test.sh    shorter fuzz runs
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

jobs=$(nproc 2>/dev/null || echo 2)
fuzz_seconds=${FUZZ_SECONDS:-60}
out=${NALLOC_BUILD_ROOT:-build}

stages=${*:-scripts java jasan c asan tsan fuzz platforms}
want() { case " $stages " in *" $1 "*) return 0;; *) return 1;; esac; }
step() { printf '\n=== %s\n' "$*"; }

need_clang() {
  if ! command -v clang >/dev/null 2>&1; then
    if [ "${CI:-}" = "true" ]; then
      echo "clang is required for the sanitizer and fuzz runs" >&2; exit 1
    fi
    echo "clang not found: skipping $1 (install clang and libclang-rt-dev to run it)" >&2
    return 1
  fi
}

if want scripts; then
  step "scripts: they parse, and no pipe under pipefail ends in grep -q or head"
  bash scripts/check-scripts.sh
fi

if want java; then
  step "Java: mvn verify (C core, JNI library, JUnit, classifier jar, fresh-JVM load, FFM tests on JDK 22+)"
  # The FFM adapter (dev.nalloc.ffm) is compiled and tested with a JDK 22+ while Maven runs on
  # JDK 17 (find_jdk22 in lib.sh). Under CI a build without it fails (nalloc.ffm.required):
  # the shipped jar must contain the adapter.
  ffm_args=()
  jdk22=$(find_jdk22)
  if [ -n "$jdk22" ]; then ffm_args+=("-Dnalloc.jdk22.home=$jdk22"); fi
  if [ "${CI:-}" = "true" ]; then ffm_args+=("-Dnalloc.ffm.required=true"); fi
  mvn -B -ntp verify ${ffm_args[@]+"${ffm_args[@]}"}
fi

if want jasan; then
  step "Java suite on the ASan+UBSan JNI library (gcc): mvn -Pnative-asan test"
  # Profile native-asan (pom.xml): the core and the JNI glue built with gcc's sanitizers into
  # target/cmake-asan and target/native-asan (target/native and the jars stay the normal
  # build's), the two surefire executions run with libasan preloaded. A finding ends the test
  # JVM; ASan writes its reports to target/asan-reports (log_path), printed here, and any report
  # fails the stage; UBSan's appear in the Maven output.
  reports=target/asan-reports
  jasan_ok=true
  mvn -B -ntp -Pnative-asan test || jasan_ok=false
  found=$(find "$reports" -type f 2>/dev/null || true)
  for f in $found; do printf '\n--- %s\n' "$f"; cat "$f"; done
  if [ "$jasan_ok" != true ] || [ -n "$found" ]; then
    echo "jasan: the Java suite failed under ASan/UBSan${found:+ (reports above, in $reports)}" >&2
    exit 1
  fi
fi

if want c; then
  step "C core: gcc, -Wall -Wextra -Werror, ctest"
  cmake -S . -B "$out/gcc" -DCMAKE_C_COMPILER=gcc -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$out/gcc" -j "$jobs"
  ctest --test-dir "$out/gcc" --output-on-failure -j "$jobs"
fi

if want asan && need_clang "the AddressSanitizer build"; then
  step "C core: clang, AddressSanitizer + UndefinedBehaviorSanitizer, ctest"
  cmake -S . -B "$out/asan" -DCMAKE_C_COMPILER=clang -DNALLOC_SANITIZER=address >/dev/null
  cmake --build "$out/asan" -j "$jobs"
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir "$out/asan" --output-on-failure -j "$jobs"
fi

if want tsan && need_clang "the ThreadSanitizer build"; then
  step "C core: clang, ThreadSanitizer, concurrent tests"
  cmake -S . -B "$out/tsan" -DCMAKE_C_COMPILER=clang -DNALLOC_SANITIZER=thread >/dev/null
  cmake --build "$out/tsan" -j "$jobs"
  TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
    ctest --test-dir "$out/tsan" --output-on-failure -L concurrent
fi

if want fuzz && need_clang "fuzzing"; then
  step "libFuzzer: ${fuzz_seconds}s per allocator"
  cmake -S . -B "$out/fuzz" -DCMAKE_C_COMPILER=clang -DNALLOC_FUZZ=ON -DNALLOC_TESTS=OFF -DNALLOC_BENCH=OFF >/dev/null
  cmake --build "$out/fuzz" -j "$jobs"
  for target in fuzz_tlsf fuzz_smmalloc; do
    corpus="$out/fuzz/corpus-$target"
    mkdir -p "$corpus"
    "$out/fuzz/$target" -max_total_time="$fuzz_seconds" -print_final_stats=1 \
      -artifact_prefix="$out/fuzz/$target-" "$corpus" 2>&1 | tail -n 12
  done
fi

if want platforms; then
  step "platforms: C suite cross-built, under qemu-aarch64 (4 and 16 KiB pages), wine and musl"
  bash scripts/cross-test.sh all
  step "platforms: classifier jars (linux-x86_64, linux-arm64, windows-x86_64) and their smoke tests"
  bash scripts/build-platforms.sh
  step "platforms: a fresh project on nalloc-platform, -Djavacpp.platform=linux-x86_64"
  bash scripts/platform-check.sh
  step "platforms: the main job after the test run, other platforms' jars in target/"
  bash scripts/demo.sh 1 1
fi

step "all tests passed"
