// ctnn/dist/data_parallel.hpp under mpiexec (2 ranks): the reducer's means, data-parallel SGD
// equal to one process on the global batch, top-k with error feedback keeping the replicas equal
// and sending k entries, a non-finite step on one rank stopping all, bad labels refused; the
// distributed evaluation, validation and early stopping (and its record carried across a resume),
// a stop request on one rank, the gradient-norm criterion.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <limits>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "ctnn/ctnn.hpp"
#include "ctnn/dist/data_parallel.hpp"
#include "ctnn/optim/optim.hpp"
#include "ctnn/io/csv.hpp"
#include "dist_test_data.hpp"

namespace dist = ctnn::dist;

namespace {
using dist_test::iris;
using Net = ctnn::Network<double, ctnn::Dense<4, 6>, ctnn::Tanh, ctnn::Dense<6, 3>>;
constexpr std::size_t B = 8;

// The one-process runs below: rows s*G .. s*G + G of `order` as inputs and one-hot targets.
void global_batch(const ctnn::io::Dataset& d, const std::vector<std::size_t>& order, std::size_t s, std::size_t G,
                  std::vector<double>& x, std::vector<double>& y) {
  std::fill(y.begin(), y.end(), 0.0);
  for (std::size_t j = 0; j < G; ++j) {
    const std::size_t r = order[s * G + j];
    for (std::size_t c = 0; c < 4; ++c) x[j * 4 + c] = d.row(r)[c];
    y[j * 3 + std::size_t(d.labels[r])] = 1;
  }
}

// 30 epochs of Adam with a compressed reduction, from the same start.
struct CompressedRun {
  dist::DataParallelResult res;
  std::vector<double> residual;
  std::size_t entries_per_step;
};
CompressedRun compressed_run(const ctnn::io::Dataset& data, dist::ReducerOptions ro) {
  const dist::Comm comm;
  Net net(1);
  ctnn::optim::Adam<double> opt(Net::num_params, {.lr = 0.02});
  dist::GradientReducer<double> red(comm, Net::num_params, ro);
  auto res = dist::train_data_parallel<B>(net, opt, ctnn::loss::softmax_cross_entropy, data, red, {.epochs = 30});
  return {std::move(res), {red.residual().begin(), red.residual().end()}, red.entries_per_step()};
}
}  // namespace

namespace {
// What most cases start from: the same network on every rank, plain SGD at 0.1, a dense reducer.
struct SgdSetup {
  const dist::Comm comm;
  Net net{1};
  ctnn::optim::SGD<double> opt{Net::num_params, {.lr = 0.1}};
  dist::GradientReducer<double> red{comm, Net::num_params};
};
}  // namespace

TEST_CASE("dense reduction: every rank gets the exact mean of the ranks' gradients") {
  const dist::Comm comm;
  REQUIRE(comm.size() >= 2);
  const std::size_t n = 37;
  std::vector<double> g(n);
  for (std::size_t i = 0; i < n; ++i) g[i] = double(i) * (comm.rank() + 1);  // rank r: i * (r + 1)
  dist::GradientReducer<double> red(comm, n);
  red.reduce(g);
  const double s = comm.size();
  for (std::size_t i = 0; i < n; ++i) CHECK(g[i] == doctest::Approx(double(i) * (s + 1) / 2).epsilon(1e-15));
  CHECK(red.bytes_sent() == n * sizeof(double));
  CHECK(dist::replicas_agree(comm, std::span<const double>(g)));
}

