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

# fuzz_one TARGET: runs it and writes its line (and the log's tail on a crash) to LOG.summary.
fuzz_one() {
  local t=$1 work crashes log result last runs
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
  fi
  last=$(grep -E '^#[0-9]+' "$log" | tail -1 || true)
  runs=$(grep -E '^stat::number_of_executed_units' "$log" | awk '{print $2}' || true)
  rm -rf "$work"
  {
    echo "fuzz $t: $result, ${runs:-?} executions; last status: ${last:-none}"
    [[ $result == ok ]] || tail -40 "$log"
  } >"$log.summary"
}

# One target per core at a time (each is one process): 5 targets of 6 s take 18 s on 2 cores, not 30.
slots=$(nproc 2>/dev/null || echo 2)
status=0
for t in "${targets[@]}"; do
  rm -f "${FUZZ_LOG_DIR:-$build}/fuzz-$t.log.summary"
  while (($(jobs -rp | wc -l) >= slots)); do wait -n || true; done
  fuzz_one "$t" &
done
wait
for t in "${targets[@]}"; do  # in the given order; a missing summary (the runner died) is a failure
  summary="${FUZZ_LOG_DIR:-$build}/fuzz-$t.log.summary"
  if [[ -f $summary ]]; then cat "$summary"; else echo "fuzz $t: no result"; fi
  grep -q "^fuzz $t: ok," "$summary" 2>/dev/null || status=1
  rm -f "$summary"
done
exit "$status"
