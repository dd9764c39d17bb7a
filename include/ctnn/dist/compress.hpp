// ctnn/dist/compress.hpp: gradient compression for data-parallel training, both with error feedback
// (memory): each step a rank adds its gradient to what it has not sent yet (the residual), sends a
// compressed form and keeps the difference for later steps, so nothing is lost to the compression.
// - TopK: the k entries of largest magnitude as (index, value) pairs (Stich, Cordonnier and Jaggi
//   2018, "Sparsified SGD with memory"; Lin et al. 2018, "Deep gradient compression").
// - Sign: one bit per entry and one scale, the mean magnitude: p ≈ scale · sign(p) (Karimireddy et
//   al. 2019, "Error feedback fixes SignSGD and other gradient compression schemes"); 32x fewer
//   bytes than float values, and one pass instead of a selection.
// Without error feedback the unsent part is dropped, which is biased.
// No MPI here: ctnn/dist/data_parallel.hpp moves the messages between ranks.
// Layer: dist (uses only the standard library).
#pragma once
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

namespace ctnn::dist {

/// The k of a compression ratio: round(ratio * n), at least 1, at most n. Throws for a ratio outside (0, 1].
inline std::size_t top_k_count(double ratio, std::size_t n) {
  if (!(ratio > 0.0 && ratio <= 1.0))
    throw std::invalid_argument("ctnn::dist: the top-k ratio must be in (0, 1], got " + std::to_string(ratio));
  const auto k = static_cast<std::size_t>(std::llround(ratio * static_cast<double>(n)));
  return std::clamp<std::size_t>(k, 1, n);
}

namespace detail {
/// Throws invalid_argument naming the first i with r[i] + g[i] not finite. |x| <= max is false for
/// NaN and inf: one vectorised pass, the index looked for only when there is one.
template <class T>
void check_finite(std::span<const T> r, std::span<const T> g, const char* who) {
  constexpr T big = std::numeric_limits<T>::max();
  bool finite = true;
  for (std::size_t i = 0; i < r.size(); ++i) finite &= std::abs(r[i] + g[i]) <= big;
  if (finite) return;
  std::size_t i = 0;
  while (std::abs(r[i] + g[i]) <= big) ++i;
  throw std::invalid_argument(std::string("ctnn::dist::") + who + "::compress: entry " + std::to_string(i) +
                              " is not finite (gradient plus residual)");
}

/// What both compressors keep between steps: the residual (error feedback's memory: what has not
/// been sent yet; all zero without error feedback) and whether they keep it. `who` names the
/// compressor in check()'s message.
template <class T>
class Memory {
 public:
  Memory(std::size_t n, bool error_feedback, const char* who) : feedback_(error_feedback), who_(who), r_(n, T(0)) {}
  std::size_t size() const noexcept { return r_.size(); }
  bool error_feedback() const noexcept { return feedback_; }
  std::span<const T> residual() const noexcept { return r_; }
  std::span<T> residual_mutable() noexcept { return r_; }  ///< to restore a checkpoint
  void reset() { std::fill(r_.begin(), r_.end(), T(0)); }
  /// Throws invalid_argument naming the first entry of residual + g that is not finite (compress
  /// refuses such a g; a caller that must agree with other ranks first can ask alone).
  void check(std::span<const T> g) const { check_finite<T>(r_, g, who_); }

 protected:
  bool feedback_;
  const char* who_;
  std::vector<T> r_;
};
}  // namespace detail

/// Top-k sparsification of a vector of n entries with an optional residual (error feedback).
template <class T>
class TopK : public detail::Memory<T> {
  using detail::Memory<T>::feedback_;
  using detail::Memory<T>::r_;

 public:
  using detail::Memory<T>::check;
  TopK(std::size_t n, std::size_t k, bool error_feedback = true)
      : detail::Memory<T>(n, error_feedback, "TopK"), k_(k), mag_(n), hist_(n >= kHistogramFrom ? kBuckets : 0) {
    if (n == 0 || k == 0 || k > n)
      throw std::invalid_argument("ctnn::dist::TopK: need 0 < k <= n, got k = " + std::to_string(k) +
                                  ", n = " + std::to_string(n));
    if (n > UINT32_MAX) throw std::invalid_argument("ctnn::dist::TopK: more than 2^32 - 1 entries");
    work_.reserve(n);
  }

  std::size_t k() const noexcept { return k_; }

