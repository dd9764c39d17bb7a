#!/usr/bin/env bash
# tests/consumer/pkgconfig.sh CTNN_ROOT BUILD_DIR: installs the build (meson install --destdir into a
# temporary folder), then compiles tests/consumer/io_main.cpp with g++ and nothing but
# `pkg-config --cflags --libs ctnn-io` from the installed .pc files (as a program built with make or
# CMake would), and runs it on data/iris_train.csv; when the build has the spectra (configure found
# Eigen 3: a ctnn_spectrum target in `meson introspect --targets`), checks that libctnn_spectrum.a
# and ctnn-spectrum.pc were installed, compiles tests/consumer/spectrum_main.cpp with nothing but
# `pkg-config --cflags --libs ctnn-spectrum` and runs it (known eigenvalues and singular values);
# checks that the installed ctnn tool runs. Any failure fails the test.
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
# The spectra (ctnn/optim/spectrum.hpp) need libctnn_spectrum.a, a target when configure found
# Eigen 3; then the library and ctnn-spectrum.pc must both have been installed.
targets=$(meson introspect "$build" --targets)
if [[ $targets == *'"name": "ctnn_spectrum"'* ]]; then
  [[ -f "$pcdir/ctnn-spectrum.pc" ]] || { echo "pkgconfig: ctnn-spectrum.pc not installed" >&2; exit 1; }
  [[ -f "$(find "$work/dest" -name libctnn_spectrum.a | head -1)" ]] ||
    { echo "pkgconfig: libctnn_spectrum.a not installed" >&2; exit 1; }
  flags=$(pkg-config --cflags --libs ctnn-spectrum)
  echo "== pkg-config --cflags --libs ctnn-spectrum: $flags"
  [[ $flags == *"-lctnn_spectrum"* ]] || { echo "pkgconfig: -lctnn_spectrum missing" >&2; exit 1; }
  # shellcheck disable=SC2086  # a list of flags
  "${CXX:-c++}" -std=c++20 -O0 -Wall -Wextra "$root/tests/consumer/spectrum_main.cpp" -o "$work/consumer_spectrum" $flags
  "$work/consumer_spectrum"
else
  echo "== no ctnn_spectrum target (Eigen 3 not found): the spectra are not checked"
fi
# The command-line tool is installed too (bin/ctnn) and runs from there.
tool=$(find "$work/dest" -path '*/bin/ctnn' | head -1)
[[ -x $tool ]] || { echo "pkgconfig: the ctnn tool was not installed" >&2; exit 1; }
"$tool" --version
echo "consumer_pkgconfig: OK"