TEST_CASE("data-parallel SGD with dense reduction takes the steps of one process on the global batch") {
  const dist::Comm comm;
  REQUIRE(comm.size() == 2);  // the one-process run below takes global batches of 2 x B
  const auto data = iris();
  Net net(comm.rank() + 1);  // different starts: rank 0's is broadcast
  Net start(1);
  ctnn::optim::SGD<double> opt(Net::num_params, {.lr = 0.1});
  dist::GradientReducer<double> red(comm, Net::num_params);
  std::vector<std::size_t> seen;  // the epochs on_epoch_end was called for, with the loss it was given
  std::vector<double> losses;
  const auto record = [&](const ctnn::train::EpochRecord& e) {
    seen.push_back(e.epoch);
    losses.push_back(e.train_loss);
  };
  const auto res = dist::train_data_parallel<B>(net, opt, ctnn::loss::softmax_cross_entropy, data, red,
                                                {.epochs = 5, .seed = 3, .on_epoch_end = record});
  REQUIRE(res.stopped_by == ctnn::train::StopCriterion::max_epochs);
  CHECK(res.replicas_agree);
  CHECK(seen == std::vector<std::size_t>{1, 2, 3, 4, 5});
  for (std::size_t e = 0; e < 5; ++e) CHECK(losses[e] == res.history[e].train_loss);
  const std::size_t G = B * std::size_t(comm.size()), per_epoch = data.rows / G;
  CHECK(res.steps == 5 * per_epoch);

  // The same run in one process: the same shuffled order, global batches of G rows, plain SGD.
  std::vector<std::size_t> order(data.rows);
  std::iota(order.begin(), order.end(), std::size_t(0));
  std::mt19937_64 rng(3);
  std::vector<double> x(G * 4), y(G * 3);
  double first_loss = 0, last_loss = 0;
  for (int e = 0; e < 5; ++e) {
    std::shuffle(order.begin(), order.end(), rng);
    for (std::size_t s = 0; s < per_epoch; ++s) {
      global_batch(data, order, s, G, x, y);
      const double l = start.gradient<2 * B>(ctnn::loss::softmax_cross_entropy, x.data(), y.data());
      if (e == 0 && s == 0) first_loss = l;
      last_loss = l;
      for (std::size_t k = 0; k < Net::num_params; ++k) start.params()[k] -= 0.1 * start.grads()[k];
    }
  }
  CHECK(last_loss < 0.5 * first_loss);  // it learns
  double worst = 0;
  for (std::size_t k = 0; k < Net::num_params; ++k)
    worst = std::max(worst, std::abs(net.params()[k] - start.params()[k]) / std::max(1.0, std::abs(start.params()[k])));
  CHECK(worst < 1e-12);  // only the order of the sums differs (the ranks' means, then their mean)
  CHECK(res.history.back().train_loss < 0.5 * res.history.front().train_loss);
}

TEST_CASE("a schedule and clipping (norm, value) apply to the averaged gradient: the one-process run's steps again") {
  const dist::Comm comm;
  REQUIRE(comm.size() == 2);
  const auto data = iris();
  const std::size_t G = 2 * B, per_epoch = data.rows / G, epochs = 4;
  const ctnn::optim::CosineAnnealing cosine{.base = 0.5, .T_max = epochs * per_epoch};
  const double clip = 0.3, clamp = 0.05;  // the norm, then each entry (as the Trainer: norm first)
  Net net(1), start(1);
  ctnn::optim::SGD<double> opt(Net::num_params, {.lr = 123.0});  // the schedule's lr is used, not this
  dist::GradientReducer<double> red(comm, Net::num_params);
  const auto res = dist::train_data_parallel<B>(net, opt, ctnn::loss::softmax_cross_entropy, data, red,
                                                {.epochs = epochs, .seed = 9, .clip_norm = clip, .clip_value = clamp},
                                                cosine);
  REQUIRE(res.stopped_by == ctnn::train::StopCriterion::max_epochs);
  CHECK(res.history.back().lr == doctest::Approx(cosine(epochs * per_epoch - 1)));

  std::vector<std::size_t> order(data.rows);
  std::iota(order.begin(), order.end(), std::size_t(0));
  std::mt19937_64 rng(9);
  std::vector<double> x(G * 4), y(G * 3), g(Net::num_params);
  std::size_t t = 0, clipped = 0, clamped = 0;
  for (std::size_t e = 0; e < epochs; ++e) {
    std::shuffle(order.begin(), order.end(), rng);
    for (std::size_t s = 0; s < per_epoch; ++s, ++t) {
      global_batch(data, order, s, G, x, y);
      start.gradient<2 * B>(ctnn::loss::softmax_cross_entropy, x.data(), y.data());
      g.assign(start.grads().begin(), start.grads().end());
      clipped += ctnn::optim::clip_grad_norm(std::span<double>(g), clip) > clip;
      clamped += static_cast<std::size_t>(std::count_if(g.begin(), g.end(), [&](double v) { return std::abs(v) > clamp; }));
      ctnn::optim::clip_grad_value(std::span<double>(g), clamp);
      for (std::size_t k = 0; k < Net::num_params; ++k) start.params()[k] -= cosine(t) * g[k];
    }
  }
  CHECK(clipped > 0);  // the clipping did act
  CHECK(clamped > 0);  // and so did the clamping
  double worst = 0;
  for (std::size_t k = 0; k < Net::num_params; ++k)
    worst = std::max(worst, std::abs(net.params()[k] - start.params()[k]) / std::max(1.0, std::abs(start.params()[k])));
  CHECK(worst < 1e-12);
}

