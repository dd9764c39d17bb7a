// examples/width_sweep_wide.cpp: the wider half of the width sweep's candidates, compiled here
// (explicit instantiation) so that examples/width_sweep.cpp's translation unit does not carry the
// code generation of all six networks; see examples/width_sweep.hpp.
#include "width_sweep.hpp"

namespace width_sweep {
template struct Slice<kSplit, kCandidates>;
}  // namespace width_sweep
