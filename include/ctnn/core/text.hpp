// ctnn/core/text.hpp: how ctnn writes a number in a message or a printed equation.
// Layer: core.
#pragma once
#include <cstdio>
#include <string>

namespace ctnn::text {

/// `v` with six significant digits, as printf's "%.6g" writes it ("0.1", "1e-07", "inf", "nan"):
/// the form of every number in ctnn's messages (training stops, data errors, derived equations).
inline std::string number(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.6g", v);
  return b;
}

}  // namespace ctnn::text
