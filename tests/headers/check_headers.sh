#!/usr/bin/env bash
# Every public header compiles on its own (-fsyntax-only), and none includes a layer above its
# own: core < kernel < ad < nn < optim, train (side by side) < dist; io sits beside them, no other layer
# includes it, and it may include core, and nn (io/runtime_model.hpp builds a RuntimeNetwork from a file). The compiles run in parallel (one per core). The headers that include <mpi.h> (ctnn/dist's mpi.hpp
# and data_parallel.hpp) compile with `pkg-config --cflags mpi`; without an MPI package they are skipped.
# Usage: check_headers.sh <repo root> <compiler command...>
set -u
root=$1; shift
cd "$root/include" || exit 2
rank() { case $1 in core) echo 0;; kernel) echo 1;; ad) echo 2;; nn) echo 3;; optim|train|io) echo 4;; dist) echo 5;; *) echo 9;; esac; }
fail=0
headers=$(find ctnn -name '*.hpp' | sort)
for h in $headers; do
  layer=$(echo "$h" | cut -d/ -f2)
  [[ "$layer" == *.hpp ]] && layer=umbrella
  if [[ $layer != umbrella ]]; then
    while read -r inc; do
      dep=$(echo "$inc" | cut -d/ -f2)
      if [[ $layer == io && $dep != core && $dep != io && $dep != nn ]] || [[ $layer != io && $dep == io ]] ||
         (( $(rank "$dep") > $(rank "$layer") )); then
        echo "upward include: $h (layer $layer) includes $inc"; fail=1
      fi
    done < <(grep -oE '#include "ctnn/[a-z_]+/[^"]+"' "$h" | sed 's/#include "//; s/"$//')
  fi
done
if mpi_flags=$(pkg-config --cflags mpi 2>/dev/null); then
  export CTNN_MPI_FLAGS=$mpi_flags
else
  mpi_headers=$(grep -l '#include <mpi.h>' $headers || true)
  for h in $mpi_headers; do echo "skipped (no MPI package; pkg-config mpi): $h"; done
  headers=$(printf '%s\n' $headers | grep -vxF -f <(printf '%s\n' $mpi_headers) || true)
fi
# compile_alone HEADER COMPILER...: prints the first error lines and fails if HEADER does not compile alone.
compile_alone() {
  local h=$1; shift
  local log
  # shellcheck disable=SC2086  # CTNN_MPI_FLAGS is a list of flags
  log=$(printf '#include "%s"\n' "$h" | "$@" -std=c++20 -Wall -Wextra -fsyntax-only -I. ${CTNN_MPI_FLAGS:-} -x c++ - 2>&1) && return 0
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
