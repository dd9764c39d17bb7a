// ctnn/ad/tape_runtime.hpp: the runtime tape, a Wengert list for graphs known only at run time
// (a network whose sizes are read from a file). Tensors are rows x cols (one sample per row, as
// in the static tape); nodes are recorded in order and their values computed on record; a
// reverse sweep from a 1 x 1 root accumulates adjoints, the first edge into a node writing (=)
// and later ones adding (+=), exactly as the static tape does, so nothing is zeroed but the grad
// buffers of leaves the root does not depend on (their gradient is 0, written as the static tape
// writes it). Two leaves may not share (overlap in) a grad buffer: each would overwrite the other's
// gradient; a weight used twice is one leaf used twice.
//
// No rule is written twice: element-wise nodes call the ops of ad/ops/*.hpp (value, derivative,
// through ad::unary_adjoint) and ops::Add/Sub/Mul/Div (value, da, db); affine, softmax and
// log-sum-exp lanes are the functions ad/binary.hpp and ad/reduce.hpp share with their static
// nodes; matrix products use the same products as ad/linalg.hpp (dA = g Bᵀ, dB = Aᵀ g), through
// runtime-size kernels (ad/runtime/kernels.hpp) that repeat kernel/'s operation order.
//
// Allocation happens while recording (and once for the reverse-sweep plan); forward() and
// backward() on a built graph, with leaves rebound to new buffers, allocate nothing.
// Layer: ad.
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <new>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "ctnn/ad/binary.hpp"
#include "ctnn/ad/ops/abs.hpp"
#include "ctnn/ad/ops/exp.hpp"
#include "ctnn/ad/ops/gelu.hpp"
#include "ctnn/ad/ops/leaky_relu.hpp"
#include "ctnn/ad/ops/log.hpp"
#include "ctnn/ad/ops/maximum.hpp"
#include "ctnn/ad/ops/minimum.hpp"
#include "ctnn/ad/ops/reciprocal.hpp"
#include "ctnn/ad/ops/relu.hpp"
#include "ctnn/ad/ops/sigmoid.hpp"
#include "ctnn/ad/ops/silu.hpp"
#include "ctnn/ad/ops/softplus.hpp"
#include "ctnn/ad/ops/sqrt.hpp"
#include "ctnn/ad/ops/square.hpp"
#include "ctnn/ad/ops/step.hpp"
#include "ctnn/ad/ops/tanh.hpp"
#include "ctnn/ad/reduce.hpp"
#include "ctnn/ad/runtime/kernels.hpp"
#include "ctnn/ad/unary.hpp"

namespace ctnn::ad::runtime {

namespace rk = ::ctnn::ad::runtime::kernel;

// Node rules are compiled with everything they call inlined (GCC's flatten), as the static tape's
// straight-line sweeps are: the rule's lanes and the kernel's accumulation then sit in one
// function, so the compiler fuses a product and a following sum into one FMA in both tapes alike.
#if defined(__GNUC__) && !defined(__clang__)
#define CTNN_RT_RULE __attribute__((flatten)) static
#else
#define CTNN_RT_RULE static
#endif

template <class T>
class Tape;

/// A handle to a node of a tape (valid while the tape lives). Operators record new nodes.
template <class T>
struct Var {
  Tape<T>* tape = nullptr;
  std::uint32_t id = 0;
  std::size_t rows() const { return tape->rows(*this); }
  std::size_t cols() const { return tape->cols(*this); }
  const T* value() const { return tape->value(*this); }
};

/// What a node computes (the kind of a recorded node, for inspection).
enum class Kind : std::uint8_t {
  leaf, unary, binary, affine, matmul, matmul_nt, transpose, sum, mean, row_sum, softmax, logsumexp
};

template <class T>
class Tape {
 public:
  static constexpr std::uint32_t none = 0xffffffffu;

  Tape() = default;
  Tape(const Tape&) = delete;  // variables point at their tape
  Tape& operator=(const Tape&) = delete;

