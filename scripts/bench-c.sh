#!/usr/bin/env bash
# The C speed report: builds the core and the benchmarks in build/bench
# (Release), runs the harness (glibc, mimalloc, jemalloc, TLSF and the
# bucket allocator) and the callgrind instruction counts for TLSF. A report,
# not a test: it never fails on a slow number. A few minutes in full, under
# a minute with --quick.
#
# The peers are Debian's libmimalloc-dev and libjemalloc-dev. This script,
# and nothing else in the project, installs them (apt-get) when missing;
# where that is not possible their columns stay empty ("-"). Each peer runs
# in a binary of its own (nalloc_bench_<peer>, see nalloc_bench.c) whose raw
# figures the main binary merges into one table.
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

peer_packages="libmimalloc-dev libjemalloc-dev"
install_peers() {
  local missing="" p status
  command -v dpkg-query >/dev/null 2>&1 || { echo "no dpkg: peers only if already installed" >&2; return 0; }
  for p in $peer_packages; do
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    [ "$status" = "install ok installed" ] || missing="$missing $p"
  done
  [ -z "$missing" ] && return 0
  local sudo=""
  [ "$(id -u)" = 0 ] || sudo=sudo
  printf '=== peers: apt-get install -y%s\n' "$missing"
  if ! { $sudo apt-get update >/dev/null && $sudo apt-get install -y $missing >/dev/null; }; then
    echo "could not install$missing: those columns stay empty" >&2
  fi
}
install_peers

cmake -S . -B "$out" -DCMAKE_BUILD_TYPE=Release -DNALLOC_TESTS=OFF -DNALLOC_BENCH=ON >/dev/null
peer_targets=$(cat "$out/nalloc_bench_peers.txt")
cmake --build "$out" -j "$jobs" --target nalloc_bench tlsf_icount $peer_targets >/dev/null

peer_args=()
for target in $peer_targets; do
  printf '=== peer (%s)\n' "$out/$target --raw $quick"
  "$out/$target" --raw $quick >"$out/$target.raw"
  peer_args+=(--peer "$out/$target.raw")
done

printf '=== harness (%s)\n' "$out/nalloc_bench $quick ${peer_args[*]:-}"
"$out/nalloc_bench" $quick ${peer_args[@]+"${peer_args[@]}"}

printf '\n=== TLSF instruction counts (%s)\n' "src/bench/c/callgrind.sh"
if [ -n "$quick" ]; then
  src/bench/c/callgrind.sh "$out/tlsf_icount" 50000
else
  src/bench/c/callgrind.sh "$out/tlsf_icount" 200000
fi
