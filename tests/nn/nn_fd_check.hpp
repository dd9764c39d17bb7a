// tests/nn/nn_fd_check.hpp: a small finite-difference checker for networks (local to tests/nn).
// fd_check_network<B>(net, loss, x, y) compares net.gradient<B>'s dLoss/dθ and dLoss/dx with the
// 4-point central stencil (f(t-2h) - 8 f(t-h) + 8 f(t+h) - f(t+2h)) / 12h of the loss,
// h = 1e-3 (truncation O(h^4)). A component passes when
//   |ad - fd| <= rel * max(|ad|, |fd|, floor)
// (floor = 1e-6 keeps components that are exactly or nearly 0 from dividing by ~0).
#pragma once
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <sstream>
#include <string>
#include <vector>

#include <doctest/doctest.h>

namespace nn_fd {

struct FdReport {
  std::size_t checked = 0, failed = 0;
  double worst_rel = 0;
  std::string worst;  // description of the worst component
};

inline void account(FdReport& r, const char* what, std::size_t i, double ad, double fd, double rel, double floor) {
  const double den = std::max({std::abs(ad), std::abs(fd), floor});
  const double e = std::abs(ad - fd) / den;
  ++r.checked;
  if (!(e <= rel)) ++r.failed;
  if (!(e <= r.worst_rel)) {  // also catches NaN
    r.worst_rel = e;
    std::ostringstream s;
    s.precision(17);
    s << what << "[" << i << "]: ad " << ad << " fd " << fd << " rel " << e;
    r.worst = s.str();
  }
}

/// Checks dLoss/dθ and dLoss/dx of `net` on the batch (x: B x inputs, y: B x outputs).
template <std::size_t B, class Net, class Loss>
FdReport fd_check_network(Net& net, const Loss& loss, std::vector<double> x, const std::vector<double>& y,
                          double rel = 1e-6, double h = 1e-3, double floor = 1e-6) {
  REQUIRE(x.size() == B * Net::inputs);
  REQUIRE(y.size() == B * Net::outputs);
  std::vector<double> dx(x.size());
  net.template gradient<B>(loss, x.data(), y.data(), dx.data());
  const std::vector<double> g(net.grads().begin(), net.grads().end());

  // The loss value for the stencil comes from the same gradient<B> instantiation (it returns the
  // loss; the gradient it also writes is discarded): one tape per (network, loss) type instead
  // of two keeps the test's compile time down; the nets are tiny, so the extra backward sweeps
  // cost nothing measurable at run time.
  std::vector<double> scratch(x.size());
  auto f = [&] { return net.template gradient<B>(loss, x.data(), y.data(), scratch.data()); };
  auto stencil = [&](double& t) {
    const double t0 = t;
    t = t0 - 2 * h;
    const double fm2 = f();
    t = t0 - h;
    const double fm1 = f();
    t = t0 + h;
    const double fp1 = f();
    t = t0 + 2 * h;
    const double fp2 = f();
    t = t0;
    return (fm2 - 8 * fm1 + 8 * fp1 - fp2) / (12 * h);
  };

  FdReport r;
  auto p = net.params();
  for (std::size_t i = 0; i < p.size(); ++i) account(r, "theta", i, g[i], stencil(p[i]), rel, floor);
  for (std::size_t i = 0; i < x.size(); ++i) account(r, "x", i, dx[i], stencil(x[i]), rel, floor);
  return r;
}

inline void require_pass(const FdReport& r) {
#ifdef NN_FD_VERBOSE
  MESSAGE("fd worst: " << r.worst);
#endif
  INFO("worst component: " << r.worst << " (" << r.failed << " of " << r.checked << " failed)");
  CHECK(r.checked > 0);
  CHECK(r.failed == 0);
}

}  // namespace nn_fd