TEST_CASE("top-k with error feedback: k entries per step, the replicas stay equal, the loss falls") {
  const auto data = iris();
  for (bool feedback : {true, false}) {
    CAPTURE(feedback);
    const auto r =
        compressed_run(data, {.compression = dist::Compression::top_k, .ratio = 0.1, .error_feedback = feedback});
    CHECK(r.entries_per_step == 5);  // round(0.1 * 51)
    REQUIRE(r.res.stopped_by == ctnn::train::StopCriterion::max_epochs);
    CHECK(r.res.replicas_agree);
    CHECK(r.res.bytes_sent == r.res.steps * 5 * (sizeof(double) + 4));
    CHECK(r.res.dense_bytes == r.res.steps * Net::num_params * sizeof(double));
    if (feedback) {
      CHECK(r.res.history.back().train_loss < 0.3 * r.res.history.front().train_loss);
      for (double v : r.residual) CHECK(std::isfinite(v));
    } else {
      for (double v : r.residual) CHECK(v == 0.0);
    }
  }
}

TEST_CASE("top-k with k = n sends everything: the dense reduction's steps, bit for bit (2 ranks)") {
  const dist::Comm comm;
  REQUIRE(comm.size() == 2);  // a + b == b + a: MPI's sum and the ranks' values added in rank order agree
  const auto data = iris();
  Net dense_net(1), topk_net(1);
  const ctnn::optim::SGDOptions so{.lr = 0.1, .momentum = 0.9};
  ctnn::optim::SGD<double> o1(Net::num_params, so), o2(Net::num_params, so);
  dist::GradientReducer<double> dense(comm, Net::num_params);
  dist::GradientReducer<double> all(comm, Net::num_params, {.compression = dist::Compression::top_k, .ratio = 1.0});
  CHECK(all.entries_per_step() == Net::num_params);
  const auto& ce = ctnn::loss::softmax_cross_entropy;
  const auto r1 = dist::train_data_parallel<B>(dense_net, o1, ce, data, dense, {.epochs = 3});
  const auto r2 = dist::train_data_parallel<B>(topk_net, o2, ce, data, all, {.epochs = 3});
  REQUIRE(r1.steps == r2.steps);
  for (std::size_t k = 0; k < Net::num_params; ++k) CHECK(dense_net.params()[k] == topk_net.params()[k]);
  for (double r : all.residual()) CHECK(r == 0.0);
}

TEST_CASE("sign compression with error feedback: one bit per entry and a scale, equal replicas, the loss falls") {
  const auto data = iris();
  for (bool feedback : {true, false}) {
    CAPTURE(feedback);
    const auto r = compressed_run(data, {.compression = dist::Compression::sign, .error_feedback = feedback});
    REQUIRE(r.res.stopped_by == ctnn::train::StopCriterion::max_epochs);
    CHECK(r.res.replicas_agree);
    CHECK(r.res.bytes_sent == r.res.steps * (8 + sizeof(double)));  // 51 bits in one word, one scale
    CHECK(r.res.history.back().train_loss < 0.5 * r.res.history.front().train_loss);
    if (!feedback)
      for (double v : r.residual) CHECK(v == 0.0);
  }
}

TEST_CASE_FIXTURE(SgdSetup, "a non-finite gradient on one rank stops every rank at that step, naming the rank") {
  auto data = iris();
  if (comm.rank() == 1)
    for (auto& f : data.features) f = std::nanf("");
  Net start(1);
  const auto res = dist::train_data_parallel<B>(net, opt, ctnn::loss::softmax_cross_entropy, data, red, {.epochs = 2});
  CHECK(res.stopped_by == ctnn::train::StopCriterion::non_finite);
  CHECK(res.steps == 0);
  CHECK(res.message.find("non-finite loss or gradient on rank 1 at step 1 (epoch 1, batch 1 of") == 0);
  CHECK(res.replicas_agree);
  for (std::size_t k = 0; k < Net::num_params; ++k) CHECK(net.params()[k] == start.params()[k]);  // not applied
}

TEST_CASE_FIXTURE(SgdSetup, "parameters that overflow in an epoch's last step stop every rank before the evaluation") {
  // One step an epoch (B rows per rank), SGD at lr 1e300 on a loss scaled by 1e10: loss and
  // gradient are finite, the update is not; with one epoch no later loss would show it.
  std::vector<std::size_t> rows(B * std::size_t(comm.size()));
  for (std::size_t i = 0; i < rows.size(); ++i) rows[i] = i;
  const auto data = iris().subset(rows);
  const auto big = [](auto p, auto y) { return ctnn::loss::softmax_cross_entropy(p, y) * 1e10; };
  ctnn::optim::SGD<double> huge(Net::num_params, {.lr = 1e300});
  const auto res = dist::train_data_parallel<B>(net, huge, big, data, red, {.epochs = 1});
  CHECK(res.stopped_by == ctnn::train::StopCriterion::non_finite);
  CHECK(res.steps == 1);
  CHECK_MESSAGE(res.message.find("non-finite parameters after step 1 (epoch 1, its last batch)") == 0, res.message);
  CHECK(res.replicas_agree);
}

