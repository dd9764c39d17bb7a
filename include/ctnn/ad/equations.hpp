// ctnn/ad/equations.hpp: the equations the static tape runs, as text. From an expression's type
// (and its runtime constants) this derives symbolic statements: each node's forward definition
// and, walking the tape's own plan (ad::Plan: the compile-time order, which nodes need an
// adjoint, which edge writes (=) and which accumulates (+=)), every reverse-sweep edge as the
// node's local rule applied to its parent's adjoint. The rules come from one trait per node
// template (NodeEq<...>, below) and, for element-wise primitives, from the op's own
// name/symbol/latex (OpEq<Op>: a new op prints as `symbol′(x)` with no extra work). Then the
// statements are simplified: adjoints of unnamed nodes are substituted into their consumers,
// constants folded (1/(2N)·2 = 1/N), and a named node's adjoint is factored through its
// element-wise derivative (δ = ā ⊙ g′(z)). Names (z, a, δ, W, b ...) come from the caller
// (nn/equations.hpp for networks); unnamed adjoints print in the generic form v̄ₖ.
// Matrices are printed in the textbook's column convention: the tape stores one sample per row
// (Z = X Wᵀ + b); a per-sample quantity is printed as its transpose (z = W x + b), and the
// transposes of the matrix rules are pushed down to the leaves.
// Not a hot path: builds strings with the standard library.
// Layer: ad.
#pragma once
#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "ctnn/ad/ad.hpp"
#include "ctnn/core/text.hpp"

namespace ctnn::ad::eq {

// ---- symbolic expressions -----------------------------------------------------------------

/// Concatenation by appending (GCC 12 warns falsely, -Wrestrict, on "literal" + std::string&&).
template <class... S>
std::string cat(const S&... s) {
  std::string r;
  ((r += s), ...);
  return r;
}

/// A printed name in both notations.
struct Symbol {
  std::string text, latex;
};

/// A numeric factor r · N^npow · λ^lpow (N the batch size, λ a named constant): constants of an
/// expression (Affine1's alpha, Mean's 1/size) are recognised in this form so they print as 1/(2N).
struct Coef {
  double r = 1;
  int npow = 0, lpow = 0;
  friend Coef operator*(Coef a, Coef b) { return {a.r * b.r, a.npow + b.npow, a.lpow + b.lpow}; }
  bool is(double v) const { return npow == 0 && lpow == 0 && r == v; }
};

/// What the printer needs to know about the pass: the batch size N and an optional named constant.
struct Context {
  std::size_t batch = 0;
  std::optional<std::pair<Symbol, double>> lambda;  // e.g. {{"λ", "\\lambda"}, 1e-2}
};

enum class Kind { sym, coef, apply, deriv, add, had, div, mat, tr, sum_all, sum_n, sum_k, scale };

struct Node;
using E = std::shared_ptr<const Node>;
struct Node {
  Kind kind;
  Symbol s;          // sym: the name; apply/deriv: the function's name
  Coef c;            // coef, scale
  std::vector<E> args;
  bool postfix = false;  // apply: x² rather than f(x)
  Symbol extra;          // apply: a constant argument, e.g. min(x, 0.5)
};

inline E make(Node n) { return std::make_shared<const Node>(std::move(n)); }
inline E sym(Symbol s) { return make({Kind::sym, std::move(s), {}, {}, false, {}}); }
inline E coef(Coef c) { return make({Kind::coef, {}, c, {}, false, {}}); }
inline E number(double v) { return coef({v, 0, 0}); }
inline bool is_coef(const E& e, double v) { return e->kind == Kind::coef && e->c.is(v); }

std::string text(const E& e);
inline bool same(const E& a, const E& b) { return a == b || text(a) == text(b); }

inline E scale(Coef c, E x) {
  if (c.is(0) || is_coef(x, 0)) return number(0);
  if (x->kind == Kind::coef) return coef(c * x->c);
  if (x->kind == Kind::scale) return scale(c * x->c, x->args[0]);
  if (c.is(1)) return x;
  return make({Kind::scale, {}, c, {std::move(x)}, false, {}});
}
inline E neg(E x) { return scale({-1, 0, 0}, std::move(x)); }
/// Element-wise product; a scalar factor becomes a scale, nested products are flattened,
/// (1/x) ⊙ y is written y / x.
inline E div(E a, E b);
inline E had(E a, E b) {
  if (a->kind == Kind::div && a->args[0]->kind == Kind::coef) return scale(a->args[0]->c, div(b, a->args[1]));
  if (b->kind == Kind::div && b->args[0]->kind == Kind::coef) return scale(b->args[0]->c, div(a, b->args[1]));
  if (a->kind == Kind::coef) return scale(a->c, b);
  if (b->kind == Kind::coef) return scale(b->c, a);
  if (a->kind == Kind::scale) return scale(a->c, had(a->args[0], b));
  if (b->kind == Kind::scale) return scale(b->c, had(a, b->args[0]));
  std::vector<E> f;
  for (const E& x : {a, b}) {
    if (x->kind == Kind::had) f.insert(f.end(), x->args.begin(), x->args.end());
    else f.push_back(x);
  }
  return make({Kind::had, {}, {}, std::move(f), false, {}});
}
/// A sum: flattened, zeros dropped, a common factor c (up to sign) pulled out: c·a − c·b = c (a − b).
inline E add(std::vector<E> terms) {
  std::vector<E> t;
  for (E& x : terms) {
    if (is_coef(x, 0)) continue;
    if (x->kind == Kind::add) t.insert(t.end(), x->args.begin(), x->args.end());
    else t.push_back(std::move(x));
  }
  if (t.empty()) return number(0);
  if (t.size() == 1) return t[0];
  // pull out a common |c|
  bool common = true;
  Coef c0{};
  for (std::size_t i = 0; i < t.size(); ++i) {
    Coef c = t[i]->kind == Kind::scale ? t[i]->c : Coef{1, 0, 0};
    c.r = std::fabs(c.r);
    if (i == 0) c0 = c;
    else common = common && c.r == c0.r && c.npow == c0.npow && c.lpow == c0.lpow;
  }
  if (common && !c0.is(1) && t[0]->kind != Kind::coef) {
    std::vector<E> inner;
    for (const E& x : t) inner.push_back(x->kind == Kind::scale ? scale({x->c.r < 0 ? -1.0 : 1.0, 0, 0}, x->args[0]) : x);
    return scale(c0, make({Kind::add, {}, {}, std::move(inner), false, {}}));
  }
  return make({Kind::add, {}, {}, std::move(t), false, {}});
}
inline E sub(E a, E b) { return add({std::move(a), neg(std::move(b))}); }
inline E div(E a, E b) { return make({Kind::div, {}, {}, {std::move(a), std::move(b)}, false, {}}); }
inline E mat(E a, E b) { return make({Kind::mat, {}, {}, {std::move(a), std::move(b)}, false, {}}); }
inline E apply(Symbol f, E x, bool postfix = false, Symbol extra = {}) {
  return make({Kind::apply, std::move(f), {}, {std::move(x)}, postfix, std::move(extra)});
}
inline E deriv(Symbol f, E x, Symbol extra = {}) {
  return make({Kind::deriv, std::move(f), {}, {std::move(x)}, false, std::move(extra)});
}
inline E reduce(Kind k, E x) {
  if (x->kind == Kind::coef && k != Kind::sum_all) return x;  // a broadcast scalar stays a scalar
  return make({k, {}, {}, {std::move(x)}, false, {}});
}
/// Transpose, pushed down to the leaves: (A B)ᵀ = Bᵀ Aᵀ, (A ⊙ B)ᵀ = Aᵀ ⊙ Bᵀ, f(A)ᵀ = f(Aᵀ), Aᵀᵀ = A.
inline E tr(const E& e) {
  switch (e->kind) {
    case Kind::coef: return e;
    case Kind::tr: return e->args[0];
    case Kind::mat: return mat(tr(e->args[1]), tr(e->args[0]));
    case Kind::scale: return scale(e->c, tr(e->args[0]));
    case Kind::add: case Kind::had: case Kind::div: case Kind::apply: case Kind::deriv: {
      Node n = *e;
      for (E& a : n.args) a = tr(a);
      return make(std::move(n));
    }
    default: return make({Kind::tr, {}, {}, {e}, false, {}});
  }
}
/// The tape's matrix for a printed quantity that is shown transposed (or not).
inline E orient(const E& e, bool transposed) { return transposed ? tr(e) : e; }

// ---- printing -----------------------------------------------------------------------------

/// Recognises a constant as p/q · N^k · λ^m (q <= 12) where it can.
inline Coef recognise(double v, const Context& ctx) {
  if (v == 0) return {0, 0, 0};
  const double n = static_cast<double>(ctx.batch);
  for (int lp = 0; lp <= (ctx.lambda ? 1 : 0); ++lp)
    for (int np : {0, -1}) {
      if (np != 0 && n <= 1) continue;
      double r = v;
      if (np == -1) r *= n;
      if (lp == 1) r /= ctx.lambda->second;
      for (int q = 1; q <= 12; ++q) {
        const double p = std::round(r * q);
        if (p != 0 && std::fabs(p) <= 1000 && std::fabs(r * q - p) <= 1e-9 * std::fabs(p)) return {p / q, np, lp};
      }
    }
  return {v, 0, 0};
}

struct Printer {
  bool latex;
  const Context* ctx;

