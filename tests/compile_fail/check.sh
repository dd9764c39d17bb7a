#!/usr/bin/env bash
# tests/compile_fail/check.sh: one compile-fail case.
#
#   check.sh [--expect TEXT]... [--expect-file FILE] [--max-static-asserts N] \
#            --source FILE.cpp -- COMPILER [COMPILER ARGS...]
#
# Everything after `--` is the compiler command and its flags (include dirs, -std=c++20); the
# script adds -fsyntax-only and the source. It compiles the source twice:
#   1. without CTNN_SHOULD_FAIL: the valid twin must compile, with no diagnostics at all;
#   2. with -DCTNN_SHOULD_FAIL: the compile must fail, and its output must contain every
#      expected text (fixed strings; --expect-file holds one per line, '#' lines and blank lines
#      ignored); with --max-static-asserts N, "static assertion failed" may appear at most N
#      times (one mistake, one error).
# On failure it says what differed and prints the compiler output. Diagnostics are produced in
# the C locale (plain ASCII quotes), without colour and without line wrapping.
set -u

usage() {
  echo "usage: $0 [--expect TEXT]... [--expect-file FILE] [--max-static-asserts N] --source FILE -- COMPILER [ARGS...]" >&2
  exit 2
}

expects=()
source_file=""
max_asserts=""
while [ $# -gt 0 ]; do
  case "$1" in
    --expect) [ $# -ge 2 ] || usage; expects+=("$2"); shift 2 ;;
    --expect-file)
      [ $# -ge 2 ] || usage
      [ -r "$2" ] || { echo "check.sh: cannot read expectation file $2" >&2; exit 2; }
      while IFS= read -r line || [ -n "$line" ]; do
        case "$line" in '' | '#'*) continue ;; esac
        expects+=("$line")
      done < "$2"
      shift 2 ;;
    --max-static-asserts) [ $# -ge 2 ] || usage; max_asserts="$2"; shift 2 ;;
    --source) [ $# -ge 2 ] || usage; source_file="$2"; shift 2 ;;
    --) shift; break ;;
    *) echo "check.sh: unknown argument: $1" >&2; usage ;;
  esac
done
[ -n "$source_file" ] && [ $# -ge 1 ] || usage
[ ${#expects[@]} -gt 0 ] || { echo "check.sh: no expected text given" >&2; exit 2; }
compiler=("$@")

export LC_ALL=C LANG=C
unset GCC_COLORS
common=(-fsyntax-only -fdiagnostics-color=never -fmessage-length=0)
name=$(basename "$source_file" .cpp)
failed=0

show() {  # title, output
  echo "----- $1 -----"
  printf '%s\n' "$2"
  echo "----- end -----"
}

# 1. The valid twin.
echo "[$name] valid twin: ${compiler[*]} ${common[*]} $source_file"
good_out=$("${compiler[@]}" "${common[@]}" "$source_file" 2>&1)
good_rc=$?
if [ $good_rc -ne 0 ]; then
  echo "FAIL [$name]: the valid twin (without CTNN_SHOULD_FAIL) does not compile (exit $good_rc)"
  show "compiler output (valid twin)" "$good_out"
  failed=1
elif [ -n "$good_out" ]; then
  echo "FAIL [$name]: the valid twin compiles but not cleanly (diagnostics printed)"
  show "compiler output (valid twin)" "$good_out"
  failed=1
else
  echo "ok   [$name]: valid twin compiles cleanly"
fi

# 2. The mistake.
echo "[$name] mistake: ${compiler[*]} ${common[*]} -DCTNN_SHOULD_FAIL $source_file"
bad_out=$("${compiler[@]}" "${common[@]}" -DCTNN_SHOULD_FAIL "$source_file" 2>&1)
bad_rc=$?
bad_failed=0
if [ $bad_rc -eq 0 ]; then
  echo "FAIL [$name]: the compile with CTNN_SHOULD_FAIL succeeded; expected it to fail with:"
  for e in "${expects[@]}"; do echo "       $e"; done
  bad_failed=1
else
  echo "ok   [$name]: compile with CTNN_SHOULD_FAIL fails (exit $bad_rc)"
  for e in "${expects[@]}"; do
    if printf '%s\n' "$bad_out" | grep -qF -- "$e"; then
      echo "ok   [$name]: output contains: $e"
    else
      echo "FAIL [$name]: output lacks expected text: $e"
      bad_failed=1
    fi
  done
  n_asserts=$(printf '%s\n' "$bad_out" | grep -cF -- "static assertion failed")
  n_errors=$(printf '%s\n' "$bad_out" | grep -cE -- "(^|: )error: ")
  echo "     [$name]: $n_errors error line(s), $n_asserts \"static assertion failed\""
  if [ -n "$max_asserts" ] && [ "$n_asserts" -gt "$max_asserts" ]; then
    echo "FAIL [$name]: $n_asserts \"static assertion failed\" in the output, at most $max_asserts allowed (one mistake, one error); the errors:"
    printf '%s\n' "$bad_out" | grep -E -- "(^|: )error: " | sed 's/^/       /'
    bad_failed=1
  fi
fi
if [ $bad_failed -ne 0 ]; then
  show "compiler output (CTNN_SHOULD_FAIL)" "$bad_out"
  failed=1
else
  # The relevant lines, for the log.
  printf '%s\n' "$bad_out" | grep -E -- "In instantiation of|error: |note: the comparison" | sed 's/^/     | /'
fi

if [ $failed -ne 0 ]; then
  echo "[$name] FAILED"
  exit 1
fi
echo "[$name] passed"
exit 0
