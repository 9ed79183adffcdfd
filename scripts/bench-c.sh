#!/usr/bin/env bash
# The C speed report: builds the core and the benchmarks in build/bench
# (Release), runs the harness (glibc vs TLSF vs the bucket allocator) and
# the callgrind instruction counts for TLSF. A report, not a test: it never
# fails on a slow number. A few minutes in full, well under a minute with
# --quick.
#
#   scripts/bench-c.sh            full runs
#   scripts/bench-c.sh --quick    CI-sized runs
set -euo pipefail
cd "$(dirname "$0")/.."

quick=
case "${1:-}" in
  --quick) quick=--quick ;;
  "") ;;
  *) echo "usage: $0 [--quick]" >&2; exit 2 ;;
esac

jobs=$(nproc 2>/dev/null || echo 2)
out=${NALLOC_BUILD_ROOT:-build}/bench

cmake -S . -B "$out" -DCMAKE_BUILD_TYPE=Release -DNALLOC_TESTS=OFF -DNALLOC_BENCH=ON >/dev/null
cmake --build "$out" -j "$jobs" --target nalloc_bench tlsf_icount >/dev/null

printf '=== harness (%s)\n' "$out/nalloc_bench $quick"
"$out/nalloc_bench" $quick

printf '\n=== TLSF instruction counts (%s)\n' "src/bench/c/callgrind.sh"
if [ -n "$quick" ]; then
  src/bench/c/callgrind.sh "$out/tlsf_icount" 50000
else
  src/bench/c/callgrind.sh "$out/tlsf_icount" 200000
fi