  /// An R x C leaf over caller storage (row-major). With a grad buffer, backward() writes
  /// dRoot/dLeaf there (overwritten; 0 if the root does not depend on the leaf); without, the
  /// leaf is a constant. The buffers must outlive the passes that use them and may be swapped
  /// between passes (rebind). A grad buffer overlapping another leaf's is refused
  /// (std::invalid_argument): a weight used twice is one leaf whose variable is used twice.
  Var<T> leaf(std::size_t rows, std::size_t cols, const T* value, T* grad = nullptr) {
    if (value == nullptr) throw std::invalid_argument("ctnn runtime tape: a leaf needs a value buffer");
    Node n = shaped(Kind::leaf, rows, cols);
    n.ext_value = value;
    n.ext_grad = grad;
    check_grad_overlap(nodes_.size(), n);
    return push(n);
  }
  /// Points a leaf at other buffers (new input values, another gradient buffer, or none).
  /// Allocation-free; giving or dropping a grad buffer re-plans the next reverse sweep (O(nodes)),
  /// a new grad buffer is checked against the other leaves' (O(nodes)).
  void rebind(Var<T> v, const T* value, T* grad = nullptr) {
    Node& n = node(v);
    if (n.kind != Kind::leaf) throw std::invalid_argument("ctnn runtime tape: rebind() of an interior node");
    if (value == nullptr) throw std::invalid_argument("ctnn runtime tape: a leaf needs a value buffer");
    if (grad != nullptr && grad != n.ext_grad) {
      Node moved = n;
      moved.ext_grad = grad;
      check_grad_overlap(v.id, moved);
    }
    if ((grad == nullptr) != (n.ext_grad == nullptr)) planned_root_ = none;
    n.ext_value = value;
    n.ext_grad = grad;
  }

  /// An element-wise primitive of ad/ops (Op has value/derivative, uses_x/uses_y), e.g. ops::Tanh{}.
  template <class Op>
  Var<T> unary(Var<T> x, Op op = {}) {
    static_assert(std::is_trivially_copyable_v<Op> && sizeof(Op) <= payload_size, "op payload too large");
    Node n = shaped(Kind::unary, rows(x), cols(x));
    n.a = x.id;
    ::new (static_cast<void*>(n.payload)) Op(op);
    n.fwd = &unary_forward<Op>;
    n.bwd[0] = &unary_backward<Op, false>;
    n.bwd[1] = &unary_backward<Op, true>;
    return record(n);
  }
  /// a ∘ b for Op in ops::Add, Sub, Mul, Div, broadcasting R x C with 1 x C, R x 1 or 1 x 1.
  template <class Op>
  Var<T> binary(Var<T> a, Var<T> b) {
    const std::size_t ra = rows(a), ca = cols(a), rb = rows(b), cb = cols(b);
    const std::size_t R = std::max(ra, rb), C = std::max(ca, cb);
    const auto fits = [&](std::size_t r, std::size_t c) { return (r == R || r == 1) && (c == C || c == 1); };
    if (!fits(ra, ca) || !fits(rb, cb))
      throw std::invalid_argument("ctnn runtime tape: " + std::string(Op::name) + " of " + shape(a) + " and " +
                                  shape(b) + ": shapes do not broadcast");
    Node n = shaped(Kind::binary, R, C);
    n.a = a.id;
    n.b = b.id;
    n.fwd = &binary_forward<Op>;
    n.bwd[0] = &binary_backward<Op, false>;
    n.bwd[1] = &binary_backward<Op, true>;
    scratch_need_ = std::max(scratch_need_, 3 * C);
    return record(n);
  }
  /// alpha·x + beta (scaling, x + c, c − x, x / c).
  Var<T> affine(Var<T> x, double alpha, double beta) {
    Node n = shaped(Kind::affine, rows(x), cols(x));
    n.a = x.id;
    n.alpha = alpha;
    n.beta = beta;
    n.fwd = &affine_forward;
    n.bwd[0] = &affine_backward<false>;
    n.bwd[1] = &affine_backward<true>;
    return record(n);
  }
  /// A B ([M,K] [K,N]).
  Var<T> matmul(Var<T> a, Var<T> b) {
    if (cols(a) != rows(b))
      throw std::invalid_argument("ctnn runtime tape: matmul of " + shape(a) + " and " + shape(b));
    Node n = shaped(Kind::matmul, rows(a), cols(b));
    n.a = a.id;
    n.b = b.id;
    n.fwd = &matmul_forward;
    n.bwd[0] = &matmul_backward<false>;
    n.bwd[1] = &matmul_backward<true>;
    return record(n);
  }
  /// A Bᵀ ([M,K] [N,K]): the Dense forward X Wᵀ (what ad::matmul(a, transpose(b)) becomes).
  Var<T> matmul_nt(Var<T> a, Var<T> b) {
    if (cols(a) != cols(b))
      throw std::invalid_argument("ctnn runtime tape: matmul_nt of " + shape(a) + " and " + shape(b) + "ᵀ");
    Node n = shaped(Kind::matmul_nt, rows(a), rows(b));
    n.a = a.id;
    n.b = b.id;
    n.fwd = &matmul_nt_forward;
    n.bwd[0] = &matmul_nt_backward<false>;
    n.bwd[1] = &matmul_nt_backward<true>;
    return record(n);
  }
  Var<T> transpose(Var<T> a) {
    return unary_node(Kind::transpose, a, cols(a), rows(a), &transpose_forward, &transpose_backward<false>,
                      &transpose_backward<true>);
  }
  Var<T> sum(Var<T> a) { return unary_node(Kind::sum, a, 1, 1, &sum_forward, &sum_backward<false>, &sum_backward<true>); }
  Var<T> mean(Var<T> a) {
    return unary_node(Kind::mean, a, 1, 1, &mean_forward, &mean_backward<false>, &mean_backward<true>);
  }
  Var<T> row_sum(Var<T> a) {
    return unary_node(Kind::row_sum, a, rows(a), 1, &row_sum_forward, &row_sum_backward<false>,
                      &row_sum_backward<true>);
  }
  Var<T> softmax(Var<T> a) {
    return unary_node(Kind::softmax, a, rows(a), cols(a), &softmax_forward, &softmax_backward<false>,
                      &softmax_backward<true>);
  }
  Var<T> logsumexp(Var<T> a) {
    // Its slot also keeps e^{x − m} (rows x cols) and 1/Σ per row for the adjoint, as the static tape's.
    return unary_node(Kind::logsumexp, a, rows(a), 1, &logsumexp_forward, &logsumexp_backward<false>,
                      &logsumexp_backward<true>, rows(a) * cols(a) + rows(a));
  }