TEST_CASE_FIXTURE(SgdSetup, "a non-finite validation loss stops every rank after that epoch, not at max_epochs") {
  const auto train = dist_test::first_rows(iris(), 96);
  auto val = dist_test::first_rows(iris(), 24);
  val.features[5] = std::nanf("");  // training finite, validation not: the run must not end "max_epochs"
  const auto res = dist::train_data_parallel<B>(net, opt, ctnn::loss::softmax_cross_entropy, train, &val, red,
                                                {.epochs = 3});
  CHECK(res.stopped_by == ctnn::train::StopCriterion::non_finite);
  CHECK(res.history.size() == 1);
  CHECK_MESSAGE(res.message.find("the val loss is nan after epoch 1 although every training step's loss and gradient "
                                 "were finite") == 0,
                res.message);
  CHECK(res.replicas_agree);
}

TEST_CASE("a compressor refusing its input on one rank makes every rank's reduce throw (none waits in the gather)") {
  const dist::Comm comm;
  REQUIRE(comm.size() == 2);
  for (auto c : {dist::Compression::top_k, dist::Compression::sign}) {
    dist::GradientReducer<double> red(comm, 10, {.compression = c, .ratio = 0.2});
    std::vector<double> g(10, 1.0);
    if (comm.rank() == 1) g[4] = std::numeric_limits<double>::infinity();
    const std::string own = std::string("ctnn::dist::") + (c == dist::Compression::top_k ? "TopK" : "Sign") +
                            "::compress: entry 4 is not finite (gradient plus residual)";
    const std::string other = "ctnn::dist::GradientReducer: rank 1 could not compress its gradient";
    CHECK_THROWS_WITH_AS(red.reduce(g), (comm.rank() == 1 ? own : other).c_str(), std::invalid_argument);
    for (double r : red.residual()) CHECK(r == 0.0);  // nothing was kept from the refused step
    std::fill(g.begin(), g.end(), 1.0);
    red.reduce(g);  // and the reducer goes on working
    CHECK(red.bytes_sent() > 0);
  }
}

TEST_CASE_FIXTURE(SgdSetup, "bad input is refused before any step: a label outside the classes, too few rows, wrong width") {
  auto data = iris();
  auto bad = data;
  bad.labels[7] = 3;
  CHECK_THROWS_WITH_AS(dist::train_data_parallel<B>(net, opt, ctnn::loss::softmax_cross_entropy, bad, red),
                       "ctnn::dist::train_data_parallel: row 7 has label 3, the network has 3 classes",
                       std::invalid_argument);
  auto few = data;
  few.rows = 10;
  CHECK_THROWS_WITH_AS(dist::train_data_parallel<B>(net, opt, ctnn::loss::softmax_cross_entropy, few, red),
                       "ctnn::dist::train_data_parallel: 10 rows are fewer than one global batch of 8 x 2",
                       std::invalid_argument);
  auto wide = data;
  wide.cols = 5;
  wide.rows = data.rows * 4 / 5;
  CHECK_THROWS_WITH_AS(dist::train_data_parallel<B>(net, opt, ctnn::loss::softmax_cross_entropy, wide, red),
                       "ctnn::dist::train_data_parallel: the data has 5 features, the network takes 4",
                       std::invalid_argument);
  std::vector<double> g(Net::num_params - 1);
  CHECK_THROWS_WITH_AS(red.reduce(g), "ctnn::dist::GradientReducer: gradient of 50 entries, expected 51",
                       std::invalid_argument);
  CHECK(red.bytes_sent() == 0);  // nothing was reduced
}

TEST_CASE_FIXTURE(SgdSetup, "bad data on one rank stops every rank before any step (none is left waiting in a collective)") {
  REQUIRE(comm.size() == 2);
  auto data = iris();
  auto bad = data;
  if (comm.rank() == 1) bad.labels[3] = -1;
  const char* own = "ctnn::dist::train_data_parallel: row 3 has label -1, the network has 3 classes";
  const char* other = "ctnn::dist::train_data_parallel: rank 1 refused its data";
  CHECK_THROWS_WITH_AS(dist::train_data_parallel<B>(net, opt, ctnn::loss::softmax_cross_entropy, bad, red),
                       comm.rank() == 1 ? own : other, std::invalid_argument);
  auto shorter = data;
  if (comm.rank() == 0) shorter.rows -= 1;
  const std::string msg = "ctnn::dist::train_data_parallel: the ranks' training sets differ in size (" +
                          std::to_string(shorter.rows) + " rows on rank " + std::to_string(comm.rank()) +
                          "); every rank must read the same data";
  CHECK_THROWS_WITH_AS(dist::train_data_parallel<B>(net, opt, ctnn::loss::softmax_cross_entropy, shorter, red),
                       msg.c_str(), std::invalid_argument);
  CHECK(red.bytes_sent() == 0);
}


