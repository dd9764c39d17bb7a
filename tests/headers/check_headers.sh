#!/usr/bin/env bash
# Every public header compiles on its own (-fsyntax-only), and none includes a layer above its
# own: core < kernel < ad < nn < optim, train (side by side); io sits beside them and may include core only.
# Usage: check_headers.sh <repo root> <compiler command...>
set -u
root=$1; shift
cd "$root/include" || exit 2
rank() { case $1 in core) echo 0;; kernel) echo 1;; ad) echo 2;; nn) echo 3;; optim|train|io) echo 4;; *) echo 9;; esac; }
# Headers outside the umbrella may need an optional dependency (optim/spectrum.hpp: Eigen 3).
extra=$(pkg-config --cflags eigen3 2>/dev/null || true)
fail=0
for h in $(find ctnn -name '*.hpp' | sort); do
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
  if ! printf '#include "%s"\n' "$h" | "$@" -std=c++20 -Wall -Wextra -fsyntax-only -I. $extra -x c++ - 2>/tmp/ctnn_header_$$.log; then
    echo "does not compile alone: $h"; head -5 /tmp/ctnn_header_$$.log; fail=1
  fi
done
rm -f /tmp/ctnn_header_$$.log
[[ $fail == 0 ]] && echo "all headers compile alone; no upward includes"
exit $fail