  // p/q as integers when r is a small fraction, else a decimal
  std::pair<std::string, std::string> fraction(double r) const {
    for (int q = 1; q <= 12; ++q) {
      const double p = std::round(r * q);
      if (std::fabs(r * q - p) <= 1e-9 * std::max(1.0, std::fabs(p)))
        return {text::number(p), q == 1 ? std::string() : std::to_string(q)};
    }
    return {text::number(r), std::string()};
  }
  std::string lam() const { return ctx && ctx->lambda ? (latex ? ctx->lambda->first.latex : ctx->lambda->first.text) : "λ"; }
  /// The coefficient's magnitude as text; sets has_den when it is a fraction.
  std::string coef_abs(Coef c, bool& has_den) const {
    auto [p, q] = fraction(std::fabs(c.r));
    std::string num, den = q;
    const std::string N = "N";
    for (int i = 0; i < c.lpow; ++i) num += cat(num.empty() ? "" : " ", lam());
    for (int i = 0; i < c.npow; ++i) num += cat(num.empty() ? "" : " ", N);
    for (int i = 0; i < -c.npow; ++i) den += N;
    for (int i = 0; i < -c.lpow; ++i) den += lam();
    if (num.empty()) num = p;
    else if (p != "1") num = cat(p, latex ? " " : "", num);
    has_den = !den.empty();
    if (den.empty()) return num;
    if (latex) return cat("\\frac{", num, "}{", den, "}");
    const bool compound = den.size() > 1 && den != lam();
    return cat(num, "/", compound ? cat("(", den, ")") : den);
  }
  std::string coef_str(Coef c) const {
    bool d = false;
    return (c.r < 0 ? std::string(latex ? "-" : "−") : std::string()) + coef_abs(c, d);
  }
  static int level(const E& e) {
    switch (e->kind) {
      case Kind::add: return 1;
      case Kind::had: case Kind::mat: case Kind::scale: case Kind::div: return 2;
      case Kind::sum_all: case Kind::sum_n: case Kind::sum_k: return 3;
      case Kind::coef: return e->c.r < 0 || e->c.npow < 0 ? 2 : 4;
      default: return 4;
    }
  }
  std::string paren(const std::string& s) const {  // \left( only around tall content
    const bool tall = s.find("\\frac") != std::string::npos || s.find("\\sum") != std::string::npos;
    return latex && tall ? cat("\\left(", s, "\\right)") : cat("(", s, ")");
  }
  std::string wrap(const E& e, int min_level) const { return level(e) < min_level ? paren(print(e)) : print(e); }