  // ---- passes -------------------------------------------------------------------------------
  /// Recomputes every node from the leaves' current values, in record order. Allocation-free.
  void forward() noexcept {
    for (std::size_t i = 0; i < nodes_.size(); ++i)
      if (nodes_[i].kind != Kind::leaf) compute(i);
  }
  /// Reverse sweep from a 1 x 1 root over the values of the last forward (or of recording);
  /// every leaf that wants a gradient receives dRoot/dLeaf (overwritten: 0 for a leaf the root
  /// does not reach). Returns the root's value. Allocation-free after the first sweep from this root.
  T backward(Var<T> root) {
    const Node& r = node(root);
    if (r.rows * r.cols != 1)
      throw std::invalid_argument("ctnn runtime tape: backward() needs a 1 x 1 root, got " + shape(root));
    plan(root.id);
    for (const std::uint32_t i : unreached_)
      std::fill_n(nodes_[i].ext_grad, nodes_[i].rows * nodes_[i].cols, T(0));
    if (r.kind == Kind::leaf) {
      if (r.ext_grad != nullptr) r.ext_grad[0] = T(1);
      return r.ext_value[0];
    }
    if (!needs_grad_[root.id]) return value(root)[0];
    adjoints_[r.adj_at] = T(1);
    for (std::size_t j = root.id + 1; j-- > 0;) {
      const Node& n = nodes_[j];
      if (n.kind == Kind::leaf || !reach_[j] || !needs_grad_[j]) continue;
      for (int k = 0; k < 2; ++k) {
        const std::uint32_t c = k == 0 ? n.a : n.b;
        if (c == none || !needs_grad_[c]) continue;
        n.bwd[first_[2 * j + static_cast<std::size_t>(k)] ? 0 : 1](*this, n, k, adjoints_.data() + n.adj_at, grad_ptr(c));
      }
    }
    return value(root)[0];
  }
  /// forward() then backward(root).
  T value_and_gradient(Var<T> root) {
    forward();
    return backward(root);
  }

  // ---- inspection ---------------------------------------------------------------------------
  std::size_t rows(Var<T> v) const { return node(v).rows; }
  std::size_t cols(Var<T> v) const { return node(v).cols; }
  const T* value(Var<T> v) const { return val(v.id); }
  std::size_t size() const noexcept { return nodes_.size(); }
  Kind kind(Var<T> v) const { return node(v).kind; }

 private:
  static constexpr std::size_t payload_size = 16;
  struct Node;
  using Fwd = void (*)(Tape&, const Node&, T* y);
  using Bwd = void (*)(Tape&, const Node&, int k, const T* g, T* dst);  // [0]: write, [1]: add
  struct Node {
    Kind kind = Kind::leaf;
    std::uint32_t a = none, b = none;
    std::size_t rows = 0, cols = 0;
    std::size_t val_at = 0, adj_at = 0;
    const T* ext_value = nullptr;
    T* ext_grad = nullptr;
    double alpha = 1, beta = 0;
    Fwd fwd = nullptr;
    Bwd bwd[2] = {nullptr, nullptr};
    alignas(8) unsigned char payload[payload_size] = {};
  };

