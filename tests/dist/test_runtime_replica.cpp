// ctnn/dist/runtime_replica.hpp under mpiexec (2 ranks): a RuntimeNetwork (a topology known at run
// time) trained data-parallel takes the steps of the same network compiled (dist::CompiledReplica),
// epoch records, validation, gradient norm and early stopping included; its distributed
// evaluation equals one process's over ragged chunks; a one-output logit network is classified at
// its threshold; a batch of 0 rows or data of the wrong width is refused on every rank.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <string>
#include <vector>

#include "ctnn/ctnn.hpp"
#include "ctnn/dist/data_parallel.hpp"
#include "ctnn/dist/runtime_replica.hpp"
#include "ctnn/io/csv.hpp"
#include "ctnn/optim/optim.hpp"
#include "dist_test_data.hpp"

namespace dist = ctnn::dist;

namespace {
using dist_test::first_rows;
double worst_relative(std::span<const double> a, std::span<const double> b) {
  double w = 0;
  for (std::size_t k = 0; k < a.size(); ++k) w = std::max(w, std::abs(a[k] - b[k]) / std::max(1.0, std::abs(b[k])));
  return w;
}
using Net = ctnn::Network<double, ctnn::Dense<4, 6>, ctnn::Tanh, ctnn::Dense<6, 3>>;
constexpr std::size_t B = 8;
}  // namespace

TEST_CASE("a runtime network trained data-parallel takes the compiled network's steps (records, validation, stopping)") {
  const dist::Comm comm;
  REQUIRE(comm.size() == 2);
  const auto all = dist_test::standardized("iris_train.csv");
  const auto train = first_rows(all, 96), validation = dist_test::standardized("iris_test.csv");
  Net net(1);
  ctnn::RuntimeNetwork<double> rn({4, 6, 3}, {"tanh", "identity"}, 0.01, comm.rank() + 1);  // rank 0's start wins
  if (comm.rank() == 0)
    REQUIRE(std::equal(rn.params().begin(), rn.params().end(), net.params().begin()));  // the same seed, the same start

  // Adam with a cosine schedule, clipping, validation, the gradient-norm figure and patience.
  const dist::DataParallelOptions o{.epochs = 12, .seed = 5, .clip_norm = 0.5, .grad_norm_tolerance = 1e-9,
                                    .patience = 3};
  const ctnn::optim::CosineAnnealing sched{0.05, 12 * (96 / (2 * B)), 0.001};
  ctnn::optim::Adam<double> opt_c(Net::num_params, {.lr = 0.05}), opt_r(rn.num_params(), {.lr = 0.05});
  dist::GradientReducer<double> red_c(comm, Net::num_params), red_r(comm, rn.num_params());
  const auto rc = dist::train_data_parallel<B>(net, opt_c, ctnn::loss::softmax_cross_entropy, train, &validation, red_c,
                                               o, sched);
  dist::RuntimeReplica<double> replica(rn, ctnn::RuntimeLoss::named("softmax_ce_logits"), B);
  const auto rr = dist::train_data_parallel(replica, opt_r, train, &validation, red_r, o, sched);

  CHECK(rr.replicas_agree);
  CHECK(rr.stopped_by == rc.stopped_by);
  CHECK(rr.message == rc.message);
  CHECK(rr.steps == rc.steps);
  CHECK(rr.best_epoch == rc.best_epoch);
  REQUIRE(rr.history.size() == rc.history.size());
  CHECK(rr.history.size() >= 4);  // several epochs ran
  for (std::size_t e = 0; e < rr.history.size(); ++e) {
    CAPTURE(e);
    CHECK(rr.history[e].train_loss == doctest::Approx(rc.history[e].train_loss).epsilon(1e-10));
    CHECK(rr.history[e].train_accuracy == rc.history[e].train_accuracy);
    CHECK(rr.history[e].val_loss == doctest::Approx(rc.history[e].val_loss).epsilon(1e-10));
    CHECK(rr.history[e].val_accuracy == rc.history[e].val_accuracy);
    CHECK(rr.history[e].grad_norm == doctest::Approx(rc.history[e].grad_norm).epsilon(1e-9));
  }
  CHECK(rr.history.back().train_loss < 0.5 * rr.history.front().train_loss);  // it learns
  CHECK(rr.validation.accuracy() > 0.85);
  CHECK(worst_relative(rn.params(), net.params()) < 1e-10);  // only the order of sums differs
}