  std::string print(const E& e) const {
    const auto& a = e->args;
    switch (e->kind) {
      case Kind::sym: return latex ? e->s.latex : e->s.text;
      case Kind::coef: return coef_str(e->c);
      case Kind::scale: {
        bool has_den = false;
        std::string c = coef_abs(e->c, has_den);
        const std::string sign = e->c.r < 0 ? (latex ? "-" : "−") : "";
        if (!latex && c == "1") return sign + wrap(a[0], 2);
        if (latex && c == "1") return sign + wrap(a[0], 2);
        return cat(sign, c, latex ? " " : has_den ? " · " : " ", wrap(a[0], a[0]->kind == Kind::had || a[0]->kind == Kind::div ? 2 : 3));
      }
      case Kind::add: {
        std::string s;
        for (std::size_t i = 0; i < a.size(); ++i) {
          const bool negative = a[i]->kind == Kind::scale ? a[i]->c.r < 0 : a[i]->kind == Kind::coef && a[i]->c.r < 0;
          E t = negative ? (a[i]->kind == Kind::scale ? scale({-1, 0, 0}, a[i]) : coef({-a[i]->c.r, a[i]->c.npow, a[i]->c.lpow})) : a[i];
          if (i == 0) s += negative ? cat(latex ? "-" : "−", wrap(t, 2)) : wrap(t, 1);
          else s += cat(negative ? (latex ? " - " : " − ") : " + ", wrap(t, negative ? 2 : 1));
        }
        return s;
      }
      case Kind::had: {
        std::string s;
        for (std::size_t i = 0; i < a.size(); ++i)
          s += cat(i ? (latex ? " \\odot " : " ⊙ ") : "",
                   wrap(a[i], a[i]->kind == Kind::mat || a[i]->kind == Kind::scale || a[i]->kind == Kind::div ? 3 : 2));
        return s;
      }
      case Kind::div:
        if (latex) return cat("\\frac{", print(a[0]), "}{", print(a[1]), "}");
        return cat(wrap(a[0], 3), " / ", wrap(a[1], 3));
      case Kind::mat: return cat(wrap(a[0], a[0]->kind == Kind::mat ? 2 : 3), " ", wrap(a[1], 3));
      case Kind::tr: return latex ? cat("{", wrap(a[0], 4), "}^{\\top}") : cat(wrap(a[0], 4), "ᵀ");
      case Kind::sum_all: {
        const E& x = a[0];
        if (x->kind == Kind::apply && x->postfix && x->s.text == "²" && x->args[0]->kind == Kind::sym)
          return latex ? cat("\\lVert ", print(x->args[0]), " \\rVert^2") : cat("‖", print(x->args[0]), "‖²");
        return cat(latex ? "\\sum " : "Σ ", wrap(x, 3));
      }
      case Kind::sum_n: return cat(latex ? "\\sum_{n} " : "Σₙ ", wrap(a[0], 3));
      case Kind::sum_k: return cat(latex ? "\\sum_{k} " : "Σₖ ", wrap(a[0], 3));
      case Kind::apply: {
        const std::string f = latex ? e->s.latex : e->s.text;
        if (e->postfix) return latex ? cat("{", wrap(a[0], 4), "}", f) : cat(wrap(a[0], 4), f);
        const std::string extra = (latex ? e->extra.latex : e->extra.text);
        const std::string arg = cat(print(a[0]), extra.empty() ? "" : ", ", extra);
        if (latex && f == "\\sqrt") return cat("\\sqrt{", arg, "}");
        return f + paren(arg);
      }
      case Kind::deriv: {
        const std::string f = latex ? e->s.latex : e->s.text;
        const std::string extra = (latex ? e->extra.latex : e->extra.text);
        return cat(f, latex ? "'" : "′", paren(cat(print(a[0]), extra.empty() ? "" : ", ", extra)));
      }
    }
    return "?";
  }
};

inline std::string text(const E& e) { return Printer{false, nullptr}.print(e); }

// ---- element-wise primitives --------------------------------------------------------------

/// How an element-wise op prints: its value f(x) and its derivative f′(x). The default reads the
/// op's own name/symbol/latex (ad/ops/*.hpp); the specialisations below give the closed forms of
/// primitives whose derivative is an elementary expression (x² → 2x, log → 1/x, ...).
template <class Op>
struct OpEq {
  static Symbol name() {
    Symbol s;
    if constexpr (requires { Op::symbol; }) s.text = Op::symbol;
    else if constexpr (requires { Op::name; }) s.text = Op::name;
    else s.text = "f";
    if constexpr (requires { Op::latex; }) s.latex = Op::latex;
    else s.latex = cat("\\operatorname{", s.text, "}");
    return s;
  }
  static Symbol extra(const Op&, const Context&) { return {}; }
  static E value(E x, const Op& op, const Context& c) { return apply(name(), std::move(x), false, extra(op, c)); }
  static E derivative(E x, E /*y*/, const Op& op, const Context& c) { return deriv(name(), std::move(x), extra(op, c)); }
};
template <>
struct OpEq<ops::Square> {
  static E value(E x, const ops::Square&, const Context&) { return apply({"²", "^2"}, std::move(x), true); }
  static E derivative(E x, E, const ops::Square&, const Context&) { return scale({2, 0, 0}, std::move(x)); }
};
template <>
struct OpEq<ops::Exp> {
  static E value(E x, const ops::Exp&, const Context&) { return apply({"exp", "\\exp"}, std::move(x)); }
  static E derivative(E, E y, const ops::Exp&, const Context&) { return y; }
};
template <>
struct OpEq<ops::Log> {
  static E value(E x, const ops::Log&, const Context&) { return apply({"log", "\\log"}, std::move(x)); }
  static E derivative(E x, E, const ops::Log&, const Context&) { return div(number(1), std::move(x)); }
};
template <>
struct OpEq<ops::Sqrt> {
  static E value(E x, const ops::Sqrt&, const Context&) { return apply({"√", "\\sqrt"}, std::move(x)); }
  static E derivative(E, E y, const ops::Sqrt&, const Context&) { return div(number(1), scale({2, 0, 0}, y)); }
};
template <>
struct OpEq<ops::Abs> {
  static E value(E x, const ops::Abs&, const Context&) { return apply({"abs", "\\operatorname{abs}"}, std::move(x)); }
  static E derivative(E x, E, const ops::Abs&, const Context&) { return apply({"sign", "\\operatorname{sign}"}, std::move(x)); }
};
template <>
struct OpEq<ops::Step> {
  static E value(E x, const ops::Step&, const Context&) { return apply({"H", "H"}, std::move(x)); }
  static E derivative(E, E, const ops::Step&, const Context&) { return number(0); }
};
template <class Op>
  requires std::is_same_v<Op, ops::Minimum> || std::is_same_v<Op, ops::Maximum>
struct OpEq<Op> {
  static constexpr bool is_min = std::is_same_v<Op, ops::Minimum>;
  static E value(E x, const Op& op, const Context&) {
    const std::string c = text::number(op.bound);
    return apply({is_min ? "min" : "max", is_min ? "\\min" : "\\max"}, std::move(x), false, {c, c});
  }
  static E derivative(E x, E, const Op& op, const Context&) {  // the indicator of the unclamped side
    const std::string c = text::number(op.bound);
    const std::string t = text(x);
    return sym({std::string("𝟙[") + t + (is_min ? " < " : " > ") + c + "]",
                std::string("\\mathbf{1}[") + Printer{true, nullptr}.print(x) + (is_min ? " < " : " > ") + c + "]"});
  }
};
template <>
struct OpEq<ops::Reciprocal> {  // s / x; its derivative −s/x² printed from the output: −y/x
  static E value(E x, const ops::Reciprocal& op, const Context&) { return div(number(op.scale), std::move(x)); }
  static E derivative(E x, E y, const ops::Reciprocal&, const Context&) {
    return scale({-1, 0, 0}, div(std::move(y), std::move(x)));
  }
};
template <>
struct OpEq<ops::LeakyRelu> : OpEq<ops::Relu> {  // the slope is shown when it is not PyTorch's 0.01
  static Symbol name() { return {"lrelu", "\\operatorname{lrelu}"}; }
  static Symbol extra(const ops::LeakyRelu& op, const Context&) {
    if (op.slope == 0.01) return {};
    return {text::number(op.slope), text::number(op.slope)};
  }
  static E value(E x, const ops::LeakyRelu& op, const Context& c) { return apply(name(), std::move(x), false, extra(op, c)); }
  static E derivative(E x, E, const ops::LeakyRelu& op, const Context& c) { return deriv(name(), std::move(x), extra(op, c)); }
};

// ---- node rules ---------------------------------------------------------------------------

/// What a node's rule sees: its operands' printed values, its own printed value and adjoint g,
/// and whether each (the node, operand 0, operand 1) is shown transposed (column convention).
struct Operands {
  std::vector<E> v;      // operand values
  E self;                // this node's value
  E g;                   // this node's adjoint
  bool t = false;        // this node is printed transposed
  bool ta = false, tb = false;
};

/// Adjoint of a broadcast operand (Rx x Cx) of an R x C element-wise node: the sum over the
/// broadcast dimension (samples: Σₙ; features: Σₖ; both: Σ).
template <std::size_t Rx, std::size_t Cx, std::size_t R, std::size_t C>
E unbroadcast(E x) {
  if constexpr (Rx == R && Cx == C) return x;
  else if constexpr (Cx == C) return reduce(Kind::sum_n, std::move(x));
  else if constexpr (Rx == R) return reduce(Kind::sum_k, std::move(x));
  else return x->kind == Kind::coef ? x : reduce(Kind::sum_all, std::move(x));
}

/// One trait per node template: forward(node, operands) is the node's value, adjoint(node, k,
/// operands) the contribution its reverse rule adds to operand k's adjoint.
template <class N>
struct NodeEq;

template <class Op, class A>
struct NodeEq<Unary<Op, A>> {
  static E forward(const Unary<Op, A>& n, const Operands& o, const Context& c) { return OpEq<Op>::value(o.v[0], n.op, c); }
  static E adjoint(const Unary<Op, A>& n, std::size_t, const Operands& o, const Context& c) {
    return had(o.g, OpEq<Op>::derivative(o.v[0], o.self, n.op, c));
  }
};
template <class A>
struct NodeEq<Affine1<A>> {
  static E forward(const Affine1<A>& n, const Operands& o, const Context& c) {
    E s = scale(recognise(n.alpha, c), o.v[0]);
    return n.beta == 0 ? s : add({coef(recognise(n.beta, c)), s});
  }
  static E adjoint(const Affine1<A>& n, std::size_t, const Operands& o, const Context& c) {
    return scale(recognise(n.alpha, c), o.g);
  }
};
template <class Op, class A, class B>
struct NodeEq<Binary<Op, A, B>> {
  using N = Binary<Op, A, B>;
  static E forward(const N&, const Operands& o, const Context&) {
    if constexpr (std::is_same_v<Op, ops::Add>) return add({o.v[0], o.v[1]});
    else if constexpr (std::is_same_v<Op, ops::Sub>) return sub(o.v[0], o.v[1]);
    else if constexpr (std::is_same_v<Op, ops::Mul>) return had(o.v[0], o.v[1]);
    else if constexpr (std::is_same_v<Op, ops::Div>) return div(o.v[0], o.v[1]);
    else return apply({Op::name, std::string("\\operatorname{") + Op::name + "}"}, o.v[0], false, {text(o.v[1]), text(o.v[1])});
  }
  static E local(std::size_t k, const Operands& o) {
    if constexpr (std::is_same_v<Op, ops::Add>) return o.g;
    else if constexpr (std::is_same_v<Op, ops::Sub>) return k == 0 ? o.g : neg(o.g);
    else if constexpr (std::is_same_v<Op, ops::Mul>) return had(o.g, o.v[1 - k]);
    else if constexpr (std::is_same_v<Op, ops::Div>) return k == 0 ? div(o.g, o.v[1]) : neg(div(had(o.g, o.self), o.v[1]));
    else return had(o.g, sym({cat("∂", Op::name, "/∂", k ? "b" : "a"), cat("\\partial_", k ? "b" : "a", "\\operatorname{", Op::name, "}")}));
  }
  static E adjoint(const N&, std::size_t k, const Operands& o, const Context&) {
    E d = local(k, o);
    return k == 0 ? unbroadcast<A::rows, A::cols, N::R, N::C>(d) : unbroadcast<B::rows, B::cols, N::R, N::C>(d);
  }
};
template <class A, class B>
struct NodeEq<MatMulNT<A, B>> {  // tape: C = A Bᵀ, dA = G B, dB = Gᵀ A
  static E forward(const MatMulNT<A, B>&, const Operands& o, const Context&) {
    return orient(mat(orient(o.v[0], o.ta), tr(orient(o.v[1], o.tb))), o.t);
  }
  static E adjoint(const MatMulNT<A, B>&, std::size_t k, const Operands& o, const Context&) {
    const E g = orient(o.g, o.t);
    if (k == 0) return orient(mat(g, orient(o.v[1], o.tb)), o.ta);
    return orient(mat(tr(g), orient(o.v[0], o.ta)), o.tb);
  }
};
template <class A, class B>
struct NodeEq<MatMul<A, B>> {  // tape: C = A B, dA = G Bᵀ, dB = Aᵀ G
  static E forward(const MatMul<A, B>&, const Operands& o, const Context&) {
    return orient(mat(orient(o.v[0], o.ta), orient(o.v[1], o.tb)), o.t);
  }
  static E adjoint(const MatMul<A, B>&, std::size_t k, const Operands& o, const Context&) {
    const E g = orient(o.g, o.t);
    if (k == 0) return orient(mat(g, tr(orient(o.v[1], o.tb))), o.ta);
    return orient(mat(tr(orient(o.v[0], o.ta)), g), o.tb);
  }
};
template <class A>
struct NodeEq<Transpose<A>> {
  static E forward(const Transpose<A>&, const Operands& o, const Context&) { return orient(tr(orient(o.v[0], o.ta)), o.t); }
  static E adjoint(const Transpose<A>&, std::size_t, const Operands& o, const Context&) {
    return orient(tr(orient(o.g, o.t)), o.ta);
  }
};
template <class A>
struct NodeEq<Sum<A>> {
  static E forward(const Sum<A>&, const Operands& o, const Context&) { return reduce(Kind::sum_all, o.v[0]); }
  static E adjoint(const Sum<A>&, std::size_t, const Operands& o, const Context&) { return o.g; }  // g broadcast
};
template <class A>
struct NodeEq<Mean<A>> {
  static Coef inv_size(const Context& c) {
    if (c.batch > 1 && A::rows == c.batch) return {1.0 / double(A::cols), -1, 0};
    return {1.0 / double(A::size), 0, 0};
  }
  static E forward(const Mean<A>&, const Operands& o, const Context& c) { return scale(inv_size(c), reduce(Kind::sum_all, o.v[0])); }
  static E adjoint(const Mean<A>&, std::size_t, const Operands& o, const Context& c) { return scale(inv_size(c), o.g); }
};
template <class A>
struct NodeEq<RowSum<A>> {
  static E forward(const RowSum<A>&, const Operands& o, const Context&) { return reduce(Kind::sum_k, o.v[0]); }
  static E adjoint(const RowSum<A>&, std::size_t, const Operands& o, const Context&) { return o.g; }  // g per row, broadcast
};
template <class A>
struct NodeEq<Softmax<A>> {  // dx = y ⊙ (g − Σₖ g ⊙ y) per sample
  static E forward(const Softmax<A>&, const Operands& o, const Context&) { return apply({"softmax", "\\operatorname{softmax}"}, o.v[0]); }
  static E adjoint(const Softmax<A>&, std::size_t, const Operands& o, const Context&) {
    return had(o.self, sub(o.g, reduce(Kind::sum_k, had(o.g, o.self))));
  }
};
template <class A>
struct NodeEq<LogSumExp<A>> {  // dx = g ⊙ exp(x − y) = g ⊙ softmax(x)
  static E forward(const LogSumExp<A>&, const Operands& o, const Context&) { return apply({"lse", "\\operatorname{lse}"}, o.v[0]); }
  static E adjoint(const LogSumExp<A>&, std::size_t, const Operands& o, const Context&) {
    return had(o.g, apply({"softmax", "\\operatorname{softmax}"}, o.v[0]));
  }
};
template <class A>
struct NodeEq<Tap<A>> {
  static E forward(const Tap<A>&, const Operands& o, const Context&) { return o.v[0]; }
  static E adjoint(const Tap<A>&, std::size_t, const Operands& o, const Context&) { return o.g; }
};

// ---- the derivation -----------------------------------------------------------------------

/// One printed statement, lhs op rhs (op is "=" or, in the raw sweep, "+=").
struct Statement {
  Symbol lhs;
  std::string op = "=";
  E rhs;
};

/// The derived equations: the forward definitions, the simplified backward equations and the raw
/// reverse sweep (one statement per tape edge, in the tape's order).
struct Equations {
  Context ctx;
  std::vector<Statement> forward, backward, tape, sweep;
  std::vector<std::string> notes;

