#!/usr/bin/env bash
# tests/consumer/run.sh CTNN_ROOT: builds tests/consumer/project, a separate meson project that
# takes ctnn as a subproject (CTNN_ROOT symlinked as subprojects/ctnn), and runs its program; with
# Eigen 3 installed, its configure must also resolve ctnn-spectrum (not compiled here: pkgconfig.sh).
# Works in a temporary directory, removed on exit; any failure fails the test.
set -euo pipefail

if [[ $# -ne 1 || ! -f "$1/meson.build" ]]; then
  echo "usage: $0 CTNN_ROOT  (the ctnn source tree, with its meson.build)" >&2
  exit 2
fi
ctnn_root=$(cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)

work=$(mktemp -d "${TMPDIR:-/tmp}/ctnn-consumer.XXXXXX")
trap 'rm -rf "$work"' EXIT

cp -R "$here/project" "$work/project"
cp "$here/spectrum_main.cpp" "$work/project/"
mkdir -p "$work/project/subprojects"
ln -s "$ctnn_root" "$work/project/subprojects/ctnn"

cd "$work/project"
echo "== meson setup (ctnn from $ctnn_root)"
# Subproject options are set as ctnn:NAME; the benchmarks are never built in a subproject, but
# the option is passed when ctnn declares it, as a consumer would to keep builds lean.
opts=()
if grep -q "'bench'" "$ctnn_root/meson_options.txt" 2>/dev/null; then
  opts+=(-Dctnn:bench=false)
fi
# With Eigen 3 installed ctnn builds its spectra: ctnn-spectrum must then resolve (project/meson.build).
if pkg-config --exists eigen3; then
  opts+=(-Dspectrum=enabled)
fi
if ! meson setup build "${opts[@]}"; then
  echo "consumer: meson setup failed" >&2
  cat build/meson-logs/meson-log.txt >&2 2>/dev/null || true
  exit 1
fi
echo "== meson compile"
meson compile -C build
echo "== run"
./build/consumer
echo "consumer_subproject: OK"