  static constexpr std::size_t slot_align = ad::slot_align;  // elements, as the static tape's slots
  static std::size_t padded(std::size_t n) { return (n + slot_align - 1) / slot_align * slot_align; }

  Node& node(Var<T> v) {
    checked(v);
    return nodes_[v.id];
  }
  const Node& node(Var<T> v) const {
    checked(v);
    return nodes_[v.id];
  }
  void checked(Var<T> v) const {
    if (v.tape != this || v.id >= nodes_.size())
      throw std::invalid_argument("ctnn runtime tape: a variable of another tape");
  }
  std::string shape(Var<T> v) const { return std::to_string(rows(v)) + " x " + std::to_string(cols(v)); }
  // Refuses a grad buffer of leaf `self` (node n) that overlaps another leaf's: the reverse sweep
  // writes each leaf's gradient (=), so one would overwrite the other's.
  void check_grad_overlap(std::size_t self, const Node& n) const {
    if (n.ext_grad == nullptr) return;
    const auto range = [](const Node& m) {
      const auto lo = reinterpret_cast<std::uintptr_t>(m.ext_grad);
      return std::pair<std::uintptr_t, std::uintptr_t>{lo, lo + m.rows * m.cols * sizeof(T)};
    };
    const auto [lo, hi] = range(n);
    for (std::size_t i = 0; i < nodes_.size(); ++i) {
      const Node& o = nodes_[i];
      if (i == self || o.kind != Kind::leaf || o.ext_grad == nullptr) continue;
      const auto [olo, ohi] = range(o);
      if (lo < ohi && olo < hi)
        throw std::invalid_argument(
            "ctnn runtime tape: the grad buffer of leaf " + std::to_string(self) + " (" + std::to_string(n.rows) +
            " x " + std::to_string(n.cols) + ") overlaps that of leaf " + std::to_string(i) + " (" +
            std::to_string(o.rows) + " x " + std::to_string(o.cols) +
            "), so one would overwrite the other's gradient; for a weight used twice (tied weights) record one leaf "
            "and use its variable twice: the tape adds both contributions");
    }
  }
  static Node shaped(Kind k, std::size_t r, std::size_t c) {
    if (r == 0 || c == 0) throw std::invalid_argument("ctnn runtime tape: a node with an empty shape");
    Node n;
    n.kind = k;
    n.rows = r;
    n.cols = c;
    return n;
  }
  Var<T> push(const Node& n) {
    nodes_.push_back(n);
    planned_root_ = none;
    return {this, static_cast<std::uint32_t>(nodes_.size() - 1)};
  }
  // Records an interior node: a value slot, and its value computed now.
  // aux: scratch after the value that the node's forward writes and its backward reads.
  Var<T> record(Node n, std::size_t aux = 0) {
    n.val_at = values_.size();
    values_.resize(values_.size() + padded(n.rows * n.cols) + padded(aux));
    if (scratch_.size() < scratch_need_) scratch_.resize(scratch_need_);
    const Var<T> v = push(n);
    compute(v.id);
    return v;
  }
  Var<T> unary_node(Kind k, Var<T> a, std::size_t r, std::size_t c, Fwd f, Bwd write, Bwd add, std::size_t aux = 0) {
    Node n = shaped(k, r, c);
    n.a = a.id;
    n.fwd = f;
    n.bwd[0] = write;
    n.bwd[1] = add;
    return record(n, aux);
  }
  void compute(std::size_t i) noexcept { nodes_[i].fwd(*this, nodes_[i], values_.data() + nodes_[i].val_at); }

  const T* val(std::uint32_t i) const {
    const Node& n = nodes_[i];
    return n.kind == Kind::leaf ? n.ext_value : values_.data() + n.val_at;
  }
  T* grad_ptr(std::uint32_t i) {
    Node& n = nodes_[i];
    return n.kind == Kind::leaf ? n.ext_grad : adjoints_.data() + n.adj_at;
  }
  const Node& A(const Node& n) const { return nodes_[n.a]; }
  const Node& B(const Node& n) const { return nodes_[n.b]; }
  const T* av(const Node& n) const { return val(n.a); }
  const T* bv(const Node& n) const { return n.b == none ? nullptr : val(n.b); }
  const T* yv(const Node& n) const { return values_.data() + n.val_at; }

