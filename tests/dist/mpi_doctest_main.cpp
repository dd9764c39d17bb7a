// doctest's main for tests run under mpiexec: MPI for the program's lifetime, the tests on every
// rank, and one verdict: the program fails on every rank when any rank had a failure. Rank 0
// reports on stdout; the other ranks' reports are kept and printed (to stderr) only if they failed.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdio>
#include <sstream>

#include "ctnn/dist/mpi.hpp"

int main(int argc, char** argv) {
  ctnn::dist::Session session(argc, argv);
  const ctnn::dist::Comm comm;
  doctest::Context context(argc, argv);
  std::ostringstream kept;
  if (comm.rank() != 0) context.setCout(&kept);
  const int failed = context.run() != 0 ? 1 : 0;
  if (failed && comm.rank() != 0) std::fprintf(stderr, "rank %d:\n%s", comm.rank(), kept.str().c_str());
  return comm.max(failed);
}
