// examples/gradient_diagnostics_relu.cpp: the ReLU twin's diagnostics (one net type per TU).
#include "gradient_diagnostics.hpp"

namespace gradient_diagnostics {
Report diagnose_relu(const Batch& b, std::uint64_t seed) { return diagnose<Deep<ctnn::ReLU>>("relu", b, seed); }
}  // namespace gradient_diagnostics