  // The reverse-sweep plan for one root, as the static tape's: which nodes the root reaches,
  // which of them need an adjoint (a leaf wanting a gradient lies below), and for every edge
  // whether it is the first to reach its child in the sweep (writes) or a later one (adds).
  void plan(std::uint32_t root) {
    if (planned_root_ == root) return;
    const std::size_t n = nodes_.size();
    reach_.assign(n, 0);
    needs_grad_.assign(n, 0);
    first_.assign(2 * n, 0);
    std::vector<char>& seen = seen_;
    seen.assign(n, 0);
    reach_[root] = 1;
    for (std::size_t j = root + 1; j-- > 0;)
      if (reach_[j]) {
        if (nodes_[j].a != none) reach_[nodes_[j].a] = 1;
        if (nodes_[j].b != none) reach_[nodes_[j].b] = 1;
      }
    std::size_t adj_end = 0;
    for (std::size_t i = 0; i <= root; ++i) {
      Node& nd = nodes_[i];
      if (!reach_[i]) continue;
      if (nd.kind == Kind::leaf) {
        needs_grad_[i] = nd.ext_grad != nullptr;
      } else {
        needs_grad_[i] = (nd.a != none && needs_grad_[nd.a]) || (nd.b != none && needs_grad_[nd.b]);
        if (needs_grad_[i]) {
          nd.adj_at = adj_end;
          adj_end += padded(nd.rows * nd.cols);
        }
      }
    }
    for (std::size_t j = root + 1; j-- > 0;) {
      const Node& nd = nodes_[j];
      if (nd.kind == Kind::leaf || !reach_[j] || !needs_grad_[j]) continue;
      for (std::size_t k = 0; k < 2; ++k) {
        const std::uint32_t c = k == 0 ? nd.a : nd.b;
        if (c == none || !needs_grad_[c]) continue;
        first_[2 * j + k] = !seen[c];
        seen[c] = 1;
      }
    }
    // Leaves wanting a gradient that the root does not reach (or recorded after it): dRoot/dLeaf = 0.
    unreached_.clear();
    for (std::size_t i = 0; i < n; ++i)
      if (nodes_[i].kind == Kind::leaf && nodes_[i].ext_grad != nullptr && (i > root || !reach_[i]))
        unreached_.push_back(static_cast<std::uint32_t>(i));
    if (adjoints_.size() < adj_end) adjoints_.resize(adj_end);
    planned_root_ = root;
  }

  // ---- node rules (forward: value from operands; backward: operand k's adjoint) --------------
  template <class Op>
  static const Op& op_of(const Node& n) noexcept {
    return *std::launder(reinterpret_cast<const Op*>(n.payload));
  }
  template <class Op>
  CTNN_RT_RULE void unary_forward(Tape& t, const Node& n, T* y) {
    const Op& op = op_of<Op>(n);
    rk::map(false, n.rows * n.cols, [&op](auto x) { return op.value(x); }, y, t.av(n));
  }
  template <class Op, bool acc>
  CTNN_RT_RULE void unary_backward(Tape& t, const Node& n, int, const T* g, T* dst) {
    const Op& op = op_of<Op>(n);
    rk::map<acc>(n.rows * n.cols, [&op](auto gv, auto xv, auto yv) { return unary_adjoint(op, gv, xv, yv); }, dst, g,
            t.av(n), t.yv(n));
  }

