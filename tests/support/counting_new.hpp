// tests/support/counting_new.hpp: replaces the global operator new/delete with versions that
// count every allocation (plain and aligned), for tests that assert "no allocation after
// construction". Include it in exactly ONE translation unit of a test executable (it defines the
// replacement functions), and link nothing else that allocates while counting. doctest's macros
// allocate: read the counter around the code under test, check afterwards.
#pragma once
#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <new>

namespace ctnn::test {
inline std::atomic<long> allocations{0};
// Out of line, so that the compiler does not pair an inlined operator new with free() and warn.
[[gnu::noinline]] inline void release(void* p) noexcept { std::free(p); }
}  // namespace ctnn::test

void* operator new(std::size_t n) {
  ++ctnn::test::allocations;
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) { return ::operator new(n); }
void* operator new(std::size_t n, std::align_val_t a) {
  ++ctnn::test::allocations;
  const std::size_t al = static_cast<std::size_t>(a);
  if (void* p = std::aligned_alloc(al, (n + al - 1) / al * al)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n, std::align_val_t a) { return ::operator new(n, a); }
void operator delete(void* p) noexcept { ctnn::test::release(p); }
void operator delete(void* p, std::size_t) noexcept { ctnn::test::release(p); }
void operator delete[](void* p) noexcept { ctnn::test::release(p); }
void operator delete[](void* p, std::size_t) noexcept { ctnn::test::release(p); }
void operator delete(void* p, std::align_val_t) noexcept { ctnn::test::release(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { ctnn::test::release(p); }
void operator delete[](void* p, std::align_val_t) noexcept { ctnn::test::release(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { ctnn::test::release(p); }
