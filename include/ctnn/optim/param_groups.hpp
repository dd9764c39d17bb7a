// ctnn/optim/param_groups.hpp: which entries of the flat parameter buffer weight decay applies to.
// A DecayMask is a sorted list of [begin, end) index ranges; by default it covers every parameter
// (PyTorch's behaviour: it decays every tensor it is given). weight_ranges<Net>() builds the
// "weights only, biases excluded" mask from a network's block layout (Net::block_offset).
// Layer: optim (includes nothing from ctnn; Net is any type with ctnn::Network's layout members).
#pragma once
#include <algorithm>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace ctnn::optim {

/// A half-open index range [begin, end) of the flat parameter buffer.
struct IndexRange {
  std::size_t begin = 0, end = 0;
};

/// The entries weight decay applies to. Default-constructed: every parameter.
class DecayMask {
 public:
  DecayMask() = default;
  /// Only the given ranges (sorted and non-overlapping after construction; adjacent ones merged).
  explicit DecayMask(std::vector<IndexRange> ranges) : all_(false), ranges_(std::move(ranges)) {
    std::sort(ranges_.begin(), ranges_.end(), [](IndexRange a, IndexRange b) { return a.begin < b.begin; });
    std::vector<IndexRange> merged;
    for (IndexRange r : ranges_) {
      if (r.end < r.begin) throw std::invalid_argument("ctnn::optim::DecayMask: range with end < begin");
      if (r.end == r.begin) continue;
      if (!merged.empty() && r.begin < merged.back().end)
        throw std::invalid_argument("ctnn::optim::DecayMask: overlapping ranges");
      if (!merged.empty() && r.begin == merged.back().end) merged.back().end = r.end;
      else merged.push_back(r);
    }
    ranges_ = std::move(merged);
  }
  static DecayMask all() { return {}; }
  static DecayMask none() { return DecayMask(std::vector<IndexRange>{}); }

  bool covers_all() const noexcept { return all_; }
  const std::vector<IndexRange>& ranges() const noexcept { return ranges_; }

  /// Throws if a range reaches past n parameters.
  void check(std::size_t n) const {
    if (!all_ && !ranges_.empty() && ranges_.back().end > n)
      throw std::invalid_argument("ctnn::optim::DecayMask: range ends at " + std::to_string(ranges_.back().end) +
                                  " but there are only " + std::to_string(n) + " parameters");
  }
  /// Calls f(begin, end, decayed) for consecutive segments covering [0, n); no allocation.
  template <class F>
  void for_each_segment(std::size_t n, F&& f) const {
    if (all_) {
      if (n) f(std::size_t{0}, n, true);
      return;
    }
    std::size_t at = 0;
    for (IndexRange r : ranges_) {
      if (r.begin > at) f(at, r.begin, false);
      f(r.begin, r.end, true);
      at = r.end;
    }
    if (at < n) f(at, n, false);
  }

 private:
  bool all_ = true;
  std::vector<IndexRange> ranges_;
};

/// The mask "weight matrices only, biases excluded" of a ctnn::Network type: for every layer with
/// parameters, its first block (the weight W; Dense's b is its second block), located with
/// Net::first_block(layer) and Net::block_offset. This is the set the loss's L2 penalty
/// (ctnn::loss::with_l2, ParamsView::weights) covers.
template <class Net>
DecayMask weight_ranges() {
  std::vector<IndexRange> r;
  for (std::size_t l = 0; l < Net::num_layers; ++l) {
    const std::size_t first = Net::first_block(l);
    const std::size_t next = l + 1 < Net::num_layers ? Net::first_block(l + 1) : Net::num_blocks;
    if (next > first) r.push_back({Net::block_offset[first], Net::block_offset[first + 1]});
  }
  return DecayMask(std::move(r));
}

}  // namespace ctnn::optim
