// examples/gradient_diagnostics_sigmoid.cpp: the sigmoid net's diagnostics (one net type per TU).
#include "gradient_diagnostics.hpp"

namespace gradient_diagnostics {
Report diagnose_sigmoid(const Batch& b, std::uint64_t seed) { return diagnose<Deep<ctnn::Sigmoid>>("sigmoid", b, seed); }
}  // namespace gradient_diagnostics
