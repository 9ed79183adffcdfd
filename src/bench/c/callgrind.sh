#!/usr/bin/env bash
# Instructions per tlsf_malloc / tlsf_free, counted by callgrind: exact and
# repeatable, unlike time on a shared machine. Runs the tlsf_icount driver
# (src/bench/c/tlsf_icount.c) under valgrind and reads, per calling wrapper,
# the inclusive instructions of tlsf_malloc and tlsf_free and the number of
# calls:
#   - mean     over a long randomized run (rnd_* wrappers),
#   - per call for the 1,024 mallocs and frees that follow it, each through
#     its own wrapper (wm_* / wf_*): the largest observed single call,
#   - per call for heap states built to take the longest path (worst_*),
#   - the tight pair of the harness (pair_*).
# Counts cover the call itself (everything under tlsf_malloc / tlsf_free),
# not the wrapper around it.
#
#   src/bench/c/callgrind.sh [path/to/tlsf_icount] [random_ops]
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
driver=${1:-$root/build/bench/tlsf_icount}
ops=${2:-200000}

if ! command -v valgrind >/dev/null 2>&1 || ! command -v callgrind_annotate >/dev/null 2>&1; then
  echo "callgrind.sh: valgrind (with callgrind_annotate) is not installed; skipped" >&2
  exit 0
fi
if [ ! -x "$driver" ]; then
  echo "callgrind.sh: $driver not found; build it first (scripts/bench-c.sh does)" >&2
  exit 1
fi

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

valgrind --tool=callgrind --callgrind-out-file="$out/cg.out" "$driver" "$ops" \
  >"$out/stdout" 2>"$out/stderr" || { cat "$out/stderr" >&2; exit 1; }

# --tree=caller prints, for each function, one "< caller (Nx)" line per
# caller with the inclusive cost of the calls from that caller, followed by
# the function's own "*" line; blocks are separated by blank lines.
callgrind_annotate --tree=caller --inclusive=yes --threshold=100 "$out/cg.out" 2>/dev/null |
awk -v ops="$ops" '
  function num(s) { gsub(/,/, "", s); return s + 0 }
  function caller(line,    m) {
    # "  1,234 (0.01%)  < path/file.c:name.constprop.0 (5x) [bin]"
    sub(/^.*< [^:]*:/, "", line)
    name = line; sub(/ .*/, "", name); sub(/\..*/, "", name)
    calls = line; sub(/^[^(]*\(/, "", calls); sub(/x\).*/, "", calls)
    return name SUBSEP num(calls)
  }
  /^$/ { n = 0; next }
  / < / { cost[++n] = num($1); who[n] = caller($0); next }
  # The "*" line may appear twice (with and without the binary); the
  # callers precede the first one.
  /\*  .*:tlsf_(malloc|free)( |$)/ && n > 0 {
    fn = ($0 ~ /:tlsf_malloc( |$)/) ? "malloc" : "free"
    for (i = 1; i <= n; i++) {
      split(who[i], w, SUBSEP)
      c[fn, w[1]] = cost[i]; k[fn, w[1]] = w[2]
      if (w[1] ~ /^w[mf]_/) {
        win_n[fn]++; win_sum[fn] += cost[i]
        if (cost[i] > win_max[fn]) win_max[fn] = cost[i]
      }
    }
    n = 0; next
  }
  END {
    printf "instructions per call (callgrind, exact)\n"
    printf "%-44s %10s %10s\n", "", "malloc", "free"
    printf "%-44s %10.1f %10.1f\n", "tight pair, 64 B (mean of 1,000)", \
      c["malloc","pair_malloc"] / k["malloc","pair_malloc"], c["free","pair_free"] / k["free","pair_free"]
    printf "%-44s %10.1f %10.1f\n", sprintf("random run, %d calls: mean", ops), \
      c["malloc","rnd_malloc"] / k["malloc","rnd_malloc"], c["free","rnd_free"] / k["free","rnd_free"]
    printf "%-44s %10.1f %10.1f\n", sprintf("next %d calls one by one: mean", win_n["malloc"]), \
      win_sum["malloc"] / win_n["malloc"], win_sum["free"] / win_n["free"]
    printf "%-44s %10d %10d\n", "  max of a single call", win_max["malloc"], win_max["free"]
    printf "constructed worst cases (2 pools, lookup cache on the other pool):\n"
    wm = 0; wf = 0
    split("worst_malloc_scan worst_malloc_fallback worst_malloc_nosplit", ms, " ")
    for (i = 1; i <= 3; i++) {
      printf "  %-42s %10d %10s\n", ms[i], c["malloc", ms[i]], "-"
      if (c["malloc", ms[i]] > wm) wm = c["malloc", ms[i]]
    }
    split("worst_free_both worst_free_prev worst_free_refused", fs, " ")
    for (i = 1; i <= 3; i++) {
      printf "  %-42s %10s %10d\n", fs[i], "-", c["free", fs[i]]
      if (c["free", fs[i]] > wf) wf = c["free", fs[i]]
    }
    if (win_max["malloc"] > wm) wm = win_max["malloc"]
    if (win_max["free"] > wf) wf = win_max["free"]
    printf "%-44s %10d %10d\n", "MAX single call (observed and constructed)", wm, wf
  }'
