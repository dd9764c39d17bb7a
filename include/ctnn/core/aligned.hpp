// ctnn/core/aligned.hpp: owning aligned heap buffer (allocated once, never resized) and a
// fixed-size aligned matrix value type used for inputs and outputs.
// Layer: core.
#pragma once
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstring>
#include <memory>
#include <new>
#include <span>

#include "ctnn/core/config.hpp"

namespace ctnn {

/// A heap buffer of N elements aligned to ctnn::alignment; zero-initialised; copyable (deep).
template <class T>
class AlignedBuffer {
 public:
  AlignedBuffer() = default;
  explicit AlignedBuffer(std::size_t n) : n_(n) {
    if (n_ == 0) return;
    const std::size_t bytes = (n_ * sizeof(T) + alignment - 1) / alignment * alignment;
    data_.reset(static_cast<T*>(::operator new(bytes, std::align_val_t{alignment})));
    std::fill_n(data_.get(), n_, T{});
  }
  AlignedBuffer(const AlignedBuffer& o) : AlignedBuffer(o.n_) { std::copy_n(o.data(), n_, data()); }
  AlignedBuffer& operator=(const AlignedBuffer& o) {
    if (this != &o) {
      if (n_ != o.n_) *this = AlignedBuffer(o.n_);
      std::copy_n(o.data(), n_, data());
    }
    return *this;
  }
  AlignedBuffer(AlignedBuffer&&) noexcept = default;
  AlignedBuffer& operator=(AlignedBuffer&&) noexcept = default;

  T* data() noexcept { return data_.get(); }
  const T* data() const noexcept { return data_.get(); }
  std::size_t size() const noexcept { return n_; }
  T& operator[](std::size_t i) noexcept { return data_.get()[i]; }
  const T& operator[](std::size_t i) const noexcept { return data_.get()[i]; }
  T* begin() noexcept { return data(); }
  T* end() noexcept { return data() + n_; }
  const T* begin() const noexcept { return data(); }
  const T* end() const noexcept { return data() + n_; }
  std::span<T> span() noexcept { return {data(), n_}; }
  std::span<const T> span() const noexcept { return {data(), n_}; }

 private:
  struct Free {
    void operator()(T* p) const noexcept { ::operator delete(p, std::align_val_t{alignment}); }
  };
  std::unique_ptr<T, Free> data_;
  std::size_t n_ = 0;
};

/// A fixed-size R x C matrix, row-major, aligned: the value type of inputs and outputs.
/// One sample is a 1 x C row; a batch of B samples is B x C (one sample per row).
template <class T, std::size_t R, std::size_t C>
struct alignas(alignment) Matrix {
  static constexpr std::size_t rows = R, cols = C, size = R * C;
  std::array<T, R * C> values{};

  T& operator()(std::size_t r, std::size_t c) noexcept { return values[r * C + c]; }
  const T& operator()(std::size_t r, std::size_t c) const noexcept { return values[r * C + c]; }
  T& operator[](std::size_t i) noexcept { return values[i]; }
  const T& operator[](std::size_t i) const noexcept { return values[i]; }
  T* data() noexcept { return values.data(); }
  const T* data() const noexcept { return values.data(); }
  auto begin() noexcept { return values.begin(); }
  auto end() noexcept { return values.end(); }
  auto begin() const noexcept { return values.begin(); }
  auto end() const noexcept { return values.end(); }
};

template <class T, std::size_t N>
using RowVector = Matrix<T, 1, N>;

}  // namespace ctnn