  // Row r of an operand (rx x cx) as C values: a column-broadcast row is expanded into buf.
  static const T* operand_row(const T* x, std::size_t rx, std::size_t cx, std::size_t C, std::size_t r, T* buf) {
    const T* p = x + (rx == 1 ? 0 : r * cx);
    if (cx == C) return p;
    for (std::size_t c = 0; c < C; ++c) buf[c] = p[0];
    return buf;
  }
  template <class Op>
  CTNN_RT_RULE void binary_forward(Tape& t, const Node& n, T* y) {
    const Node &a = t.A(n), &b = t.B(n);
    const std::size_t R = n.rows, C = n.cols;
    const auto f = [](auto x, auto z) { return Op::value(x, z); };
    if (a.rows == R && a.cols == C && b.rows == R && b.cols == C) {
      rk::map(false, R * C, f, y, t.av(n), t.bv(n));
      return;
    }
    T* abuf = t.scratch_.data();
    T* bbuf = abuf + C;
    for (std::size_t r = 0; r < R; ++r)
      rk::map(false, C, f, y + r * C, operand_row(t.av(n), a.rows, a.cols, C, r, abuf),
              operand_row(t.bv(n), b.rows, b.cols, C, r, bbuf));
  }
  // Operand k's rule (Op::da or Op::db), summed over the dimensions it was broadcast along, in the
  // order of Binary::reduce_into.
  template <class Op, bool acc>
  CTNN_RT_RULE void binary_backward(Tape& t, const Node& n, int k, const T* g, T* dx) {
    if (k == 0) binary_operand<acc>(t, n, [](auto... v) { return Op::da(v...); }, t.A(n), g, dx);
    else binary_operand<acc>(t, n, [](auto... v) { return Op::db(v...); }, t.B(n), g, dx);
  }
  template <bool acc, class Rule>
  static CTNN_INLINE void binary_operand(Tape& t, const Node& n, Rule rule, const Node& x, const T* g, T* dx) {
    const Node &a = t.A(n), &b = t.B(n);
    const std::size_t R = n.rows, C = n.cols;
    const T *av = t.av(n), *bv = t.bv(n), *y = t.yv(n);
    if (a.rows == R && a.cols == C && b.rows == R && b.cols == C) {
      rk::map<acc>(R * C, rule, dx, g, av, bv, y);
      return;
    }
    T* abuf = t.scratch_.data();
    T* bbuf = abuf + C;
    T* tmp = bbuf + C;
    T total = T(0);
    for (std::size_t r = 0; r < R; ++r) {
      const T* ar = operand_row(av, a.rows, a.cols, C, r, abuf);
      const T* br = operand_row(bv, b.rows, b.cols, C, r, bbuf);
      const T* gr = g + r * C;
      const T* yr = y + r * C;
      if (x.rows == R && x.cols == C) {
        rk::map<acc>(C, rule, dx + r * C, gr, ar, br, yr);
      } else if (x.cols == C) {  // 1 x C operand broadcast over rows (a bias)
        if (r == 0) rk::map<acc>(C, rule, dx, gr, ar, br, yr);
        else rk::map<true>(C, rule, dx, gr, ar, br, yr);
      } else {  // R x 1 or 1 x 1 operand broadcast over columns
        rk::map(false, C, rule, tmp, gr, ar, br, yr);
        const T s = rk::sum(C, static_cast<const T*>(tmp));
        if (x.rows == R && R > 1) dx[r] = acc ? dx[r] + s : s;
        else total += s;
      }
    }
    if (x.cols != C && !(x.rows == R && R > 1)) dx[0] = acc ? dx[0] + total : total;
  }

  CTNN_RT_RULE void affine_forward(Tape& t, const Node& n, T* y) {
    const double al = n.alpha, be = n.beta;
    rk::map(false, n.rows * n.cols, [al, be](auto x) { return affine_lane(x, al, be); }, y, t.av(n));
  }
  template <bool acc>
  CTNN_RT_RULE void affine_backward(Tape&, const Node& n, int, const T* g, T* dx) {
    const T al = static_cast<T>(n.alpha);
    rk::map<acc>(n.rows * n.cols, [al](auto v) { return affine_adjoint(v, al); }, dx, g);
  }

  // C = A B: dA = g Bᵀ, dB = Aᵀ g (ad::MatMul).
  CTNN_RT_RULE void matmul_forward(Tape& t, const Node& n, T* y) {
    rk::gemm_nn(false, n.rows, n.cols, t.A(n).cols, t.av(n), t.bv(n), y);
  }
  template <bool acc>
  CTNN_RT_RULE void matmul_backward(Tape& t, const Node& n, int k, const T* g, T* dst) {
    const std::size_t M = n.rows, N = n.cols, K = t.A(n).cols;
    if (k == 0) rk::gemm_nt(acc, M, K, N, g, t.bv(n), dst);
    else rk::gemm_tn(acc, K, N, M, t.av(n), g, dst);
  }
  // C = A Bᵀ: dA = g B, dB = gᵀ A (ad::MatMulNT).
  CTNN_RT_RULE void matmul_nt_forward(Tape& t, const Node& n, T* y) {
    rk::gemm_nt(false, n.rows, n.cols, t.A(n).cols, t.av(n), t.bv(n), y);
  }
  template <bool acc>
  CTNN_RT_RULE void matmul_nt_backward(Tape& t, const Node& n, int k, const T* g, T* dst) {
    const std::size_t M = n.rows, N = n.cols, K = t.A(n).cols;
    if (k == 0) rk::gemm_nn(acc, M, K, N, g, t.bv(n), dst);
    else rk::gemm_tn(acc, N, K, M, g, t.av(n), dst);
  }
  CTNN_RT_RULE void transpose_forward(Tape& t, const Node& n, T* y) {
    const std::size_t R = t.A(n).rows, C = t.A(n).cols;
    const T* x = t.av(n);
    for (std::size_t r = 0; r < R; ++r)
      for (std::size_t c = 0; c < C; ++c) y[c * R + r] = x[r * C + c];
  }
  template <bool acc>
  CTNN_RT_RULE void transpose_backward(Tape& t, const Node& n, int, const T* g, T* dx) {
    const std::size_t R = t.A(n).rows, C = t.A(n).cols;
    for (std::size_t r = 0; r < R; ++r)
      for (std::size_t c = 0; c < C; ++c) dx[r * C + c] = acc ? dx[r * C + c] + g[c * R + r] : g[c * R + r];
  }