namespace {
using dist_test::first_rows;
// The parameters after each epoch, recorded by on_epoch_end.
struct ParamsByEpoch {
  const Net* net;
  std::vector<std::vector<double>> p;
  void operator()(const ctnn::train::EpochRecord&) { p.emplace_back(net->params().begin(), net->params().end()); }
};
}  // namespace

TEST_CASE("distributed evaluation: each rank its share, the same figures everywhere, those of one process") {
  const dist::Comm comm;
  REQUIRE(comm.size() == 2);
  const auto all = iris();
  Net net(5);
  for (std::size_t n : {all.rows, all.rows - 1, std::size_t(3), std::size_t(1)}) {  // even, odd, fewer than B, one
    CAPTURE(n);
    const auto d = first_rows(all, n);
    const auto e = dist::evaluate<B>(net, ctnn::loss::softmax_cross_entropy, d, comm);
    // One process over all rows (B at a time, then one by one).
    std::vector<std::size_t> idx(n);
    std::iota(idx.begin(), idx.end(), std::size_t(0));
    ctnn::train::BatchBuffers<Net, B> buf;
    const auto one = ctnn::train::evaluate_rows<B>(net, ctnn::loss::softmax_cross_entropy, d,
                                                   std::span<const std::size_t>(idx), 0.5, buf);
    CHECK(e.confusion.total() == n);
    CHECK(std::equal(e.confusion.counts().begin(), e.confusion.counts().end(), one.confusion.counts().begin()));
    CHECK(e.loss == doctest::Approx(one.loss).epsilon(1e-13));
    CHECK(comm.min(e.loss) == comm.max(e.loss));  // bit for bit on every rank
  }
  auto bad = all;
  if (comm.rank() == 0) bad.labels[2] = 7;
  CHECK_THROWS_WITH_AS(dist::evaluate<B>(net, ctnn::loss::softmax_cross_entropy, bad, comm),
                       comm.rank() == 0 ? "ctnn::dist::evaluate: row 2 has label 7, the network has 3 classes"
                                        : "ctnn::dist::evaluate: rank 0 refused its data",
                       std::invalid_argument);
}

