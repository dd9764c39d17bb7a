// ctnn/dist/mpi.hpp: the little of MPI that data-parallel training needs, with errors as exceptions.
// Include it only in programs built against an MPI implementation (meson: dependency('mpi'); Debian's
// libmpich-dev). MPI errors on the communicator are returned, not fatal, and every call is checked:
// a failure throws MpiError naming the operation and MPI's own message.
// Layer: dist (uses MPI and the standard library).
#pragma once
#include <mpi.h>

#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>

namespace ctnn::dist {

class MpiError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

inline void mpi_check(int rc, const char* what) {
  if (rc == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int len = 0;
  if (MPI_Error_string(rc, text, &len) != MPI_SUCCESS) len = 0;
  throw MpiError(std::string("ctnn::dist: ") + what + " failed: " + (len ? std::string(text, std::size_t(len)) : "?"));
}

template <class T>
MPI_Datatype mpi_type() {
  if constexpr (std::is_same_v<T, float>) return MPI_FLOAT;
  else if constexpr (std::is_same_v<T, double>) return MPI_DOUBLE;
  else if constexpr (std::is_same_v<T, int>) return MPI_INT;
  else if constexpr (std::is_same_v<T, std::uint32_t>) return MPI_UINT32_T;
  else if constexpr (std::is_same_v<T, std::uint64_t>) return MPI_UINT64_T;
  else static_assert(sizeof(T) == 0, "ctnn::dist: no MPI datatype for this type");
}

/// MPI_Init ... MPI_Finalize for a program's lifetime (one per process, in main).
class Session {
 public:
  Session(int& argc, char**& argv) {
    int done = 0;
    MPI_Initialized(&done);
    if (!done) {
      mpi_check(MPI_Init(&argc, &argv), "MPI_Init");
      owns_ = true;
    }
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  }
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;
  ~Session() {
    int done = 0;
    MPI_Finalized(&done);
    if (owns_ && !done) MPI_Finalize();
  }

 private:
  bool owns_ = false;  ///< this Session called MPI_Init (an MPI started elsewhere is finalised elsewhere)
};

/// A communicator (by default all processes) and the collectives data-parallel training uses.
class Comm {
 public:
  explicit Comm(MPI_Comm c = MPI_COMM_WORLD) : c_(c) {
    mpi_check(MPI_Comm_rank(c_, &rank_), "MPI_Comm_rank");
    mpi_check(MPI_Comm_size(c_, &size_), "MPI_Comm_size");
  }
  int rank() const noexcept { return rank_; }
  int size() const noexcept { return size_; }
  MPI_Comm get() const noexcept { return c_; }

  /// v[i] = sum over ranks of v[i], on every rank.
  template <class T>
  void allreduce_sum(std::span<T> v) const {
    mpi_check(MPI_Allreduce(MPI_IN_PLACE, v.data(), count(v.size()), mpi_type<T>(), MPI_SUM, c_), "MPI_Allreduce");
  }
  /// The maximum over ranks of x.
  template <class T>
  T max(T x) const {
    mpi_check(MPI_Allreduce(MPI_IN_PLACE, &x, 1, mpi_type<T>(), MPI_MAX, c_), "MPI_Allreduce");
    return x;
  }
  template <class T>
  T min(T x) const {
    mpi_check(MPI_Allreduce(MPI_IN_PLACE, &x, 1, mpi_type<T>(), MPI_MIN, c_), "MPI_Allreduce");
    return x;
  }
  /// Whether x is the same on every rank.
  template <class T>
  bool same_everywhere(T x) const {
    return min(x) == max(x);
  }
  /// The lowest rank where `flag` is set, or size() when it is set nowhere (the same on every rank).
  int lowest_rank_where(bool flag) const { return min(flag ? rank_ : size_); }
  /// recv = the ranks' send buffers (all of send's size) one after the other, in rank order.
  template <class T>
  void allgather(std::span<const T> send, std::span<T> recv) const {
    if (recv.size() != send.size() * std::size_t(size_))
      throw std::invalid_argument("ctnn::dist::Comm::allgather: receive buffer of " + std::to_string(recv.size()) +
                                  " for " + std::to_string(size_) + " x " + std::to_string(send.size()));
    mpi_check(MPI_Allgather(send.data(), count(send.size()), mpi_type<T>(), recv.data(), count(send.size()),
                            mpi_type<T>(), c_),
              "MPI_Allgather");
  }
  /// v = root's v, on every rank.
  template <class T>
  void broadcast(std::span<T> v, int root = 0) const {
    mpi_check(MPI_Bcast(v.data(), count(v.size()), mpi_type<T>(), root, c_), "MPI_Bcast");
  }

 private:
  static int count(std::size_t n) {
    if (n > std::size_t(std::numeric_limits<int>::max()))
      throw std::invalid_argument("ctnn::dist: more than INT_MAX elements in one MPI call");
    return int(n);
  }
  MPI_Comm c_;
  int rank_ = 0, size_ = 1;
};

/// What agree_or_throw throws on every rank at once. failing_rank() is the lowest rank that failed,
/// whose message is the failure's own (the others' say which rank failed): a program that prints
/// errors prints this one there only, instead of once per process.
class AgreedError : public std::invalid_argument {
 public:
  AgreedError(const std::string& what, int failing_rank) : std::invalid_argument(what), rank_(failing_rank) {}
  int failing_rank() const noexcept { return rank_; }

 private:
  int rank_;
};

/// Makes the ranks agree on a check each made alone before any goes on into a collective: if any
/// rank's err is not empty, every rank throws AgreedError (a std::invalid_argument) -- a failing rank
/// its own err, the others others(r) for the lowest failing rank r -- so none is left waiting. One
/// allreduce.
template <class Others>
void agree_or_throw(const Comm& comm, const std::string& err, Others&& others) {
  const int failed = comm.lowest_rank_where(!err.empty());
  if (failed < comm.size()) throw AgreedError(err.empty() ? others(failed) : err, failed);
}

}  // namespace ctnn::dist
