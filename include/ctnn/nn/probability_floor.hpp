// ctnn/nn/probability_floor.hpp: the floor a probability loss clamps p to before its log, shared by
// the compiled losses (nn/loss.hpp) and the runtime network's (nn/runtime_network.hpp).
// Layer: nn (nothing but the standard library).
#pragma once
#include <type_traits>

namespace ctnn::loss {

/// e^-100 in double (PyTorch clamps each log term at -100) and the smallest normal float in float
/// (log = -87.3), so that 1/p in the derivative stays finite. Below it the clamped term passes no
/// gradient.
template <class T>
inline constexpr double probability_floor =
    std::is_same_v<T, float> ? 1.1754943508222875e-38 : 3.720075976020836e-44;

}  // namespace ctnn::loss
