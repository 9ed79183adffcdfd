#!/usr/bin/env bash
# Cross builds of the C core and its ctest suite, each run through an
# emulator: linux-arm64 under qemu-aarch64 (with 4 KiB and 16 KiB pages),
# windows-x86_64 under wine, linux-x86_64-musl natively (static binaries).
# Installs nothing: missing tools are reported with the apt-get line.
#
#   scripts/cross-test.sh              all targets (arm64 windows musl)
#   scripts/cross-test.sh arm64 musl   only these
#
# Build trees: build/cross-<target> (NALLOC_BUILD_ROOT overrides "build").
# The concurrent stress test is scaled down under emulation through the knobs
# it already reads: NALLOC_STRESS_ITERS (default here 200000 per thread and
# run, instead of 1000000), NALLOC_TEST_THREADS (default here 4) and, for the
# producer/consumer test, NALLOC_REMOTE_BLOCKS (default here 200000 instead
# of 2000000). Set them to override. CROSS_JOBS: build parallelism (default 2).
# Exit status: 0 only if every requested target built and passed.
set -uo pipefail
cd "$(dirname "$0")/.."

out=${NALLOC_BUILD_ROOT:-build}
jobs=${CROSS_JOBS:-2}
export NALLOC_STRESS_ITERS=${NALLOC_STRESS_ITERS:-200000}
export NALLOC_TEST_THREADS=${NALLOC_TEST_THREADS:-4}
export NALLOC_REMOTE_BLOCKS=${NALLOC_REMOTE_BLOCKS:-200000}

targets=()
for arg in "${@:-all}"; do
  case $arg in
    all) targets+=(arm64 windows musl) ;;
    arm64 | windows | musl) targets+=("$arg") ;;
    -h | --help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "unknown target '$arg' (arm64, windows, musl, all)" >&2; exit 2 ;;
  esac
done

summary=()
failed=0
missing_pkgs=""
step() { printf '\n=== %s\n' "$*"; }
have() { command -v "$1" >/dev/null 2>&1; }

# check_tools <target> <apt package list> <command>... : 0 if all present.
check_tools() {
  local target=$1 pkgs=$2 missing=()
  shift 2
  for tool in "$@"; do
    # "a|b": either will do
    local ok=0
    for alt in ${tool//|/ }; do have "$alt" && ok=1; done
    [ $ok = 1 ] || missing+=("${tool//|/ or }")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "$target: missing ${missing[*]}" >&2
    echo "  install with: apt-get install -y $pkgs" >&2
    missing_pkgs+=" $pkgs"
    summary+=("$(printf '%-10s MISSING TOOLS (apt-get install -y %s)' "$target" "$pkgs")")
    failed=1
    return 1
  fi
}

# build <target> <toolchain file>: configure and build build/cross-<target>.
build() {
  local dir=$out/cross-$1
  mkdir -p "$dir"
  cmake -S . -B "$dir" -DCMAKE_TOOLCHAIN_FILE="$PWD/cmake/toolchains/$2" \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DNALLOC_BENCH=OFF >"$dir/configure.log" 2>&1 ||
    { cat "$dir/configure.log" >&2; return 1; }
  local rc=0
  cmake --build "$dir" -j "$jobs" >"$dir/build.log" 2>&1 || rc=$?
  grep -Ev '^\[ *[0-9]+%\] (Building|Linking|Built)' "$dir/build.log"
  return $rc
}

# run_ctest <label> <dir> [env assignments...]: ctest, one test at a time
# (the stress test alone runs NALLOC_TEST_THREADS threads). Appends a line
# to the summary.
run_ctest() {
  local label=$1 dir=$2 start end log rc
  shift 2
  log=$dir/ctest-$label.log
  start=$(date +%s)
  env "$@" ctest --test-dir "$dir" --output-on-failure >"$log" 2>&1
  rc=$?
  end=$(date +%s)
  grep -E '^ *[0-9]+/[0-9]+ Test|tests passed|\*\*\*|Failed|Timeout' "$log"
  [ $rc = 0 ] || tail -n 60 "$log"
  local result
  result=$(grep -Eo '[0-9]+% tests passed, [0-9]+ tests failed out of [0-9]+' "$log" || echo "ctest error")
  summary+=("$(printf '%-10s %-4s %-52s %4ss' "$label" "$([ $rc = 0 ] && echo ok || echo FAIL)" "$result" $((end - start)))")
  [ $rc = 0 ] || failed=1
}

build_failed() {
  summary+=("$(printf '%-10s FAIL build failed (see output above)' "$1")")
  failed=1
}

t_all=$(date +%s)
for target in "${targets[@]}"; do
  case $target in
  arm64)
    step "linux-arm64: aarch64-linux-gnu-gcc, ctest under qemu-aarch64"
    check_tools arm64 "gcc-aarch64-linux-gnu g++-aarch64-linux-gnu qemu-user" \
      cmake aarch64-linux-gnu-gcc "qemu-aarch64|qemu-aarch64-static" || continue
    build arm64 linux-arm64.cmake || { build_failed arm64; continue; }
    run_ctest arm64 "$out/cross-arm64"
    # same binaries, the page size of a 16 KiB-page kernel (Apple silicon
    # Linux; macOS arm64 has 16 KiB pages too)
    step "linux-arm64, 16 KiB pages (QEMU_PAGESIZE=16384)"
    run_ctest arm64-16k "$out/cross-arm64" QEMU_PAGESIZE=16384
    ;;
  windows)
    step "windows-x86_64: x86_64-w64-mingw32-gcc (win32 threads), ctest under wine"
    check_tools windows "gcc-mingw-w64-x86-64 g++-mingw-w64-x86-64 wine wine64" \
      cmake "x86_64-w64-mingw32-gcc-win32|x86_64-w64-mingw32-gcc" "wine|wine64" wineserver ||
      continue
    build windows windows-x86_64.cmake || { build_failed windows; continue; }
    dir=$out/cross-windows
    # the toolchain's ctest emulator uses this prefix (unless WINEPREFIX was
    # set when configuring); create it once and keep one wineserver up for
    # the whole run instead of one per test
    export WINEPREFIX=${WINEPREFIX:-$(cd "$dir" && pwd)/wineprefix} WINEDEBUG=-all
    if [ ! -f "$WINEPREFIX/system.reg" ]; then
      echo "creating the wine prefix $WINEPREFIX (first start is slow)"
      wineboot -i >"$dir/wineboot.log" 2>&1 || { cat "$dir/wineboot.log" >&2; build_failed windows; continue; }
    fi
    wineserver -p
    # Start wine's background services (winedevice.exe, ...) here, with their
    # stdio on /dev/null: started by the first test instead, they inherit
    # ctest's output pipe and outlive the test, and ctest waits on that pipe
    # for ever.
    wineboot </dev/null >/dev/null 2>&1 || true
    run_ctest windows "$dir"
    wineserver -k 2>/dev/null || true
    ;;
  musl)
    step "linux-x86_64-musl: musl-gcc, static, ctest natively"
    check_tools musl "musl-tools" cmake musl-gcc || continue
    build musl linux-x86_64-musl.cmake || { build_failed musl; continue; }
    run_ctest musl "$out/cross-musl"
    ;;
  esac
done

step "summary (NALLOC_STRESS_ITERS=$NALLOC_STRESS_ITERS, NALLOC_TEST_THREADS=$NALLOC_TEST_THREADS, $(( $(date +%s) - t_all ))s in all)"
printf '%s\n' "${summary[@]}"
[ -z "$missing_pkgs" ] || echo "missing tools: apt-get update && apt-get install -y$missing_pkgs"
exit $failed