  static std::string line(const Statement& s, bool latex, const Context& c) {
    Printer p{latex, &c};
    if (latex) return cat(s.lhs.latex, " &", s.op == "=" ? "= " : "\\mathrel{+}= ", p.print(s.rhs));
    return cat(s.lhs.text, " ", s.op, " ", p.print(s.rhs));
  }
  static std::string block(const std::vector<Statement>& v, bool latex, const Context& c) {
    std::string s;
    for (std::size_t i = 0; i < v.size(); ++i) s += cat(line(v[i], latex, c), latex && i + 1 < v.size() ? " \\\\\n" : "\n");
    return s;
  }
  /// Forward then backward equations, one per line (UTF-8).
  std::string text() const { return block(forward, false, ctx) + block(backward, false, ctx); }
  /// The same as LaTeX `aligned` bodies (forward, then backward), without the math delimiters.
  std::string latex_forward() const { return block(forward, true, ctx); }
  std::string latex_backward() const { return block(backward, true, ctx); }
  /// The tape as it runs, before any naming or substitution: each interior node's value vᵢ in the
  /// tape's order, then the reverse sweep, one line per edge: v̄ᵢ = (first edge to reach i),
  /// += (a later one), ≡ (shares its parent's adjoint slot: no work).
  std::string tape_text() const { return block(tape, false, ctx) + block(sweep, false, ctx); }
};

/// Names the caller gives to nodes of the tape order (by index): a value name, an adjoint name,
/// and for a named adjoint, the node it is factored through (δ(l) = ā(l) ⊙ g′(z(l))).
struct Names {
  std::vector<std::optional<Symbol>> value, adjoint;
  std::vector<std::optional<Symbol>> gradient;    // leaves: the printed name of dJ/dleaf
  std::vector<std::size_t> factor_through;        // npos: none
  std::vector<std::optional<Symbol>> derivative;  // name of the factored derivative, e.g. g′(z(1))
  std::vector<std::optional<bool>> transposed;    // printed as the tape matrix's transpose (default: per-sample blocks and row vectors)
  std::optional<Symbol> root;                     // the objective's name (J)
  explicit Names(std::size_t n = 0)
      : value(n), adjoint(n), gradient(n), factor_through(n, meta::npos), derivative(n), transposed(n) {}
};

inline Symbol generic_value(std::size_t i) { return {cat("v", std::to_string(i)), cat("v_{", std::to_string(i), "}")}; }
inline Symbol generic_adjoint(std::size_t i) { return {cat("v̄", std::to_string(i)), cat("\\bar{v}_{", std::to_string(i), "}")}; }

namespace detail {

struct DataLeaf {
  template <class N>
  static constexpr bool test() {
    if constexpr (N::is_leaf) return std::is_same_v<typename N::tag, InputTag> || std::is_same_v<typename N::tag, TargetTag>;
    else return false;
  }
};
/// Whether a node depends on the samples (an input or target leaf at or below it).
template <class N>
constexpr bool per_sample() {
  return any_at_or_below<DataLeaf, N>();
}
/// Whether a node is printed as the transpose of the tape's matrix: a per-sample block (one
/// sample per row) becomes one sample per column, and so does a row vector (a bias).
template <class N>
constexpr bool shown_transposed(std::size_t batch) {
  return per_sample<N>() ? (N::rows == batch && batch > 1) || (N::rows == 1 && N::cols > 1 && batch == 1)
                         : N::rows == 1 && N::cols > 1;
}

template <class Order, class Node>
void collect(const Node& n, std::vector<const void*>& at) {
  at[meta::index_of_v<Order, Node>] = &n;
  if constexpr (Node::children::size >= 1) collect<Order>(n.a, at);
  if constexpr (Node::children::size >= 2) collect<Order>(n.b, at);
}
// The same for keyed_order: a node with numbers at or below it is found by its path.
template <class Order, class Node, std::size_t... P>
void collect_keyed(const Node& n, std::vector<const void*>& at, ad::detail::Path<P...>) {
  at[meta::index_of_v<Order, typename ad::detail::key_of<Node, ad::detail::Path<P...>>::type>] = &n;
  if constexpr (Node::children::size >= 1) collect_keyed<Order>(n.a, at, ad::detail::Path<P..., 0>{});
  if constexpr (Node::children::size >= 2) collect_keyed<Order>(n.b, at, ad::detail::Path<P..., 1>{});
}

/// Removes one occurrence of factor f from a product; nullptr when it is not there.
inline E without_factor(const E& e, const E& f) {
  if (same(e, f)) return number(1);
  if (e->kind == Kind::scale) {
    E r = without_factor(e->args[0], f);
    return r ? scale(e->c, r) : nullptr;
  }
  if (e->kind != Kind::had) return nullptr;
  for (std::size_t i = 0; i < e->args.size(); ++i)
    if (same(e->args[i], f)) {
      std::vector<E> rest;
      for (std::size_t j = 0; j < e->args.size(); ++j)
        if (j != i) rest.push_back(e->args[j]);
      E r = rest[0];
      for (std::size_t j = 1; j < rest.size(); ++j) r = had(r, rest[j]);
      return r;
    }
  return nullptr;
}
/// e = f ⊙ D: returns D, or nullptr when e does not factor (every term must contain f).
inline E factor_out(const E& e, const E& f) {
  if (e->kind == Kind::add) {
    std::vector<E> t;
    for (const E& x : e->args) {
      E r = without_factor(x, f);
      if (!r) return nullptr;
      t.push_back(r);
    }
    return add(std::move(t));
  }
  return without_factor(e, f);
}
inline bool mentions(const E& e, const E& f) {
  if (same(e, f)) return true;
  for (const E& a : e->args)
    if (mentions(a, f)) return true;
  return false;
}

}  // namespace detail

/// Derives the equations of expression e (a 1 x 1 objective) as the static tape runs them.
/// One node of the tape as the derivation sees it: the plan's facts about it and its rules,
/// type-erased (so the derivation below is compiled once, not once per expression type).
struct TapeNode {
  bool leaf = false, needs_grad = false, transposed = false;
  std::size_t arity = 0;
  std::array<std::size_t, 2> child{};
  std::array<bool, 2> alias{}, first_write{};
  const void* node = nullptr;
  E (*forward)(const void*, const Operands&, const Context&) = nullptr;
  E (*adjoint)(const void*, std::size_t, const Operands&, const Context&) = nullptr;
};

namespace detail {
template <class N>
E forward_of(const void* p, const Operands& o, const Context& c) {
  return NodeEq<N>::forward(*static_cast<const N*>(p), o, c);
}
template <class N>
E adjoint_of(const void* p, std::size_t k, const Operands& o, const Context& c) {
  return NodeEq<N>::adjoint(*static_cast<const N*>(p), k, o, c);
}
}  // namespace detail

/// The tape of expression e as TapeNodes, in the static tape's order (ByPath: keyed_order, the
/// order a pass runs when one node type holds different numbers), with its plan's flags.
template <bool ByPath = false, Expression Root>
std::vector<TapeNode> tape_of(const Root& e, const Context& ctx) {
  using Order = std::conditional_t<ByPath, keyed_order<Root>, topological_order<Root>>;
  using P = Plan<Order, true>;
  std::vector<const void*> at(P::n, nullptr);
  if constexpr (ByPath) detail::collect_keyed<Order>(e, at, ad::detail::Path<>{});
  else detail::collect<Order>(e, at);
  std::vector<TapeNode> t(P::n);
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    (([&] {
       using N = typename ad::detail::node_of<meta::at_t<I, Order>>::type;
       TapeNode& x = t[I];
       x.leaf = P::is_leaf[I];
       x.needs_grad = P::needs_grad[I];
       x.transposed = detail::shown_transposed<N>(ctx.batch);
       x.arity = P::arity[I];
       x.child = P::child[I];
       x.alias = P::alias[I];
       x.first_write = P::first_write[I];
       x.node = at[I];
       if constexpr (!N::is_leaf) {
         x.forward = &detail::forward_of<N>;
         x.adjoint = &detail::adjoint_of<N>;
       }
     }()),
     ...);
  }(std::make_index_sequence<P::n>{});
  return t;
}

