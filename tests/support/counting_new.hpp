// tests/support/counting_new.hpp: replaces every global operator new and delete (plain, array,
// aligned, nothrow; malloc-based) with versions that count each allocation, for the tests that
// assert "no allocation" in a pass, a step or a run. Include it in exactly ONE translation unit of
// a test executable (it defines the replacement functions). doctest's macros allocate: count the
// code under test with allocations_in() (or read `allocations` around it) and check afterwards.
#pragma once
#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <new>
#include <utility>

namespace ctnn::test {
/// Global operator new calls since the program started, on every thread.
inline std::atomic<long> allocations{0};
/// The number of global operator new calls (on any thread) while f() runs.
template <class F>
long allocations_in(F&& f) {
  const long before = allocations.load();
  std::forward<F>(f)();
  return allocations.load() - before;
}

namespace counting_detail {
inline void* allocate(std::size_t n) noexcept {
  ++allocations;
  return std::malloc(n == 0 ? 1 : n);
}
inline void* allocate_aligned(std::size_t n, std::align_val_t al) noexcept {
  ++allocations;
  const std::size_t a = static_cast<std::size_t>(al) < sizeof(void*) ? sizeof(void*) : static_cast<std::size_t>(al);
  void* p = nullptr;
  return ::posix_memalign(&p, a, n == 0 ? 1 : n) == 0 ? p : nullptr;
}
// Out of line, so that the compiler does not pair an inlined operator new with free() and warn.
[[gnu::noinline]] inline void release(void* p) noexcept { std::free(p); }
}  // namespace counting_detail
}  // namespace ctnn::test

void* operator new(std::size_t n) {
  if (void* p = ctnn::test::counting_detail::allocate(n)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) { return ::operator new(n); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept { return ctnn::test::counting_detail::allocate(n); }
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept { return ctnn::test::counting_detail::allocate(n); }
void* operator new(std::size_t n, std::align_val_t al) {
  if (void* p = ctnn::test::counting_detail::allocate_aligned(n, al)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n, std::align_val_t al) { return ::operator new(n, al); }
void* operator new(std::size_t n, std::align_val_t al, const std::nothrow_t&) noexcept {
  return ctnn::test::counting_detail::allocate_aligned(n, al);
}
void* operator new[](std::size_t n, std::align_val_t al, const std::nothrow_t&) noexcept {
  return ctnn::test::counting_detail::allocate_aligned(n, al);
}
void operator delete(void* p) noexcept { ctnn::test::counting_detail::release(p); }
void operator delete[](void* p) noexcept { ctnn::test::counting_detail::release(p); }
void operator delete(void* p, std::size_t) noexcept { ctnn::test::counting_detail::release(p); }
void operator delete[](void* p, std::size_t) noexcept { ctnn::test::counting_detail::release(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { ctnn::test::counting_detail::release(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { ctnn::test::counting_detail::release(p); }
void operator delete(void* p, std::align_val_t) noexcept { ctnn::test::counting_detail::release(p); }
void operator delete[](void* p, std::align_val_t) noexcept { ctnn::test::counting_detail::release(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { ctnn::test::counting_detail::release(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { ctnn::test::counting_detail::release(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { ctnn::test::counting_detail::release(p); }
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept {
  ctnn::test::counting_detail::release(p);
}
