#!/usr/bin/env bash
# tests/fuzz/run.sh BUILD_DIR TARGET... [-- LIBFUZZER_ARGS...]: runs each libFuzzer target
# BUILD_DIR/tests/fuzz/fuzz_TARGET, starting from a scratch copy of its committed seed corpus
# (tests/fuzz/corpus/TARGET; the committed corpus is never changed), with the given libFuzzer
# arguments (default: -max_total_time=10). Scratch files go to /dev/shm when it exists (the
# targets write each input to a file). Prints each target's final figures (executions, cov, ft);
# a crash leaves its input in BUILD_DIR/fuzz-crashes/TARGET/ and fails the script.
# FUZZ_LOG_DIR: where the full libFuzzer logs go (default BUILD_DIR).
# Build dir: CXX=clang++ meson setup BUILD_DIR -Dfuzz=true ... (see tools/test).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$1
shift
targets=()
while (($#)) && [[ $1 != -- ]]; do targets+=("$1"); shift; done
(($#)) && shift
args=("$@")
((${#args[@]})) || args=(-max_total_time=10)
[[ -d /dev/shm && -w /dev/shm ]] && export TMPDIR=/dev/shm

status=0
for t in "${targets[@]}"; do
  work=$(mktemp -d "${TMPDIR:-/tmp}/ctnn-fuzz-$t.XXXXXX")
  cp "$here/corpus/$t/"* "$work/"
  crashes="$build/fuzz-crashes/$t"
  mkdir -p "$crashes"
  log="${FUZZ_LOG_DIR:-$build}/fuzz-$t.log"
  if "$build/tests/fuzz/fuzz_$t" -artifact_prefix="$crashes/" -print_final_stats=1 "${args[@]}" "$work" \
      >"$log" 2>&1; then
    result=ok
  else
    result=CRASH
    status=1
  fi
  last=$(grep -E '^#[0-9]+' "$log" | tail -1 || true)
  runs=$(grep -E '^stat::number_of_executed_units' "$log" | awk '{print $2}' || true)
  echo "fuzz $t: $result, ${runs:-?} executions; last status: ${last:-none}"
  [[ $result == ok ]] || tail -40 "$log"
  rm -rf "$work"
done
exit "$status"
