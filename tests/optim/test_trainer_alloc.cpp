// tests/optim/test_trainer_alloc.cpp: the Trainer allocates per run and per epoch (index lists,
// logs, epoch lines), never per step: a run of 10x more steps makes exactly as many allocations.
// The global operator new is replaced by a counting one (counting_new.hpp).
#include <doctest/doctest.h>

#include <cstddef>
#include <utility>

#include "ctnn/optim/adam.hpp"
#include "ctnn/train/trainer.hpp"
#include "counting_new.hpp"
#include "trainer_data.hpp"

using namespace trainer_test;

namespace {
// (allocations during fit, steps taken) for a training set of `rows` rows, 2 epochs, B = 4.
std::pair<long, std::size_t> allocations_of_fit(std::size_t rows) {
  const auto tr = blobs(rows, 3), va = blobs(21, 5);
  Net net(4);
  ctnn::optim::Adam<double> adam(Net::num_params);
  ctnn::train::TrainerOptions o;
  o.epochs = 2;
  o.display = ctnn::train::Display::none;
  o.clip_norm = 1.0;
  auto t = ctnn::train::make_trainer<4>(net, adam, ctnn::optim::CosineAnnealing{0.01, 100}, o);
  std::size_t steps = 0;
  const long n = ctnn::test::allocations_in([&] { steps = t.fit(loss, tr, &va).steps; });
  return {n, steps};
}
}  // namespace

TEST_CASE("Trainer::fit allocates nothing per step (full and ragged batches)") {
  allocations_of_fit(8);  // warm-up
  const auto [a, sa] = allocations_of_fit(42);   // 11 steps an epoch, the last on 2 rows
  const auto [b, sb] = allocations_of_fit(402);  // 101 steps an epoch, the last on 2 rows
  CHECK(sa == 22);
  CHECK(sb == 202);
  CHECK(a > 0);  // the counter sees the per-run allocations
  CHECK(a == b);
}