TEST_CASE_FIXTURE(SgdSetup, "validation each epoch and early stopping: every rank stops together and restores the best epoch") {
  const auto all = iris();
  const auto train = first_rows(all, 96);
  ctnn::io::Dataset val = all;  // the last 24 rows
  val.rows = all.rows - 96;
  val.features.erase(val.features.begin(), val.features.begin() + 96 * 4);
  val.labels.erase(val.labels.begin(), val.labels.begin() + 96);
  ParamsByEpoch rec{&net, {}};
  // min_delta 10: no epoch after the first counts as an improvement, so patience 3 stops after epoch 4.
  const auto res = dist::train_data_parallel<B>(net, opt, ctnn::loss::softmax_cross_entropy, train, &val, red,
                                                {.epochs = 50, .seed = 4, .patience = 3, .min_delta = 10.0,
                                                 .on_epoch_end = std::ref(rec)});
  CHECK(res.stopped_by == ctnn::train::StopCriterion::early_stopping);
  CHECK(res.history.size() == 4);
  CHECK(res.best_epoch == 1);
  CHECK(res.restored_best);
  CHECK(res.message == "val loss did not improve for 3 epochs; best " +
                           [&] {
                             char b[32];
                             std::snprintf(b, sizeof b, "%.6g", res.history[0].val_loss);
                             return std::string(b);
                           }() +
                           " at epoch 1 (its parameters restored)");
  REQUIRE(rec.p.size() == 4);
  CHECK(std::equal(net.params().begin(), net.params().end(), rec.p[0].begin()));  // epoch 1's, exactly
  CHECK(res.replicas_agree);
  // Each epoch's validation figures are those of its parameters on the whole validation set.
  Net probe(1);
  ctnn::train::BatchBuffers<Net, B> buf;
  std::vector<std::size_t> idx(val.rows);
  std::iota(idx.begin(), idx.end(), std::size_t(0));
  for (std::size_t e = 0; e < 4; ++e) {
    std::copy(rec.p[e].begin(), rec.p[e].end(), probe.params().begin());
    const auto one = ctnn::train::evaluate_rows<B>(probe, ctnn::loss::softmax_cross_entropy, val,
                                                   std::span<const std::size_t>(idx), 0.5, buf);
    CHECK(res.history[e].val_loss == doctest::Approx(one.loss).epsilon(1e-13));
    CHECK(res.history[e].val_accuracy == one.accuracy());
    CHECK(comm.min(res.history[e].val_loss) == comm.max(res.history[e].val_loss));
  }
  CHECK(res.validation.loss == res.history[0].val_loss);  // evaluated again with the restored parameters
  CHECK(res.history[3].train_accuracy > 0.6);             // it learns (3 classes: chance is 1/3)

  // Without min_delta it trains on while the validation loss falls: best_epoch follows the minimum.
  Net net2(1);
  ctnn::optim::SGD<double> opt2(Net::num_params, {.lr = 0.1});
  const auto res2 = dist::train_data_parallel<B>(net2, opt2, ctnn::loss::softmax_cross_entropy, train, &val, red,
                                                 {.epochs = 6, .seed = 4, .patience = 3});
  CHECK(res2.stopped_by == ctnn::train::StopCriterion::max_epochs);
  std::size_t best = 0;
  for (std::size_t e = 0; e < res2.history.size(); ++e)
    if (res2.history[e].val_loss < res2.history[best].val_loss) best = e;
  CHECK(res2.best_epoch == best + 1);

  // The epoch limit comes before patience runs out: the run still ends on the best epoch's parameters
  // (it used to keep the last epoch's, so a --patience run's saved model depended on which limit hit).
  Net net3(1);
  ctnn::optim::SGD<double> opt3(Net::num_params, {.lr = 0.1});
  ParamsByEpoch rec3{&net3, {}};
  const auto res3 = dist::train_data_parallel<B>(net3, opt3, ctnn::loss::softmax_cross_entropy, train, &val, red,
                                                 {.epochs = 3, .seed = 4, .patience = 10, .min_delta = 10.0,
                                                  .on_epoch_end = std::ref(rec3)});
  CHECK(res3.stopped_by == ctnn::train::StopCriterion::max_epochs);
  CHECK(res3.best_epoch == 1);
  CHECK(res3.restored_best);
  CHECK(res3.message.ends_with("; the parameters of epoch 1 (best val loss " +
                               ctnn::text::number(res3.history[0].val_loss) + ") restored"));
  REQUIRE(rec3.p.size() == 3);
  CHECK(std::equal(net3.params().begin(), net3.params().end(), rec3.p[0].begin()));
  CHECK(res3.validation.loss == res3.history[0].val_loss);
  CHECK(res3.replicas_agree);
}

TEST_CASE_FIXTURE(SgdSetup, "early stopping resumed from its record stops where the uninterrupted run does") {
  const auto all = iris();
  const auto train = first_rows(all, 96);
  const auto val = all.subset([&] {
    std::vector<std::size_t> idx(all.rows - 96);
    std::iota(idx.begin(), idx.end(), std::size_t(96));
    return idx;
  }());
  // min_delta 10: only epoch 1 is a best; patience 3 stops after epoch 4 with epoch 1's parameters.
  const dist::DataParallelOptions o{.epochs = 50, .seed = 4, .patience = 3, .min_delta = 10.0};
  const auto full = dist::train_data_parallel<B>(net, opt, ctnn::loss::softmax_cross_entropy, train, &val, red, o,
                                                 ctnn::optim::ConstantLR{0.1});
  REQUIRE(full.stopped_by == ctnn::train::StopCriterion::early_stopping);
  REQUIRE(full.history.size() == 4);
  const std::vector<double> p_full(net.params().begin(), net.params().end());

  // Cut after epoch 2: parameters, optimiser state and the record as on_epoch_end saw them.
  Net cut(1);
  ctnn::optim::SGD<double> opt_cut(Net::num_params, {.lr = 0.1});
  ctnn::train::EarlyStopping<double> es;
  ctnn::train::EarlyStopping<double> saved_es;
  std::vector<double> saved_p;
  auto oc = o;
  oc.epochs = 2;
  oc.on_epoch_end = [&](const ctnn::train::EpochRecord&) {
    saved_p.assign(cut.params().begin(), cut.params().end());
    saved_es = es;
  };
  dist::train_data_parallel<B>(cut, opt_cut, ctnn::loss::softmax_cross_entropy, train, &val, red, oc,
                               ctnn::optim::ConstantLR{0.1}, &es);
  CHECK(saved_es.best_epoch == 1);
  CHECK(saved_es.wait == 1);
  auto resume = [&](ctnn::train::EarlyStopping<double>* record) {
    Net net2(7);
    std::copy(saved_p.begin(), saved_p.end(), net2.params().begin());
    ctnn::optim::SGD<double> opt2(Net::num_params, {.lr = 0.1});  // plain SGD: no state to restore
    auto orr = o;
    orr.first_epoch = 3;
    orr.first_step = full.history[1].steps;
    const auto r = dist::train_data_parallel<B>(net2, opt2, ctnn::loss::softmax_cross_entropy, train, &val, red, orr,
                                                ctnn::optim::ConstantLR{0.1}, record);
    return std::pair{r, std::vector<double>(net2.params().begin(), net2.params().end())};
  };
  auto record = saved_es;
  const auto [r, p] = resume(&record);
  CHECK(r.stopped_by == ctnn::train::StopCriterion::early_stopping);
  CHECK(r.epochs == 4);
  CHECK(r.best_epoch == 1);
  CHECK(p == p_full);
  // Without it, epoch 3 is the first epoch seen and so the best: the run goes on to epoch 6.
  const auto [r_blind, p_blind] = resume(nullptr);
  CHECK(r_blind.epochs == 6);
  CHECK(p_blind != p_full);
  // A record that does not fit the epoch resumed at is refused on every rank.
  auto wrong = saved_es;
  wrong.best_epoch = 5;
  CHECK_THROWS_WITH_AS(resume(&wrong), doctest::Contains("does not fit"), std::invalid_argument);
}