  /// a = residual + g; writes the k entries of a of largest magnitude (ties: the lower index) as
  /// (index, value) pairs in increasing index order; the residual becomes a with those entries set
  /// to 0 (error feedback) or 0 everywhere (without). sent + residual == residual_before + g exactly.
  /// A non-finite entry of residual + g is refused (invalid_argument naming it); nothing is sent then.
  /// compress<true> skips the finiteness check, for a caller that has just run check(g) (the
  /// GradientReducer, which must have the ranks agree on it first).
  template <bool Checked = false>
  void compress(std::span<const T> g, std::span<std::uint32_t> idx, std::span<T> val) {
    if (g.size() != r_.size() || idx.size() != k_ || val.size() != k_)
      throw std::invalid_argument("ctnn::dist::TopK::compress: sizes " + std::to_string(g.size()) + ", " +
                                  std::to_string(idx.size()) + ", " + std::to_string(val.size()) + "; expected " +
                                  std::to_string(r_.size()) + ", " + std::to_string(k_) + ", " + std::to_string(k_));
    const std::size_t n = r_.size();
    if constexpr (!Checked) check(g);  // before the residual changes, so a refusal loses nothing
    for (std::size_t i = 0; i < n; ++i) mag_[i] = std::abs(r_[i] + g[i]);
    // The k-th largest magnitude t, and how many magnitudes are larger (`above`). For a large n, the
    // magnitudes' bit patterns (non-negative floats) order as the values do, so a histogram of their
    // top bits finds the bucket holding the k-th largest, and a selection among that bucket's few
    // values finds t: 0.3 ms for 10^5 floats here (memory-bound passes), against 0.85 ms for a
    // selection over all of them, which is what a small n gets (no histogram to clear).
    T t = 0;
    std::size_t above = 0;
    const bool histogram = !hist_.empty() && k_ < n;
    if (histogram) {
      std::fill(hist_.begin(), hist_.end(), 0u);
      for (std::size_t i = 0; i < n; ++i) {
        r_[i] += g[i];
        ++hist_[bucket(mag_[i])];
      }
    } else {
      for (std::size_t i = 0; i < n; ++i) r_[i] += g[i];
    }
    if (k_ < n) {
      std::size_t b = hist_.size();
      work_.clear();
      if (histogram) {
        while (b-- > 0 && above + hist_[b] < k_) above += hist_[b];
        for (std::size_t i = 0; i < n; ++i)
          if (bucket(mag_[i]) == b) work_.push_back(mag_[i]);
      } else {
        work_.assign(mag_.begin(), mag_.end());
      }
      const auto kth = work_.begin() + static_cast<std::ptrdiff_t>(k_ - above - 1);
      std::nth_element(work_.begin(), kth, work_.end(), std::greater<T>());
      t = *kth;
      above += static_cast<std::size_t>(std::count_if(work_.begin(), kth, [t](T m) { return m > t; }));
    }
    std::size_t ties = k_ - above, j = 0;
    for (std::size_t i = 0; i < n && j < k_; ++i) {
      bool take = mag_[i] > t;
      if (!take && mag_[i] == t && ties > 0) {
        take = true;
        --ties;
      }
      if (take) {
        idx[j] = static_cast<std::uint32_t>(i);
        val[j] = r_[i];
        r_[i] = T(0);
        ++j;
      }
    }
    if (!feedback_) this->reset();
  }

 private:
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>, "ctnn::dist::TopK: float or double");
  using Bits = std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>;
  // Buckets: the exponent and the top mantissa bits below the (zero) sign bit; 4096 for float
  // (4 mantissa bits: buckets 1/16 of an octave wide), 65536 for double (5 mantissa bits).
  static constexpr int kBucketBits = sizeof(T) == 4 ? 12 : 16;
  static constexpr std::size_t kBuckets = std::size_t(1) << kBucketBits;
  static constexpr std::size_t kHistogramFrom = 4 * kBuckets;  // smaller n: one selection over all
  static std::size_t bucket(T m) noexcept {
    return static_cast<std::size_t>(std::bit_cast<Bits>(m) >> (8 * sizeof(T) - 1 - kBucketBits));
  }
  std::size_t k_;
  std::vector<T> mag_, work_;        // |residual + g|; the k-th largest's bucket
  std::vector<std::uint32_t> hist_;  // entries per bucket (empty for a small n)
};

/// Sign compression with one scale: p = residual + g is sent as scale = mean |p| and one bit per
/// entry (set: p_i >= 0), i.e. p ≈ scale · (±1); with error feedback the residual becomes
/// p − scale · (±1), without it 0. Bits are packed 64 to a word, entry i at bit i % 64 of word i / 64.
template <class T>
class Sign : public detail::Memory<T> {
  using detail::Memory<T>::feedback_;
  using detail::Memory<T>::r_;

 public:
  using detail::Memory<T>::check;
  explicit Sign(std::size_t n, bool error_feedback = true) : detail::Memory<T>(n, error_feedback, "Sign") {
    if (n == 0) throw std::invalid_argument("ctnn::dist::Sign: need at least one entry");
  }
  /// 64-bit words per message.
  std::size_t words() const noexcept { return (r_.size() + 63) / 64; }

  /// Writes the bits and returns the scale. A non-finite entry of residual + g is refused
  /// (invalid_argument naming it) before the residual changes.
  /// compress<true>: as TopK's.
  template <bool Checked = false>
  T compress(std::span<const T> g, std::span<std::uint64_t> bits) {
    if (g.size() != r_.size() || bits.size() != words())
      throw std::invalid_argument("ctnn::dist::Sign::compress: sizes " + std::to_string(g.size()) + ", " +
                                  std::to_string(bits.size()) + "; expected " + std::to_string(r_.size()) + ", " +
                                  std::to_string(words()));
    const std::size_t n = r_.size();
    if constexpr (!Checked) check(g);  // before the residual changes
    double l1 = 0;
    for (std::size_t i = 0; i < n; ++i) l1 += static_cast<double>(std::abs(r_[i] + g[i]));
    const T scale = static_cast<T>(l1 / static_cast<double>(n));
    for (std::size_t w = 0; w < bits.size(); ++w) {  // each word built in a register, stored once
      std::uint64_t word = 0;
      const std::size_t end = std::min(n, 64 * w + 64);
      for (std::size_t i = 64 * w; i < end; ++i) {
        const T p = r_[i] + g[i];
        const bool up = p >= T(0);
        word |= std::uint64_t(up) << (i % 64);
        r_[i] = feedback_ ? p - (up ? scale : -scale) : T(0);
      }
      bits[w] = word;
    }
    return scale;
  }
  /// Entry i of a message: +scale or −scale.
  static T value(std::span<const std::uint64_t> bits, T scale, std::size_t i) noexcept {
    return (bits[i / 64] >> (i % 64)) & 1u ? scale : -scale;
  }
};

}  // namespace ctnn::dist