TEST_CASE("a runtime network's distributed evaluation: each rank its share in ragged chunks, one process's figures") {
  const dist::Comm comm;
  REQUIRE(comm.size() == 2);
  const auto all = dist_test::standardized("iris_train.csv");
  Net net(7);
  ctnn::RuntimeNetwork<double> rn({4, 6, 3}, {"tanh", "identity"}, 0.01, 7);
  dist::RuntimeReplica<double> replica(rn, ctnn::RuntimeLoss::named("softmax_ce_logits"), B);
  for (std::size_t n : {all.rows, all.rows - 1, std::size_t(11), std::size_t(1)}) {
    CAPTURE(n);
    const auto d = first_rows(all, n);
    const auto e = dist::evaluate(replica, d, comm);
    const auto c = dist::evaluate<B>(net, ctnn::loss::softmax_cross_entropy, d, comm);
    CHECK(e.confusion.total() == n);
    CHECK(std::equal(e.confusion.counts().begin(), e.confusion.counts().end(), c.confusion.counts().begin()));
    CHECK(e.loss == doctest::Approx(c.loss).epsilon(1e-12));
    CHECK(comm.min(e.loss) == comm.max(e.loss));  // bit for bit on every rank
  }
}

TEST_CASE("a one-output logit network: class 1 where the logit exceeds the threshold given (0: p > 0.5)") {
  const dist::Comm comm;
  REQUIRE(comm.size() == 2);
  auto d = dist_test::standardized("breast_cancer_train.csv");
  ctnn::RuntimeNetwork<double> rn({d.cols, 8, 1}, {"relu", "identity"}, 0.01, 3);
  dist::RuntimeReplica<double> replica(rn, ctnn::RuntimeLoss::named("bce_logits"), 16);
  ctnn::optim::Adam<double> opt(rn.num_params(), {.lr = 0.01});
  dist::GradientReducer<double> red(comm, rn.num_params());
  const auto r = dist::train_data_parallel(replica, opt, d, &d, red, {.epochs = 5, .seed = 2, .binary_threshold = 0},
                                           ctnn::optim::ConstantLR{0.01});
  REQUIRE(r.replicas_agree);
  // One process, by hand: the logit of every row against 0.
  std::vector<double> x(d.rows * d.cols), y(d.rows), out(d.rows);
  std::vector<std::size_t> idx(d.rows);
  for (std::size_t i = 0; i < d.rows; ++i) idx[i] = i;
  ctnn::train::gather_rows(d, idx.data(), d.rows, d.cols, 1, x.data(), y.data());
  rn.forward(d.rows, x.data(), out.data());
  std::size_t right = 0;
  for (std::size_t i = 0; i < d.rows; ++i) right += (out[i] > 0 ? 1 : 0) == d.labels[i] ? 1 : 0;
  CHECK(r.validation.confusion.correct() == right);
  CHECK(r.validation.accuracy() > 0.9);
}

TEST_CASE("a batch of 0 rows, or data of another width, is refused on every rank before any step") {
  // Every rank's data is wrong here, so each throws its own message (dist::agree_or_throw).
  const dist::Comm comm;
  REQUIRE(comm.size() == 2);
  const auto d = dist_test::standardized("iris_train.csv");
  const std::string where = "ctnn::dist::train_data_parallel: ";
  {
    ctnn::RuntimeNetwork<double> rn({4, 3}, {"identity"}, 0.01, 1);
    dist::RuntimeReplica<double> replica(rn, ctnn::RuntimeLoss::named("softmax_ce_logits"), 0);
    ctnn::optim::SGD<double> opt(rn.num_params(), {.lr = 0.1});
    dist::GradientReducer<double> red(comm, rn.num_params());
    CHECK_THROWS_WITH_AS(dist::train_data_parallel(replica, opt, d, red, {}, ctnn::optim::ConstantLR{0.1}),
                         (where + "a batch of 0 rows").c_str(), std::invalid_argument);
  }
  {
    ctnn::RuntimeNetwork<double> rn({5, 3}, {"identity"}, 0.01, 1);
    dist::RuntimeReplica<double> replica(rn, ctnn::RuntimeLoss::named("softmax_ce_logits"), 4);
    ctnn::optim::SGD<double> opt(rn.num_params(), {.lr = 0.1});
    dist::GradientReducer<double> red(comm, rn.num_params());
    const std::vector<double> before(rn.params().begin(), rn.params().end());
    CHECK_THROWS_WITH_AS(dist::train_data_parallel(replica, opt, d, red, {}, ctnn::optim::ConstantLR{0.1}),
                         (where + "the data has 4 features, the network takes 5").c_str(), std::invalid_argument);
    CHECK(std::equal(before.begin(), before.end(), rn.params().begin()));  // nothing changed
  }
}
