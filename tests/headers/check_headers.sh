#!/usr/bin/env bash
# Every public header compiles on its own (-fsyntax-only), and none includes a layer above its
# own: core < kernel < ad < nn < optim, train (side by side); io sits beside them and may include core only.
# The compiles run in parallel (one per core).
# Usage: check_headers.sh <repo root> <compiler command...>
set -u
root=$1; shift
cd "$root/include" || exit 2
rank() { case $1 in core) echo 0;; kernel) echo 1;; ad) echo 2;; nn) echo 3;; optim|train|io) echo 4;; *) echo 9;; esac; }
fail=0
headers=$(find ctnn -name '*.hpp' | sort)
for h in $headers; do
  layer=$(echo "$h" | cut -d/ -f2)
  [[ "$layer" == *.hpp ]] && layer=umbrella
  if [[ $layer != umbrella ]]; then
    while read -r inc; do
      dep=$(echo "$inc" | cut -d/ -f2)
      if [[ $layer == io && $dep != core && $dep != io ]] || [[ $layer != io && $dep == io ]] ||
         (( $(rank "$dep") > $(rank "$layer") )); then
        echo "upward include: $h (layer $layer) includes $inc"; fail=1
      fi
    done < <(grep -oE '#include "ctnn/[a-z_]+/[^"]+"' "$h" | sed 's/#include "//; s/"$//')
  fi
done
# compile_alone HEADER COMPILER...: prints the first error lines and fails if HEADER does not compile alone.
compile_alone() {
  local h=$1; shift
  local log
  log=$(printf '#include "%s"\n' "$h" | "$@" -std=c++20 -Wall -Wextra -fsyntax-only -I. -x c++ - 2>&1) && return 0
  printf 'does not compile alone: %s\n%s\n' "$h" "$(head -5 <<<"$log")"
  return 1
}
export -f compile_alone
jobs=$(nproc 2>/dev/null || echo 2)
if ! printf '%s\n' $headers | xargs -P "$jobs" -I{} bash -c 'compile_alone "$@"' _ {} "$@"; then
  fail=1
fi
[[ $fail == 0 ]] && echo "all headers compile alone; no upward includes"
exit $fail
