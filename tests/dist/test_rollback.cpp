// dist::train_data_parallel with on_non_finite = rollback under mpiexec (2 ranks): a run that
// diverges in its first epoch goes back to the start on every rank and is then, bit for bit, the run
// started at the lower learning rate -- Adam's moments and step count, the data order and (top-k)
// each rank's error-feedback remainder put back; a NaN in the data stops every rank after
// max_rollbacks rollbacks, with equal, finite parameters.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdlib>
#include <limits>
#include <string>
#include <vector>

#include "ctnn/ctnn.hpp"
#include "ctnn/dist/data_parallel.hpp"
#include "ctnn/io/csv.hpp"
#include "ctnn/optim/optim.hpp"
#include "dist_test_data.hpp"

namespace dist = ctnn::dist;

namespace {
using dist_test::iris;
// A Softmax output with cross-entropy from probabilities and Adam at lr 4096: the first steps push the
// logits so far apart that a target probability underflows to 0 and its log is -inf. The loss is
// written here without loss::cross_entropy's floor (which keeps it finite).
using SoftNet = ctnn::Network<double, ctnn::Dense<4, 8>, ctnn::Tanh, ctnn::Dense<8, 3>, ctnn::Softmax>;
constexpr std::size_t B = 4;
struct UnclampedCrossEntropy {
  template <class P, class Y>
  auto operator()(P p, Y y) const {
    return -ctnn::ad::sum(ctnn::ad::log(ctnn::ad::row_sum(y * p))) * (1.0 / double(P::rows));
  }
};

struct Run {
  dist::DataParallelResult res;
  std::vector<double> params;
  std::uint64_t adam_steps = 0;
  std::vector<std::string> notes;
};
Run run(const ctnn::io::Dataset& data, double lr, dist::Compression c, ctnn::train::OnNonFinite on,
        double factor = 0.5, std::size_t max_rollbacks = 3) {
  const dist::Comm comm;
  SoftNet net(5);
  ctnn::optim::Adam<double> adam(SoftNet::num_params, {.lr = lr});
  dist::GradientReducer<double> red(comm, SoftNet::num_params, {.compression = c, .ratio = 0.25});
  Run r;
  dist::DataParallelOptions o{.epochs = 6, .seed = 9};
  o.on_non_finite = on;
  o.rollback_lr_factor = factor;
  o.max_rollbacks = max_rollbacks;
  o.on_rollback = [&](const std::string& note) { r.notes.push_back(note); };
  r.res = dist::train_data_parallel<B>(net, adam, UnclampedCrossEntropy{}, data, red, o,
                                       ctnn::optim::ConstantLR{lr});
  r.params.assign(net.params().begin(), net.params().end());
  r.adam_steps = adam.step_count();
  return r;
}
}  // namespace

TEST_CASE("rollback: back to the start on every rank, then the lower learning rate's run, bit for bit") {
  const dist::Comm comm;
  REQUIRE(comm.size() == 2);
  const auto data = iris();
  using ctnn::train::OnNonFinite, ctnn::train::StopCriterion;
  for (const auto c : {dist::Compression::none, dist::Compression::top_k}) {
    CAPTURE(int(c));
    const auto stopped = run(data, 4096.0, c, OnNonFinite::stop);
    REQUIRE(stopped.res.stopped_by == StopCriterion::non_finite);
    REQUIRE(stopped.res.epochs == 1);  // in the first epoch: the last snapshot is the start
    CHECK(stopped.res.rollbacks == 0);
    CHECK(stopped.notes.empty());

    // 4096 x 2^-15 = 0.125: after the rollback, exactly the run that started at 0.125.
    const auto rolled = run(data, 4096.0, c, OnNonFinite::rollback, 1.0 / 32768);
    const auto direct = run(data, 0.125, c, OnNonFinite::stop);
    REQUIRE(direct.res.stopped_by == StopCriterion::max_epochs);
    CHECK(rolled.res.stopped_by == StopCriterion::max_epochs);
    CHECK(rolled.res.rollbacks == 1);
    CHECK(rolled.res.replicas_agree);
    CHECK(rolled.res.history.size() == 6);  // the abandoned epoch leaves no record
    CHECK(rolled.res.steps == direct.res.steps);
    CHECK(rolled.adam_steps == direct.adam_steps);
    CHECK(rolled.params == direct.params);
    for (std::size_t e = 0; e < 6; ++e) CHECK(rolled.res.history[e].train_loss == direct.res.history[e].train_loss);
    REQUIRE(rolled.notes.size() == 1);
    CHECK_MESSAGE(rolled.notes[0].find("epoch 1: rollback 1 of 3: non-finite loss or gradient on rank ") == 0,
                  rolled.notes[0]);
    CHECK_MESSAGE(rolled.notes[0].find("at step " + std::to_string(stopped.res.steps + 1)) != std::string::npos,
                  rolled.notes[0]);
    CHECK_MESSAGE(rolled.notes[0].find("; back to the end of epoch 0 (step 0), learning rate x3.05176e-05") !=
                      std::string::npos,
                  rolled.notes[0]);
  }
}

TEST_CASE("rollback: a NaN in the data fails every retry; every rank stops after max_rollbacks") {
  const dist::Comm comm;
  REQUIRE(comm.size() == 2);
  auto data = iris();
  data.features[4 * 17 + 2] = std::numeric_limits<float>::quiet_NaN();
  const auto r = run(data, 0.01, dist::Compression::none, ctnn::train::OnNonFinite::rollback, 0.5, 2);
  CHECK(r.res.stopped_by == ctnn::train::StopCriterion::non_finite);
  CHECK(r.res.rollbacks == 2);
  CHECK(r.notes.size() == 2);
  CHECK_MESSAGE(r.res.message.find("(after 2 rollbacks)") != std::string::npos, r.res.message);
  CHECK(r.res.replicas_agree);
  for (double p : r.params) CHECK(std::isfinite(p));
}