/// Derives the equations of a tape (see tape_of): the forward definitions of named nodes, the
/// reverse sweep edge by edge, and the simplified backward equations.
inline Equations derive_tape(const std::vector<TapeNode>& tape, const Names& names_in, const Context& ctx) {
  const std::size_t n = tape.size();
  Names names = names_in;
  names.value.resize(n);
  names.adjoint.resize(n);
  names.gradient.resize(n);
  names.factor_through.resize(n, meta::npos);
  names.derivative.resize(n);
  names.transposed.resize(n);
  std::vector<bool> transposed(n);
  for (std::size_t i = 0; i < n; ++i) transposed[i] = names.transposed[i] ? *names.transposed[i] : tape[i].transposed;
  // An unnamed value used by several nodes gets a generic name vᵢ (instead of being repeated);
  // an adjoint that several edges read likewise (v̄ᵢ), unless it is a plain scalar or name.
  std::vector<std::size_t> uses(n), adj_reads(n);
  for (std::size_t j = 0; j < n; ++j)
    for (std::size_t k = 0; k < tape[j].arity; ++k) {
      ++uses[tape[j].child[k]];
      if (tape[tape[j].child[k]].needs_grad) ++adj_reads[j];
    }
  for (std::size_t i = 0; i + 1 < n; ++i)
    if (!tape[i].leaf && !names.value[i] && uses[i] >= 2) names.value[i] = generic_value(i);
  std::vector<bool> is_factor(n, false);
  for (std::size_t p = 0; p < n; ++p)
    if (names.factor_through[p] != meta::npos) is_factor[names.factor_through[p]] = true;

  Equations out;
  out.ctx = ctx;
  auto operands = [&](std::size_t i, const std::vector<E>& v, E self, E g) {
    Operands o;
    o.t = transposed[i];
    for (std::size_t k = 0; k < tape[i].arity; ++k) o.v.push_back(v[tape[i].child[k]]);
    if (tape[i].arity >= 1) o.ta = transposed[tape[i].child[0]];
    if (tape[i].arity >= 2) o.tb = transposed[tape[i].child[1]];
    o.self = std::move(self);
    o.g = std::move(g);
    return o;
  };
  // forward: every named node prints its definition; unnamed ones are substituted into their users
  std::vector<E> val(n), vsym(n);
  for (std::size_t i = 0; i < n; ++i) {
    vsym[i] = sym(names.value[i] ? *names.value[i] : generic_value(i));
    if (tape[i].leaf) {
      val[i] = vsym[i];
      continue;
    }
    E def = tape[i].forward(tape[i].node, operands(i, val, nullptr, nullptr), ctx);
    if (i + 1 == n || names.value[i]) {
      const Symbol s = i + 1 == n ? (names.root ? *names.root : Symbol{"J", "J"}) : *names.value[i];
      out.forward.push_back({s, "=", def});
      val[i] = sym(s);
    } else {
      val[i] = def;
    }
    out.tape.push_back({vsym[i]->s, "=", tape[i].forward(tape[i].node, operands(i, vsym, nullptr, nullptr), ctx)});
  }

  // reverse sweep, exactly the tape's: node j (root first) applies its rule along each edge
  std::vector<std::vector<E>> contrib(n);
  std::vector<E> adj_use(n);  // what consumers see as a node's adjoint (a name, or its expansion)
  std::vector<bool> generic_adj(n, false);
  auto adjoint_of = [&](std::size_t j) -> E {
    if (j + 1 == n) return number(1);
    return add(std::vector<E>(contrib[j].rbegin(), contrib[j].rend()));  // parents in forward order
  };
  auto small = [](const E& x) {
    const E& b = x->kind == Kind::scale ? x->args[0] : x;
    return b->kind == Kind::sym || b->kind == Kind::coef;
  };
  auto gradient_name = [&](std::size_t i) {
    return names.gradient[i] ? *names.gradient[i]
                             : Symbol{cat("∂J/∂", vsym[i]->s.text), cat("\\frac{\\partial J}{\\partial ", vsym[i]->s.latex, "}")};
  };
  std::vector<E> gsym(n);
  for (std::size_t i = 0; i < n; ++i)
    gsym[i] = sym(i + 1 == n ? Symbol{"J̄", "\\bar{J}"} : tape[i].leaf ? gradient_name(i) : generic_adjoint(i));
  for (std::size_t j = n; j-- > 0;) {
    if (tape[j].leaf || !tape[j].needs_grad) continue;
    E g = adjoint_of(j);
    const bool named = j + 1 != n && (names.adjoint[j] || names.factor_through[j] != meta::npos || is_factor[j]);
    if (named) {
      adj_use[j] = sym(names.adjoint[j] ? *names.adjoint[j] : generic_adjoint(j));
    } else if (adj_reads[j] >= 2 && !small(g)) {
      adj_use[j] = sym(generic_adjoint(j));
      generic_adj[j] = true;
    } else {
      adj_use[j] = g;
    }
    const Operands o = operands(j, val, val[j], adj_use[j]);
    const Operands raw = operands(j, vsym, vsym[j], gsym[j]);
    for (std::size_t k = 0; k < tape[j].arity; ++k) {
      const std::size_t c = tape[j].child[k];
      if (!tape[c].needs_grad) continue;
      contrib[c].push_back(tape[j].adjoint(tape[j].node, k, o, ctx));
      out.sweep.push_back({gsym[c]->s, tape[j].alias[k] ? "≡" : tape[j].first_write[k] ? "=" : "+=",
                           tape[j].adjoint(tape[j].node, k, raw, ctx)});
    }
  }

  // backward equations: named adjoints from the root down, then the leaves' gradients
  for (std::size_t j = n; j-- > 0;) {
    if (tape[j].leaf || !tape[j].needs_grad || j + 1 == n || is_factor[j]) continue;  // a factor prints inside its δ
    if (generic_adj[j]) {
      out.backward.push_back({generic_adjoint(j), "=", adjoint_of(j)});
      continue;
    }
    const std::size_t f = names.factor_through[j];
    if (!names.adjoint[j] && f == meta::npos) continue;
    const Symbol lhs = names.adjoint[j] ? *names.adjoint[j] : generic_adjoint(j);
    E rhs = adjoint_of(j);
    if (f != meta::npos) {
      E d = detail::factor_out(rhs, adj_use[f]);
      E a = adjoint_of(f);
      if (d && !detail::mentions(d, adj_use[f])) {  // δ = ā ⊙ g′(z)
        const bool simple = d->kind == Kind::deriv || d->kind == Kind::sym;
        if (!simple && names.derivative[j]) {
          out.backward.push_back({*names.derivative[j], "=", d});
          d = sym(*names.derivative[j]);
        }
        rhs = had(a, d);
      } else {  // not element-wise (e.g. softmax): ā gets its own line
        out.backward.push_back({adj_use[f]->s, "=", a});
      }
    }
    out.backward.push_back({lhs, "=", rhs});
  }
  for (std::size_t j = 0; j < n; ++j)
    if (tape[j].leaf && tape[j].needs_grad) out.backward.push_back({gradient_name(j), "=", adjoint_of(j)});
  return out;
}

