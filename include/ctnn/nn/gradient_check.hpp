// ctnn/nn/gradient_check.hpp: a central-difference gradient checker for any loss, with a report per
// parameter block (a network's blocks are layer k's W and b, from Net::block_offset).
// Layer: nn (it knows what a network's parameter blocks are, through the Net type's block_offset and
// first_block only; it includes nothing of ad/ or kernel/ and works on any flat parameter buffer).
//
//   // f: the loss at the current parameter values; grad: the analytic gradient, a range or a callable
//   auto r = ctnn::check_gradient([&] { return net.loss<B>(loss, x, y); }, net,
//                                 [&] { net.gradient<B>(loss, x, y); return net.grads(); });
//   if (!r) std::cerr << r;            // per block: max abs / rel error, worst index, pass/fail
//   auto q = ctnn::check_gradient(f, theta /* std::vector<double>& */, g /* range */);
//
// Component i is compared with the 4-point central stencil
//   fd_i = (f(θ - 2h) - 8 f(θ - h) + 8 f(θ + h) - f(θ + 2h)) / (12 h),   h = step · max(1, |θ_i|)
// (h rounded so that θ_i + h is exact; truncation error O(h⁴)). Its relative error is
//   |ad_i - fd_i| / max(|ad_i|, |fd_i|, floor_i),   floor_i = max(abs_floor, noise_i / rel_tol, tiny),
//   noise_i = noise_ulps · eps(T) · max|f(stencil)| / h,
// so a component too small for the stencil to resolve (an exact 0 by symmetry) is judged against the
// stencil's own rounding noise instead of by a meaningless ratio. A non-finite analytic value, stencil
// or loss is an infinite error. The parameters are perturbed in place (f reads them where they live)
// and each one is restored to its exact original value before the next. Not for hot paths: it
// allocates its report.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <limits>
#include <ostream>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace ctnn {

/// Tuning of check_gradient. Zero step / rel_tol mean "by precision": 1e-4 / 1e-6 for double,
/// 1e-2 / 1e-2 for float (use double where you can: float's stencil resolves ~3 digits).
struct GradientCheckOptions {
  double step = 0.0;         // relative step: h = step · max(1, |θ_i|)
  double rel_tol = 0.0;      // a block passes when every component's relative error is below this
  double abs_floor = 0.0;    // optional fixed floor of the error's denominator
  double noise_ulps = 16.0;  // the stencil's rounding error, in units of eps · max|f| / h
  std::size_t max_listed = 20;  // failing components listed in the report
};

/// The check of one parameter block [begin, end).
struct BlockCheck {
  std::string name;            // "layer 0 W", "layer 0 b", or "params" for a plain vector
  std::size_t begin = 0, end = 0;
  double max_abs_err = 0.0;    // max |ad_i - fd_i|
  double max_rel_err = 0.0;    // max relative error (see the header comment)
  std::size_t worst = 0;       // flat index (into the whole parameter buffer) of the largest relative error
  std::size_t failing = 0;     // components with relative error >= rel_tol
  bool passed = true;
};

/// What check_gradient returns: per block and overall figures, both gradients, a printable report.
struct GradientCheck {
  std::vector<BlockCheck> blocks;
  std::vector<double> analytic, numeric;  // the gradient given and the stencil's
  double loss = 0.0;                      // f at the unperturbed parameters
  double rel_tol = 0.0;
  double max_abs_err = 0.0, max_rel_err = 0.0;
  std::size_t worst = 0;        // flat index of the overall largest relative error
  std::size_t worst_block = 0;  // the block that holds it
  bool passed = true;
  std::string failures;         // one line per failing component (at most max_listed)

  explicit operator bool() const noexcept { return passed; }

