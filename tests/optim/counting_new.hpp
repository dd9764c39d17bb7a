// tests/optim/counting_new.hpp: replaces the global operator new/delete with counting versions
// (malloc-based), counting only while g_counting is set. Include it in exactly one translation
// unit of a test executable, and check results after counting stops (doctest's macros allocate).
#pragma once
#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <new>

namespace counting {
std::atomic<bool> g_counting{false};
std::atomic<long> g_allocations{0};
void* counted(std::size_t n) noexcept {
  if (g_counting.load(std::memory_order_relaxed)) g_allocations.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(n == 0 ? 1 : n);
}
void* counted_aligned(std::size_t n, std::align_val_t al) noexcept {
  if (g_counting.load(std::memory_order_relaxed)) g_allocations.fetch_add(1, std::memory_order_relaxed);
  std::size_t a = static_cast<std::size_t>(al);
  if (a < sizeof(void*)) a = sizeof(void*);
  void* p = nullptr;
  return ::posix_memalign(&p, a, n == 0 ? 1 : n) == 0 ? p : nullptr;
}
// Out of line, so that the compiler does not pair an inlined operator new with free() and warn.
[[gnu::noinline]] void release(void* p) noexcept { std::free(p); }
}  // namespace counting
using counting::g_allocations;
using counting::g_counting;

void* operator new(std::size_t n) {
  if (void* p = counting::counted(n)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) {
  if (void* p = counting::counted(n)) return p;
  throw std::bad_alloc();
}
void* operator new(std::size_t n, std::align_val_t al) {
  if (void* p = counting::counted_aligned(n, al)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n, std::align_val_t al) {
  if (void* p = counting::counted_aligned(n, al)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { counting::release(p); }
void operator delete[](void* p) noexcept { counting::release(p); }
void operator delete(void* p, std::size_t) noexcept { counting::release(p); }
void operator delete[](void* p, std::size_t) noexcept { counting::release(p); }
void operator delete(void* p, std::align_val_t) noexcept { counting::release(p); }
void operator delete[](void* p, std::align_val_t) noexcept { counting::release(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { counting::release(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { counting::release(p); }