/// Names given by topological_order's indices, moved to keyed_order's: a node's names go to
/// its type's occurrences, numbered when there are several (z(2)⟨1⟩, z(2)⟨2⟩: each is its own node
/// of the pass); a factoring through a type that occurs more than once is dropped.
template <class Root>
Names keyed_names(const Names& names) {
  using Plain = topological_order<Root>;
  using Keyed = keyed_order<Root>;
  constexpr std::array<std::size_t, Keyed::size> src = []<std::size_t... J>(std::index_sequence<J...>) {
    return std::array<std::size_t, Keyed::size>{
        meta::index_of_v<Plain, typename ad::detail::node_of<meta::at_t<J, Keyed>>::type>...};
  }(std::make_index_sequence<Keyed::size>{});
  std::vector<std::size_t> only(Plain::size, meta::npos), count(Plain::size, 0);
  for (std::size_t j = 0; j < src.size(); ++j) ++count[src[j]], only[src[j]] = j;
  Names k(Keyed::size);
  k.root = names.root;
  std::vector<std::size_t> seen(Plain::size, 0);
  for (std::size_t j = 0; j < src.size(); ++j) {
    const std::size_t i = src[j];
    const std::string occ = count[i] > 1 ? std::to_string(++seen[i]) : "";
    auto take = [&](const auto& from, auto& to) {
      if (i >= from.size() || !from[i]) return;
      to = from[i];
      if constexpr (std::is_same_v<std::remove_cvref_t<decltype(*to)>, Symbol>)
        if (!occ.empty()) *to = Symbol{cat(to->text, "⟨", occ, "⟩"), cat("{", to->latex, "}^{\\langle ", occ, "\\rangle}")};
    };
    take(names.value, k.value[j]);
    take(names.adjoint, k.adjoint[j]);
    take(names.gradient, k.gradient[j]);
    take(names.derivative, k.derivative[j]);
    take(names.transposed, k.transposed[j]);
    if (i < names.factor_through.size() && names.factor_through[i] != meta::npos && count[names.factor_through[i]] == 1)
      k.factor_through[j] = only[names.factor_through[i]];
  }
  return k;
}