  std::string report() const {
    std::string s;
    char buf[512];
    std::snprintf(buf, sizeof buf,
                  "gradient check: %zu parameters in %zu block(s), loss %.17g, tolerance %.3g: %s\n",
                  numeric.size(), blocks.size(), loss, rel_tol, passed ? "PASS" : "FAIL");
    s += buf;
    for (const auto& b : blocks) {
      if (b.begin == b.end) {
        std::snprintf(buf, sizeof buf, "  %-12s empty\n", b.name.c_str());
      } else {
        std::snprintf(buf, sizeof buf,
                      "  %-12s [%zu, %zu): max abs err %.3g, max rel err %.3g at [%zu] (analytic %.17g, "
                      "numeric %.17g): %s",
                      b.name.c_str(), b.begin, b.end, b.max_abs_err, b.max_rel_err, b.worst, analytic[b.worst],
                      numeric[b.worst], b.passed ? "pass" : "FAIL");
        s += buf;
        if (!b.passed) std::snprintf(buf, sizeof buf, " (%zu component(s))\n", b.failing);
        else std::snprintf(buf, sizeof buf, "\n");
      }
      s += buf;
    }
    s += failures;
    if (!passed)  // the checker cannot tell the two causes apart; say both
      s += "  (a failure is a wrong gradient, or the stencil's own error: a kink of relu, abs, max or step within "
           "±h of a component makes its central difference wrong there, and in float h is 1e-2 of |θ_i|; check "
           "in double, e.g. Network<double, ...>, or with a smaller GradientCheckOptions::step)\n";
    return s;
  }
  friend std::ostream& operator<<(std::ostream& os, const GradientCheck& r) { return os << r.report(); }
};

/// A partition of the flat parameter buffer: offsets[k] .. offsets[k + 1] is block k, named names[k].
struct ParameterBlocks {
  std::vector<std::size_t> offsets;
  std::vector<std::string> names;
};

namespace detail {

template <class R>
concept flat_range = requires(R& r) {
  r.data();
  r.size();
};

template <class Net>
concept has_parameter_blocks = requires(Net& n) {
  Net::block_offset;
  Net::num_blocks;
  Net::num_layers;
  Net::first_block(std::size_t{0});
  n.params();
};

/// The analytic gradient as doubles: a range (data(), size()) or a callable returning one.
template <class G>
std::vector<double> analytic_gradient(G&& g) {
  if constexpr (std::is_invocable_v<G&>) {
    return analytic_gradient(std::forward<G>(g)());
  } else {
    static_assert(flat_range<std::remove_reference_t<G>>,
                  "check_gradient: the gradient must be a range with data() and size(), or a callable "
                  "returning one");
    const auto* p = g.data();
    return std::vector<double>(p, p + g.size());
  }
}

template <class Net>
ParameterBlocks network_blocks() {
  ParameterBlocks b;
  b.offsets.assign(Net::block_offset.begin(), Net::block_offset.end());
  for (std::size_t l = 0; l < Net::num_layers; ++l) {
    const std::size_t first = Net::first_block(l);
    const std::size_t next = l + 1 < Net::num_layers ? Net::first_block(l + 1) : Net::num_blocks;
    for (std::size_t k = first; k < next; ++k) {
      std::string name = "layer " + std::to_string(l) + " ";
      if (next - first == 2) name += k == first ? "W" : "b";
      else name += "block " + std::to_string(k - first);
      b.names.push_back(std::move(name));
    }
  }
  return b;
}

}  // namespace detail

