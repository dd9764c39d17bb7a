#!/usr/bin/env bash
# tests/consumer/pkgconfig.sh CTNN_ROOT BUILD_DIR: installs the build (meson install --destdir into a
# temporary folder), then compiles tests/consumer/io_main.cpp with g++ and nothing but
# `pkg-config --cflags --libs ctnn-io` from the installed .pc files (as a program built with make or
# CMake would), and runs it on data/iris_train.csv; checks that the installed ctnn tool runs. Any
# failure fails the test.
set -euo pipefail
if [[ $# -ne 2 || ! -f "$1/meson.build" || ! -f "$2/build.ninja" ]]; then
  echo "usage: $0 CTNN_ROOT BUILD_DIR" >&2
  exit 2
fi
root=$(cd "$1" && pwd)
build=$(cd "$2" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/ctnn-pkgconfig.XXXXXX")
trap 'rm -rf "$work"' EXIT

echo "== meson install --destdir $work/dest"
meson install -C "$build" --no-rebuild --quiet --destdir "$work/dest" >/dev/null
pcdir=$(dirname "$(find "$work/dest" -name ctnn-io.pc | head -1)")
[[ -f "$pcdir/ctnn.pc" ]] || { echo "pkgconfig: ctnn.pc not installed" >&2; exit 1; }
[[ -f "$(find "$work/dest" -name libctnn_io.a | head -1)" ]] || { echo "pkgconfig: libctnn_io.a not installed" >&2; exit 1; }
# The .pc files name the final prefix; PKG_CONFIG_SYSROOT_DIR points them into the temporary install.
export PKG_CONFIG_PATH="$pcdir" PKG_CONFIG_SYSROOT_DIR="$work/dest"
flags=$(pkg-config --cflags --libs ctnn-io)
echo "== pkg-config --cflags --libs ctnn-io: $flags"
[[ $flags == *"-lctnn_io"* && $flags == *"-lz"* ]] || { echo "pkgconfig: -lctnn_io or -lz missing" >&2; exit 1; }
# shellcheck disable=SC2086  # a list of flags
"${CXX:-c++}" -std=c++20 -O1 -Wall -Wextra "$root/tests/consumer/io_main.cpp" -o "$work/consumer_io" $flags
"$work/consumer_io" "$root/data/iris_train.csv" "$work"
# The command-line tool is installed too (bin/ctnn) and runs from there.
tool=$(find "$work/dest" -path '*/bin/ctnn' | head -1)
[[ -x $tool ]] || { echo "pkgconfig: the ctnn tool was not installed" >&2; exit 1; }
"$tool" --version
echo "consumer_pkgconfig: OK"