/// Leaves the caller did not name get their tag's name (x, y, the class weights' w), and
/// ad::constant<Id> / ad::variable<Id> leaves c<Id> / θ<Id> (instead of a tape position vᵢ).
template <class Order>
Names with_leaf_names(Names names) {
  names.value.resize(Order::size);
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    (([&] {
       using N = meta::at_t<I, Order>;
       if constexpr (N::is_leaf) {
         using Tag = typename N::tag;
         if (names.value[I]) return;
         if constexpr (requires { Tag::name; }) {
           names.value[I] = Symbol{Tag::name, Tag::name};
         } else if constexpr (requires { Tag::id; }) {
           const std::string id = std::to_string(Tag::id);
           names.value[I] = N::leaf_needs_grad ? Symbol{cat("θ", id), cat("\\theta_{", id, "}")}
                                               : Symbol{cat("c", id), cat("c_{", id, "}")};
         }
       }
     }()),
     ...);
  }(std::make_index_sequence<Order::size>{});
  return names;
}

/// Derives the equations of expression e (a 1 x 1 objective) as the static tape runs them: when
/// one node type holds different numbers (x * 2.0 and x * 3.0), each occurrence is its own node,
/// as in the pass; `names` are by topological_order's indices either way.
template <Expression Root>
Equations derive(const Root& e, const Names& names, const Context& ctx) {
  if constexpr (StaticTape<Root>::payload_repeated)
    if (StaticTape<Root>::numbers_differ(e))
      return derive_tape(tape_of<true>(e, ctx), with_leaf_names<keyed_order<Root>>(keyed_names<Root>(names)), ctx);
  return derive_tape(tape_of(e, ctx), with_leaf_names<topological_order<Root>>(names), ctx);
}

}  // namespace ctnn::ad::eq
