#!/usr/bin/env bash
# Checks the project's shell scripts: each parses (bash -n), and none that
# runs under `set -o pipefail` ends a pipe in `grep -q` or `head`. Those
# readers exit as soon as they have seen enough; the writer then dies of
# SIGPIPE and pipefail fails the whole pipe, so the script fails at random
# on a busy machine. Capture the writer's output first, or use grep -c.
set -euo pipefail
cd "$(dirname "$0")/.."

# A pipe into a reader that may stop early. The word is split so that this
# line does not match itself when the script checks its own file.
early_exit_reader='\|[[:space:]]*(grep[[:space:]]+(-[[:alnum:]]*q|--quiet)|he''ad)([[:space:]]|$)'

status=0
for script in scripts/*.sh .ci/run; do
  bash -n "$script" || { echo "$script: does not parse" >&2; status=1; }
  if grep -c 'pipefail' "$script" >/dev/null; then
    offenders=$(grep -nE "$early_exit_reader" "$script" \
      | grep -vE '^[0-9]+:[[:space:]]*#' || true)
    if [ -n "$offenders" ]; then
      echo "$script: a pipe ends in grep -q or head (SIGPIPE under pipefail):" >&2
      echo "$offenders" >&2
      status=1
    fi
  fi
done
exit "$status"