TEST_CASE_FIXTURE(SgdSetup, "a stop request on one rank stops every rank before the same step") {
  REQUIRE(comm.size() == 2);
  const auto data = iris();
  std::atomic<bool> stop{false};
  const auto after_two = [&](const ctnn::train::EpochRecord& e) {
    if (comm.rank() == 1 && e.epoch == 2) stop = true;  // as a signal handler would, on one rank only
  };
  const auto res = dist::train_data_parallel<B>(net, opt, ctnn::loss::softmax_cross_entropy, data, red,
                                                {.epochs = 10, .stop = &stop, .on_epoch_end = after_two});
  const std::size_t per_epoch = data.rows / (2 * B);
  CHECK(res.stopped_by == ctnn::train::StopCriterion::interrupted);
  CHECK(res.steps == 2 * per_epoch);
  CHECK(res.epochs == 2);  // epoch 3 stopped before its first step: no record (it had no loss, no learning rate)
  CHECK(res.history.size() == 2);
  CHECK(res.message == "interrupted (a stop was requested on rank 1) in epoch 3 after 0 of " +
                           std::to_string(per_epoch) + " steps (that epoch abandoned)");
  CHECK(res.replicas_agree);
}

TEST_CASE_FIXTURE(SgdSetup, "the gradient-norm criterion: the whole training set's gradient, added up over the ranks' shares") {
  const auto data = first_rows(iris(), 117);  // odd: the shares differ in size, and neither is a multiple of B
  const auto res = dist::train_data_parallel<B>(net, opt, ctnn::loss::softmax_cross_entropy, data, red,
                                                {.epochs = 10, .grad_norm_tolerance = 1e9});
  CHECK(res.stopped_by == ctnn::train::StopCriterion::gradient_norm);
  CHECK(res.history.size() == 1);
  // One process: the gradient of the mean loss over all 117 rows at the final parameters.
  std::vector<double> acc(Net::num_params, 0.0);
  double norm = 0;
  for (std::size_t r = 0; r < data.rows; ++r) {
    std::vector<double> x(data.row(r), data.row(r) + 4), y(3, 0.0);
    y[std::size_t(data.labels[r])] = 1;
    net.gradient<1>(ctnn::loss::softmax_cross_entropy, x.data(), y.data());
    for (std::size_t k = 0; k < Net::num_params; ++k) acc[k] += net.grads()[k] / double(data.rows);
  }
  for (double v : acc) norm += v * v;
  CHECK(res.history[0].grad_norm == doctest::Approx(std::sqrt(norm)).epsilon(1e-12));
  CHECK(res.history[0].grad_norm > 0);
  CHECK(comm.min(res.history[0].grad_norm) == comm.max(res.history[0].grad_norm));
}

