// A program built without meson against an installed ctnn (tests/consumer/pkgconfig.sh compiles it
// with `pkg-config --cflags --libs ctnn-spectrum` alone): the spectra of ctnn/optim/spectrum.hpp come
// from the installed libctnn_spectrum.a. (tests/consumer/project declares it too, through the
// subproject's ctnn-spectrum, without building it.) Checks known answers: the eigenvalues of
// [[2, 1], [1, 2]] are 1 and 3, the singular values of [[3, 0], [4, 5]] are √45 and √5, and the
// conditioning of the indefinite [[1, 2], [2, 1]] (eigenvalues −1, 3) is κ₂ = 3 with one negative
// eigenvalue.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <vector>

#include "ctnn/optim/spectrum.hpp"

namespace {
bool near(double got, double want) { return std::abs(got - want) <= 1e-13 * std::max(1.0, std::abs(want)); }
}  // namespace

int main() {
  const double S[] = {2, 1, 1, 2};
  const std::vector<double> e = ctnn::optim::symmetric_eigenvalues(S, 2);
  const double A[] = {3, 0, 4, 5};
  const std::vector<double> s = ctnn::optim::singular_values(A, 2, 2);
  const double H[] = {1, 2, 2, 1};
  const ctnn::optim::Conditioning c = ctnn::optim::conditioning(ctnn::optim::symmetric_eigenvalues(H, 2));
  const bool ok = e.size() == 2 && near(e[0], 1) && near(e[1], 3) && s.size() == 2 && near(s[0], std::sqrt(45.0)) &&
                  near(s[1], std::sqrt(5.0)) && c.negative == 1 && c.rank == 2 && near(c.condition, 3);
  std::printf("consumer (ctnn-spectrum): eigenvalues %.15g %.15g, singular values %.15g %.15g, "
              "condition %.15g with %zu negative: %s\n",
              e.size() > 0 ? e[0] : NAN, e.size() > 1 ? e[1] : NAN, s.size() > 0 ? s[0] : NAN, s.size() > 1 ? s[1] : NAN,
              c.condition, c.negative, ok ? "as expected" : "WRONG");
  return ok ? 0 : 1;
}