  static std::size_t in_size(const Tape& t, const Node& n) { return t.A(n).rows * t.A(n).cols; }
  CTNN_RT_RULE void sum_forward(Tape& t, const Node& n, T* y) { y[0] = rk::sum(in_size(t, n), t.av(n)); }
  template <bool acc>
  CTNN_RT_RULE void sum_backward(Tape& t, const Node& n, int, const T* g, T* dx) {
    rk::fill(acc, in_size(t, n), dx, g[0]);
  }
  CTNN_RT_RULE void mean_forward(Tape& t, const Node& n, T* y) {
    y[0] = rk::sum(in_size(t, n), t.av(n)) / static_cast<T>(in_size(t, n));
  }
  template <bool acc>
  CTNN_RT_RULE void mean_backward(Tape& t, const Node& n, int, const T* g, T* dx) {
    rk::fill(acc, in_size(t, n), dx, g[0] / static_cast<T>(in_size(t, n)));
  }
  CTNN_RT_RULE void row_sum_forward(Tape& t, const Node& n, T* y) {
    const std::size_t R = n.rows, C = t.A(n).cols;
    for (std::size_t r = 0; r < R; ++r) y[r] = rk::sum(C, t.av(n) + r * C);
  }
  template <bool acc>
  CTNN_RT_RULE void row_sum_backward(Tape& t, const Node& n, int, const T* g, T* dx) {
    const std::size_t R = n.rows, C = t.A(n).cols;
    for (std::size_t r = 0; r < R; ++r) rk::fill(acc, C, dx + r * C, g[r]);
  }
  CTNN_RT_RULE void softmax_forward(Tape& t, const Node& n, T* y) {
    const std::size_t R = n.rows, C = n.cols;
    for (std::size_t r = 0; r < R; ++r) {
      const T* xr = t.av(n) + r * C;
      T* yr = y + r * C;
      const T m = rk::max(C, xr);
      rk::map(false, C, [m](auto v) { return shifted_exp(v, m); }, yr, xr);
      const T inv = T(1) / rk::sum(C, static_cast<const T*>(yr));
      rk::scale_inplace(C, yr, inv);
    }
  }
  template <bool acc>
  CTNN_RT_RULE void softmax_backward(Tape& t, const Node& n, int, const T* g, T* dx) {
    const std::size_t R = n.rows, C = n.cols;
    const T* y = t.yv(n);
    for (std::size_t r = 0; r < R; ++r) {
      const T d = rk::dot(C, g + r * C, y + r * C);
      rk::map<acc>(C, [d](auto gv, auto yv) { return softmax_adjoint(gv, yv, d); }, dx + r * C, g + r * C, y + r * C);
    }
  }
  CTNN_RT_RULE void logsumexp_forward(Tape& t, const Node& n, T* y) {
    const std::size_t R = n.rows, C = t.A(n).cols;
    T* e = y + padded(R);
    T* inv = e + R * C;
    for (std::size_t r = 0; r < R; ++r) {
      const T* xr = t.av(n) + r * C;
      const T m = rk::max(C, xr);
      rk::map(false, C, [m](auto v) { return shifted_exp(v, m); }, e + r * C, xr);
      const T s = rk::sum(C, static_cast<const T*>(e + r * C));
      inv[r] = T(1) / s;
      y[r] = m + simd::log(s);
    }
  }
  template <bool acc>
  CTNN_RT_RULE void logsumexp_backward(Tape& t, const Node& n, int, const T* g, T* dx) {
    const std::size_t R = n.rows, C = t.A(n).cols;
    const T* e = t.yv(n) + padded(R);
    const T* inv = e + R * C;
    for (std::size_t r = 0; r < R; ++r) {
      const T gs = g[r] * inv[r];
      rk::map<acc>(C, [gs](auto v) { return logsumexp_adjoint(v, gs); }, dx + r * C, e + r * C);
    }
  }

