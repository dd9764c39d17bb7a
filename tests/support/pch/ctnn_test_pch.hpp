// tests/support/pch/ctnn_test_pch.hpp: what nearly every test translation unit parses first (the library's
// umbrella header and doctest), precompiled once per build and put in front of every doctest program's
// TUs by tests/meson.build (g++ only; see make_pch.py). Each header still compiles alone: tests/headers
// checks that without it. A larger set (every public header) made the TUs slower, not faster.
#include <doctest/doctest.h>

#include "ctnn/ctnn.hpp"
