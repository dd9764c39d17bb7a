// ctnn/core/type_list.hpp: the minimal compile-time list operations the static tape needs
// (membership, append-unique, index). Kept here, not in Hana, because they run on every
// expression node and must be cheap to instantiate; Hana carries the network's layer list.
// Layer: core.
#pragma once
#include <cstddef>
#include <type_traits>

namespace ctnn::meta {

template <class... Ts>
struct TypeList {
  static constexpr std::size_t size = sizeof...(Ts);
};

template <class L, class T>
struct contains;
template <class... Ts, class T>
struct contains<TypeList<Ts...>, T> : std::bool_constant<(std::is_same_v<Ts, T> || ...)> {};

template <class L, class T>
struct append_unique;
template <class... Ts, class T>
struct append_unique<TypeList<Ts...>, T> {
  using type = std::conditional_t<(std::is_same_v<Ts, T> || ...), TypeList<Ts...>, TypeList<Ts..., T>>;
};

inline constexpr std::size_t npos = static_cast<std::size_t>(-1);

template <class L, class T>
struct index_of;
template <class... Ts, class T>
struct index_of<TypeList<Ts...>, T> {
  static constexpr std::size_t value = [] {
    constexpr bool same[] = {std::is_same_v<Ts, T>..., false};
    for (std::size_t i = 0; i < sizeof...(Ts); ++i)
      if (same[i]) return i;
    return npos;
  }();
};
template <class L, class T>
inline constexpr std::size_t index_of_v = index_of<L, T>::value;

template <std::size_t I, class L>
struct at;
template <std::size_t I, class T, class... Ts>
struct at<I, TypeList<T, Ts...>> : at<I - 1, TypeList<Ts...>> {};
template <class T, class... Ts>
struct at<0, TypeList<T, Ts...>> {
  using type = T;
};
template <std::size_t I, class L>
using at_t = typename at<I, L>::type;

}  // namespace ctnn::meta