/// Checks `grad` (a range of params.size() values, or a callable returning one, called once at the
/// unperturbed parameters before any perturbation) against central differences of `f` (a callable
/// returning the loss at the current values of `params`). `params` is perturbed in place and
/// restored exactly. `blocks` partitions it (empty: one block "params").
template <class F, class T, class G>
GradientCheck check_gradient(F&& f, std::span<T> params, G&& grad, const GradientCheckOptions& options = {},
                             const ParameterBlocks& blocks = {}) {
  static_assert(!std::is_const_v<T>, "check_gradient perturbs the parameters: pass a mutable buffer");
  GradientCheckOptions opt = options;
  constexpr bool dbl = sizeof(T) >= sizeof(double);
  if (opt.step <= 0) opt.step = dbl ? 1e-4 : 1e-2;
  if (opt.rel_tol <= 0) opt.rel_tol = dbl ? 1e-6 : 1e-2;
  const std::size_t n = params.size();

  GradientCheck res;
  res.rel_tol = opt.rel_tol;
  res.analytic = detail::analytic_gradient(std::forward<G>(grad));
  if (res.analytic.size() != n)
    throw std::invalid_argument("check_gradient: the gradient has " + std::to_string(res.analytic.size()) +
                                " components, the parameters " + std::to_string(n));
  ParameterBlocks part = blocks;
  if (part.offsets.empty()) part.offsets = {0, n};
  if (part.offsets.front() != 0 || part.offsets.back() != n || !std::is_sorted(part.offsets.begin(), part.offsets.end()))
    throw std::invalid_argument("check_gradient: block offsets must rise from 0 to the parameter count " +
                                std::to_string(n));
  const std::size_t nb = part.offsets.size() - 1;
  if (part.names.size() != nb) {
    part.names.clear();
    for (std::size_t k = 0; k < nb; ++k) part.names.push_back(nb == 1 ? "params" : "block " + std::to_string(k));
  }

  constexpr double eps = std::numeric_limits<T>::epsilon();
  constexpr double tiny = std::numeric_limits<double>::min();
  constexpr double inf = std::numeric_limits<double>::infinity();
  res.numeric.assign(n, 0.0);
  res.loss = static_cast<double>(f());
  std::size_t listed = 0, failing_total = 0;
  for (std::size_t k = 0; k < nb; ++k) {
    BlockCheck b;
    b.name = part.names[k];
    b.begin = part.offsets[k];
    b.end = part.offsets[k + 1];
    b.worst = b.begin;
    for (std::size_t i = b.begin; i < b.end; ++i) {
      const T xi = params[i];
      T h = static_cast<T>(opt.step * std::max(1.0, std::abs(static_cast<double>(xi))));
      {
        volatile T t = xi + h;  // make h exactly representable as (θ + h) - θ
        h = t - xi;
      }
      auto at = [&](T v) {
        params[i] = v;
        const double r = static_cast<double>(f());
        params[i] = xi;
        return r;
      };
      const double fm2 = at(xi - 2 * h), fm1 = at(xi - h), fp1 = at(xi + h), fp2 = at(xi + 2 * h);
      const double hd = static_cast<double>(h);
      const double fd = ((fm2 - fp2) + 8.0 * (fp1 - fm1)) / (12.0 * hd);
      res.numeric[i] = fd;
      const double fmax =
          std::max({std::abs(fm2), std::abs(fm1), std::abs(fp1), std::abs(fp2), std::abs(res.loss)});
      const double noise = opt.noise_ulps * eps * fmax / hd;
      const double floor = std::max({opt.abs_floor, noise / opt.rel_tol, tiny});
      const double ad = res.analytic[i];
      double err, abs_err;
      if (!std::isfinite(ad) || !std::isfinite(fd) || !std::isfinite(fmax)) {
        err = abs_err = inf;
      } else {
        abs_err = std::abs(ad - fd);
        err = abs_err / std::max({std::abs(ad), std::abs(fd), floor});
      }
      b.max_abs_err = std::max(b.max_abs_err, abs_err);
      if (i == b.begin || !(err <= b.max_rel_err)) {  // NaN-safe: a NaN error becomes the worst
        b.max_rel_err = std::isnan(err) ? inf : err;
        b.worst = i;
      }
      if (!(err < opt.rel_tol)) {
        ++b.failing;
        ++failing_total;
        if (listed++ < opt.max_listed) {
          char buf[384];
          std::snprintf(buf, sizeof buf,
                        "    %s [%zu] θ = %.17g: analytic %.17g, numeric %.17g, abs err %.3g, rel err %.3g "
                        "(floor %.3g)\n",
                        b.name.c_str(), i, static_cast<double>(xi), ad, fd, abs_err, err, floor);
          res.failures += buf;
        }
      }
    }
    b.passed = b.failing == 0;
    res.passed = res.passed && b.passed;
    res.max_abs_err = std::max(res.max_abs_err, b.max_abs_err);
    if (b.begin != b.end && (res.blocks.empty() || !(b.max_rel_err <= res.max_rel_err))) {
      res.max_rel_err = b.max_rel_err;
      res.worst = b.worst;
      res.worst_block = k;
    }
    res.blocks.push_back(std::move(b));
  }
  if (listed > opt.max_listed)
    res.failures += "    ... " + std::to_string(failing_total - opt.max_listed) + " more\n";
  return res;
}

/// A plain parameter vector (std::vector, std::array, std::span ...): one block.
template <class F, detail::flat_range P, class G>
  requires(!detail::has_parameter_blocks<P>)
GradientCheck check_gradient(F&& f, P& params, G&& grad, const GradientCheckOptions& options = {},
                             const ParameterBlocks& blocks = {}) {
  return check_gradient(std::forward<F>(f), std::span{params.data(), params.size()}, std::forward<G>(grad), options,
                        blocks);
}

/// A network: its parameters, reported per block (layer l's W and b).
template <class F, detail::has_parameter_blocks Net, class G>
GradientCheck check_gradient(F&& f, Net& net, G&& grad, const GradientCheckOptions& options = {}) {
  return check_gradient(std::forward<F>(f), net.params(), std::forward<G>(grad), options,
                        detail::network_blocks<Net>());
}

}  // namespace ctnn