  std::vector<Node> nodes_;
  std::vector<T> values_, adjoints_, scratch_;
  std::size_t scratch_need_ = 0;
  std::vector<char> reach_, needs_grad_, first_, seen_;
  std::vector<std::uint32_t> unreached_;  // leaves with a grad buffer the planned root does not reach
  std::uint32_t planned_root_ = none;
};

// ---- expression syntax over Var: the spelling of ad/ (a * b + c, sum(square(p - y)) * k) -------
template <class T> Var<T> operator+(Var<T> a, Var<T> b) { return a.tape->template binary<ops::Add>(a, b); }
template <class T> Var<T> operator-(Var<T> a, Var<T> b) { return a.tape->template binary<ops::Sub>(a, b); }
template <class T> Var<T> operator*(Var<T> a, Var<T> b) { return a.tape->template binary<ops::Mul>(a, b); }
template <class T> Var<T> operator/(Var<T> a, Var<T> b) { return a.tape->template binary<ops::Div>(a, b); }
template <class T> Var<T> operator*(Var<T> a, double s) { return a.tape->affine(a, s, 0.0); }
template <class T> Var<T> operator*(double s, Var<T> a) { return a.tape->affine(a, s, 0.0); }
template <class T> Var<T> operator/(Var<T> a, double s) { return a.tape->affine(a, 1.0 / s, 0.0); }
template <class T> Var<T> operator+(Var<T> a, double s) { return a.tape->affine(a, 1.0, s); }
template <class T> Var<T> operator+(double s, Var<T> a) { return a.tape->affine(a, 1.0, s); }
template <class T> Var<T> operator-(Var<T> a, double s) { return a.tape->affine(a, 1.0, -s); }
template <class T> Var<T> operator-(double s, Var<T> a) { return a.tape->affine(a, -1.0, s); }
template <class T> Var<T> operator-(Var<T> a) { return a.tape->affine(a, -1.0, 0.0); }
template <class T> Var<T> operator/(double s, Var<T> a) { return a.tape->unary(a, ops::Reciprocal{s}); }

template <class Op, class T> Var<T> unary(Var<T> x, Op op = {}) { return x.tape->unary(x, op); }
template <class T> Var<T> exp(Var<T> x) { return unary<ops::Exp>(x); }
template <class T> Var<T> log(Var<T> x) { return unary<ops::Log>(x); }
template <class T> Var<T> sigmoid(Var<T> x) { return unary<ops::Sigmoid>(x); }
template <class T> Var<T> tanh(Var<T> x) { return unary<ops::Tanh>(x); }
template <class T> Var<T> relu(Var<T> x) { return unary<ops::Relu>(x); }
template <class T> Var<T> leaky_relu(Var<T> x, double slope = 0.01) { return unary(x, ops::LeakyRelu{slope}); }
template <class T> Var<T> softplus(Var<T> x) { return unary<ops::Softplus>(x); }
template <class T> Var<T> silu(Var<T> x) { return unary<ops::Silu>(x); }
template <class T> Var<T> gelu(Var<T> x) { return unary<ops::Gelu>(x); }
template <class T> Var<T> square(Var<T> x) { return unary<ops::Square>(x); }
template <class T> Var<T> step(Var<T> x) { return unary<ops::Step>(x); }
template <class T> Var<T> abs(Var<T> x) { return unary<ops::Abs>(x); }
template <class T> Var<T> sqrt(Var<T> x) { return unary<ops::Sqrt>(x); }
template <class T> Var<T> minimum(Var<T> x, double bound) { return unary(x, ops::Minimum{bound}); }
template <class T> Var<T> maximum(Var<T> x, double bound) { return unary(x, ops::Maximum{bound}); }
template <class T> Var<T> matmul(Var<T> a, Var<T> b) { return a.tape->matmul(a, b); }
template <class T> Var<T> matmul_nt(Var<T> a, Var<T> b) { return a.tape->matmul_nt(a, b); }
template <class T> Var<T> transpose(Var<T> a) { return a.tape->transpose(a); }
template <class T> Var<T> sum(Var<T> a) { return a.tape->sum(a); }
template <class T> Var<T> mean(Var<T> a) { return a.tape->mean(a); }
template <class T> Var<T> row_sum(Var<T> a) { return a.tape->row_sum(a); }
template <class T> Var<T> softmax(Var<T> a) { return a.tape->softmax(a); }
template <class T> Var<T> logsumexp(Var<T> a) { return a.tape->logsumexp(a); }

}  // namespace ctnn::ad::runtime

#undef CTNN_RT_RULE