TEST_CASE_FIXTURE(SgdSetup, "a validation set on some ranks only, or a bad one, is refused on every rank") {
  REQUIRE(comm.size() == 2);
  const auto data = iris();
  const ctnn::io::Dataset* val = comm.rank() == 0 ? &data : nullptr;
  const std::string msg = "ctnn::dist::train_data_parallel: the ranks' validation sets differ (" +
                          std::string(comm.rank() == 0 ? "120 rows" : "none") + " on rank " +
                          std::to_string(comm.rank()) + "); give every rank the same validation set, or none";
  CHECK_THROWS_WITH_AS(dist::train_data_parallel<B>(net, opt, ctnn::loss::softmax_cross_entropy, data, val, red),
                       msg.c_str(), std::invalid_argument);
  auto bad = data;
  bad.labels[5] = 9;
  CHECK_THROWS_WITH_AS(dist::train_data_parallel<B>(net, opt, ctnn::loss::softmax_cross_entropy, data, &bad, red),
                       "ctnn::dist::train_data_parallel: validation row 5 has label 9, the network has 3 classes",
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(
      dist::train_data_parallel<B>(net, opt, ctnn::loss::softmax_cross_entropy, data, red, {.patience = 2}),
      "ctnn::dist::train_data_parallel: early stopping (patience 2) needs a validation set", std::invalid_argument);
  CHECK_THROWS_WITH_AS(
      dist::train_data_parallel<B>(net, opt, ctnn::loss::softmax_cross_entropy, data, red, {.first_epoch = 0}),
      "ctnn::dist::train_data_parallel: first_epoch counts from 1", std::invalid_argument);
  CHECK_THROWS_WITH_AS(dist::train_data_parallel<B>(net, opt, ctnn::loss::softmax_cross_entropy, data, red,
                                                    {.epochs = 4, .first_epoch = 5}),
                       "ctnn::dist::train_data_parallel: first_epoch 5 is after the last epoch, 4 (the run's epochs "
                       "are all done: raise epochs to go on)",
                       std::invalid_argument);
  CHECK(red.bytes_sent() == 0);
}

TEST_CASE("resuming from an epoch's checkpoint takes the uninterrupted run's steps, bit for bit (Adam, top-k + EF)") {
  const dist::Comm comm;
  const auto data = iris();
  const auto ce = ctnn::loss::softmax_cross_entropy;
  const dist::ReducerOptions ro{.compression = dist::Compression::top_k, .ratio = 0.2};
  const std::size_t per_epoch = data.rows / (B * std::size_t(comm.size())), epochs = 5;
  const ctnn::optim::CosineAnnealing cosine{.base = 0.05, .T_max = epochs * per_epoch};
  using Adam = ctnn::optim::Adam<double>;
  // Uninterrupted.
  Net full(1);
  Adam opt_full(Net::num_params, {.lr = 0.05});
  dist::GradientReducer<double> red_full(comm, Net::num_params, ro);
  const auto r_full =
      dist::train_data_parallel<B>(full, opt_full, ce, data, red_full, {.epochs = epochs, .seed = 6}, cosine);
  REQUIRE(r_full.stopped_by == ctnn::train::StopCriterion::max_epochs);
  // A run that ends after epoch 2, its checkpoint kept as on_epoch_end would write it.
  struct Saved {
    std::vector<double> params, opt, residual;
    std::uint64_t opt_steps = 0;
    std::size_t epoch = 0, steps = 0;
  } saved;
  {
    Net net(1);
    Adam opt(Net::num_params, {.lr = 0.05});
    dist::GradientReducer<double> red(comm, Net::num_params, ro);
    const auto keep = [&](const ctnn::train::EpochRecord& e) {
      saved = {{net.params().begin(), net.params().end()},
               {opt.state().begin(), opt.state().end()},
               {red.residual().begin(), red.residual().end()},
               opt.step_count(),
               e.epoch,
               e.steps};
    };
    dist::train_data_parallel<B>(net, opt, ce, data, red, {.epochs = 2, .seed = 6, .on_epoch_end = keep}, cosine);
  }
  REQUIRE(saved.epoch == 2);
  CHECK(std::any_of(saved.residual.begin(), saved.residual.end(), [](double v) { return v != 0; }));  // it matters
  // Resumed in new objects, from the checkpoint.
  Net net(99);
  Adam opt(Net::num_params, {.lr = 0.05});
  dist::GradientReducer<double> red(comm, Net::num_params, ro);
  std::copy(saved.params.begin(), saved.params.end(), net.params().begin());
  std::copy(saved.opt.begin(), saved.opt.end(), opt.state().begin());
  opt.set_step_count(saved.opt_steps);
  std::copy(saved.residual.begin(), saved.residual.end(), red.residual_mutable().begin());
  const auto r = dist::train_data_parallel<B>(
      net, opt, ce, data, red,
      {.epochs = epochs, .seed = 6, .first_epoch = saved.epoch + 1, .first_step = saved.steps}, cosine);
  CHECK(r.stopped_by == ctnn::train::StopCriterion::max_epochs);
  CHECK(r.steps == r_full.steps);
  REQUIRE(r.history.size() == 3);
  CHECK(r.history.front().epoch == 3);
  CHECK(r.history.back().train_loss == r_full.history.back().train_loss);
  CHECK(r.history.back().lr == r_full.history.back().lr);
  CHECK(std::equal(net.params().begin(), net.params().end(), full.params().begin()));
  CHECK(r.replicas_agree);
}
