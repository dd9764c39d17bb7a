// tests/optim/test_trainer.cpp: the Trainer's loop: it learns, is reproducible from its seed,
// uses the ragged last batch exactly (one step on the mean gradient of its rows, checked against
// a hand-run loop of net.gradient and the optimiser), applies the schedule per step and the
// clipping, and stops on each criterion (max epochs, max steps, gradient norm, early stopping with
// best-weights restore), saying which; a run resumed with its early-stopping record stops where the
// uninterrupted one does; validation_split holds out train::hold_out's rows.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <random>
#include <span>
#include <vector>

#include "ctnn/optim/optim.hpp"
#include "ctnn/train/trainer.hpp"
#include "trainer_data.hpp"

using namespace trainer_test;
namespace optim = ctnn::optim;
namespace train = ctnn::train;

namespace {
train::TrainerOptions quiet(std::size_t epochs, std::uint64_t seed = 1) {
  train::TrainerOptions o;
  o.epochs = epochs;
  o.seed = seed;
  o.display = train::Display::none;
  return o;
}
std::vector<double> params(Net& net) { return {net.params().begin(), net.params().end()}; }
}  // namespace

TEST_CASE("Trainer: Adam + cosine learns three blobs; the same seed gives the same parameters") {
  const auto tr = blobs(300, 1), va = blobs(150, 2);
  auto run = [&](std::uint64_t seed) {
    Net net(3);
    optim::Adam<double> adam(Net::num_params);
    auto t = train::make_trainer<16>(net, adam, optim::CosineAnnealing{0.05, 20 * 19}, quiet(20, seed));
    const auto r = t.fit(loss, tr, &va);
    CHECK(r.stopped_by == train::StopCriterion::max_epochs);
    CHECK(r.epochs == 20);
    CHECK(r.steps == 20 * 19);  // 300 = 18 x 16 + 12: 19 steps per epoch, the last on 12 rows
    CHECK(r.history.size() == 20);
    CHECK(r.history.front().train_loss > r.history.back().train_loss);
    CHECK(r.validation.accuracy() > 0.93);
    CHECK(r.validation.confusion.total() == 150);
    return params(net);
  };
  const auto a = run(5), b = run(5), c = run(6);
  CHECK(a == b);
  CHECK(a != c);  // the shuffle depends on the seed
}

TEST_CASE("Trainer: one epoch equals a hand-run loop; the ragged last batch is one step on its mean gradient") {
  const auto d = blobs(10, 3);  // B = 4: batches of rows 0-3, 4-7, then 8-9 (shuffle off)
  const optim::StepDecay sched{0.3, 2, 0.5};
  optim::SGDOptions so;
  so.momentum = 0.9;
  Net a(4), b(4);
  optim::SGD<double> oa(Net::num_params, so), ob(Net::num_params, so);
  auto o = quiet(2);
  o.shuffle = false;
  o.clip_norm = 0.5;
  auto t = train::make_trainer<4>(a, oa, sched, o);
  const auto r = t.fit(loss, d);
  CHECK(r.steps == 6);
  CHECK(r.history[1].lr == sched(5));
  // By hand: rows as double, one-hot targets, gradient<4> / gradient<2>, clip, step with lr(t).
  std::vector<double> x, y(30, 0.0);
  for (float v : d.features) x.push_back(v);
  for (std::size_t i = 0; i < 10; ++i) y[3 * i + static_cast<std::size_t>(d.labels[i])] = 1;
  std::vector<double> g(Net::num_params);
  std::size_t t_step = 0;
  double epoch1_loss = 0;
  for (int epoch = 0; epoch < 2; ++epoch)
    for (std::size_t at : {0u, 4u, 8u}) {
      double l;
      if (at < 8) l = b.gradient<4>(loss, x.data() + 2 * at, y.data() + 3 * at);
      else l = b.gradient<2>(loss, x.data() + 2 * at, y.data() + 3 * at);
      if (epoch == 0) epoch1_loss += l * (at < 8 ? 4 : 2);
      std::copy(b.grads().begin(), b.grads().end(), g.begin());
      optim::clip_grad_norm(std::span<double>(g), 0.5);
      ob.step(b.params(), g, sched(t_step++));
    }
  for (std::size_t k = 0; k < Net::num_params; ++k)
    CHECK(a.params()[k] == doctest::Approx(b.params()[k]).epsilon(1e-12));
  CHECK(r.history[0].train_loss == doctest::Approx(epoch1_loss / 10).epsilon(1e-12));
  // Without the ragged batch's step (2 of 3 steps an epoch) the result would differ.
  CHECK(std::abs(a.params()[0] - Net(4).params()[0]) > 1e-6);
}

TEST_CASE("Trainer: schedule per epoch uses the epoch index") {
  const auto d = blobs(12, 3);
  Net net(4);
  optim::SGD<double> sgd(Net::num_params);
  auto o = quiet(3);
  o.schedule_unit = train::ScheduleUnit::epoch;
  const optim::ExponentialDecay s{0.1, 0.5};
  auto t = train::make_trainer<4>(net, sgd, s, o);
  const auto r = t.fit(loss, d);
  for (std::size_t e = 0; e < 3; ++e) CHECK(r.history[e].lr == s(e));
}

TEST_CASE("Trainer: stops on max_steps mid-epoch") {
  const auto d = blobs(40, 3);
  Net net(4);
  optim::SGD<double> sgd(Net::num_params, {0.1});
  auto o = quiet(10);
  o.max_steps = 13;  // 10 steps an epoch: stops 3 steps into epoch 2
  auto t = train::make_trainer<4>(net, sgd, o);
  const auto r = t.fit(loss, d);
  CHECK(r.stopped_by == train::StopCriterion::max_steps);
  CHECK(r.steps == 13);
  CHECK(r.epochs == 2);
  CHECK(sgd.step_count() == 13);
}

TEST_CASE("Trainer: gradient-norm criterion on the full training set (value checked against full_batch_gradient)") {
  const auto d = blobs(30, 3);
  Net net(4);
  optim::Adam<double> adam(Net::num_params, {0.05});
  auto o = quiet(200);
  o.grad_norm_tolerance = 0.05;
  auto t = train::make_trainer<8>(net, adam, o);
  const auto r = t.fit(loss, d);
  REQUIRE(r.stopped_by == train::StopCriterion::gradient_norm);
  CHECK(r.epochs < 200);
  CHECK(r.history.back().grad_norm < 0.05);
  CHECK(r.history[r.history.size() - 2].grad_norm >= 0.05);
  // The reported norm is the norm of the mean-loss gradient over all rows at the final parameters.
  std::vector<double> x, y(90, 0.0), g(Net::num_params);
  for (float v : d.features) x.push_back(v);
  for (std::size_t i = 0; i < 30; ++i) y[3 * i + static_cast<std::size_t>(d.labels[i])] = 1;
  net.gradient<30>(loss, x.data(), y.data());
  CHECK(optim::global_norm(net.grads()) == doctest::Approx(r.history.back().grad_norm).epsilon(1e-10));
}

TEST_CASE("Trainer: early stopping on a validation loss that only rises, best epoch restored") {
  // Validation = the training rows with their labels rotated: fitting train makes it worse.
  const auto tr = blobs(60, 3);
  auto va = tr;
  for (int& c : va.labels) c = (c + 1) % 3;
  auto o = quiet(50, 9);
  o.patience = 3;
  Net net(4), ref1(4);
  optim::Adam<double> a1(Net::num_params, {0.05}), a2(Net::num_params, {0.05});
  auto t = train::make_trainer<8>(net, a1, o);
  const auto r = t.fit(loss, tr, &va);
  REQUIRE(r.stopped_by == train::StopCriterion::early_stopping);
  CHECK(r.best_epoch == 1);
  CHECK(r.epochs == 4);  // epochs 2, 3, 4 without improvement
  CHECK(r.restored_best);
  CHECK(r.history[3].val_loss > r.history[0].val_loss);
  // The returned parameters are those after epoch 1 (an identical 1-epoch run)...
  auto o1 = quiet(1, 9);
  auto t1 = train::make_trainer<8>(ref1, a2, o1);
  t1.fit(loss, tr, &va);
  CHECK(params(net) == params(ref1));
  // ... and the reported validation figures are theirs.
  CHECK(t.evaluate(loss, va).loss == doctest::Approx(r.best_val_loss).epsilon(1e-12));
  CHECK(r.validation.loss == doctest::Approx(r.best_val_loss).epsilon(1e-12));
}

TEST_CASE("Trainer: with early stopping, the epoch limit also ends on the best epoch's parameters") {
  // The same rising validation loss, but the epoch limit (3) comes before patience (10) runs out.
  const auto tr = blobs(60, 3);
  auto va = tr;
  for (int& c : va.labels) c = (c + 1) % 3;
  auto o = quiet(3, 9);
  o.patience = 10;
  Net net(4), ref1(4);
  optim::Adam<double> a1(Net::num_params, {0.05}), a2(Net::num_params, {0.05});
  auto t = train::make_trainer<8>(net, a1, o);
  const auto r = t.fit(loss, tr, &va);
  REQUIRE(r.stopped_by == train::StopCriterion::max_epochs);
  CHECK(r.best_epoch == 1);
  CHECK(r.restored_best);
  CHECK(r.message == "ran the 3 epochs requested; the parameters of epoch 1 (best val loss " +
                         ctnn::text::number(r.history[0].val_loss) + ") restored");
  auto t1 = train::make_trainer<8>(ref1, a2, quiet(1, 9));
  t1.fit(loss, tr, &va);
  CHECK(params(net) == params(ref1));
  CHECK(r.validation.loss == doctest::Approx(r.best_val_loss).epsilon(1e-12));
  // restore_best = false keeps the last epoch's parameters.
  Net last(4);
  optim::Adam<double> a3(Net::num_params, {0.05});
  o.restore_best = false;
  auto t3 = train::make_trainer<8>(last, a3, o);
  const auto r3 = t3.fit(loss, tr, &va);
  CHECK_FALSE(r3.restored_best);
  CHECK(r3.validation.loss == doctest::Approx(r3.history[2].val_loss).epsilon(1e-12));
}

TEST_CASE("Trainer: a stop before an epoch's first step reports no epoch for it") {
  // An interrupt landing between epochs used to add a record (and a progress line and a log row)
  // with loss NaN and learning rate 0 for the epoch that never ran.
  const auto tr = blobs(40, 3);
  Net net(4);
  optim::Adam<double> adam(Net::num_params, {0.05});
  std::atomic<bool> stop{false};
  auto o = quiet(5);
  o.stop = &stop;
  o.on_epoch_end = [&](std::size_t epoch, std::size_t, const std::mt19937_64&) { stop = epoch == 2; };
  auto t = train::make_trainer<8>(net, adam, o);
  const auto r = t.fit(loss, tr);
  CHECK(r.stopped_by == train::StopCriterion::interrupted);
  CHECK(r.epochs == 2);
  CHECK(r.history.size() == 2);
  CHECK(r.steps == 10);
  CHECK(r.message == "interrupted in epoch 3 after 0 of 5 batches (that epoch abandoned)");
}

TEST_CASE("Trainer: validation_split holds out a seeded subset; early stopping without validation is refused") {
  const auto d = blobs(100, 3);
  Net net(4);
  optim::Adam<double> adam(Net::num_params);
  auto o = quiet(2);
  o.validation_split = 0.2;
  auto t = train::make_trainer<8>(net, adam, o);
  const auto r = t.fit(loss, d);
  CHECK(r.validation.confusion.total() == 20);
  CHECK(r.steps == 2 * 10);  // 80 training rows, B = 8
  // the same split with the caller's own early-stopping record: fit(loss, train, nullptr, &es)
  Net net2(4);
  optim::Adam<double> adam2(Net::num_params);
  auto o2 = o;
  o2.patience = 5;
  auto t3 = train::make_trainer<8>(net2, adam2, o2);
  train::EarlyStopping<double> es;
  const auto r3 = t3.fit(loss, d, nullptr, &es);
  CHECK(r3.validation.confusion.total() == 20);
  CHECK(es.best_epoch == r3.best_epoch);
  CHECK(es.best_epoch >= 1);
  auto bad = quiet(2);
  bad.patience = 2;
  auto t2 = train::make_trainer<8>(net, adam, bad);
  CHECK_THROWS_WITH_AS(t2.fit(loss, d), doctest::Contains("needs a validation set"), std::invalid_argument);
  auto wrong = d;
  wrong.labels[7] = 5;
  CHECK_THROWS_WITH_AS(t.fit(loss, wrong), doctest::Contains("row 7 has label 5"), std::invalid_argument);
}

TEST_CASE("Trainer: a resumed run with no epoch left, first_epoch 0 and epochs 0 are refused, untouched") {
  const auto d = blobs(40, 3);
  Net net(4);
  const auto before = params(net);
  optim::Adam<double> adam(Net::num_params);
  auto o = quiet(5);
  o.first_epoch = 6;  // a checkpoint of the finished run's last epoch, resumed with the same epochs
  auto t = train::make_trainer<8>(net, adam, o);
  CHECK_THROWS_WITH_AS(t.fit(loss, d),
                       "ctnn::train::Trainer: first_epoch 6 is after the last epoch, 5 (the run's epochs are all "
                       "done: raise epochs to go on)",
                       std::invalid_argument);
  o.first_epoch = 0;
  auto t0 = train::make_trainer<8>(net, adam, o);
  CHECK_THROWS_WITH_AS(t0.fit(loss, d), "ctnn::train::Trainer: first_epoch counts from 1", std::invalid_argument);
  auto none = quiet(0);
  auto tn = train::make_trainer<8>(net, adam, none);
  CHECK_THROWS_WITH_AS(tn.fit(loss, d), "ctnn::train::Trainer: epochs is 0: nothing to train", std::invalid_argument);
  CHECK(params(net) == before);
  CHECK(adam.step_count() == 0);
  o.first_epoch = 5;  // the last epoch is still to run: one epoch of 5 steps
  auto t5 = train::make_trainer<8>(net, adam, o);
  CHECK(t5.fit(loss, d).steps == 5);
}

TEST_CASE("Trainer: validation_split holds out the rows of train::hold_out (disjoint, sorted, seeded)") {
  ctnn::Random r1(11), r2(11), r3(12);
  const auto h = train::hold_out(100, 0.2, r1);
  CHECK(h.train.size() == 80);
  REQUIRE(h.validation.size() == 20);
  std::vector<int> seen(100, 0);
  for (auto i : h.train) ++seen[i];
  for (auto i : h.validation) ++seen[i];
  CHECK(std::count(seen.begin(), seen.end(), 1) == 100);
  CHECK(std::is_sorted(h.validation.begin(), h.validation.end()));
  CHECK(train::hold_out(100, 0.2, r2).validation == h.validation);
  CHECK(train::hold_out(100, 0.2, r3).validation != h.validation);
  CHECK(train::hold_out(7, 0.0, r3).validation.empty());
  CHECK_THROWS_AS(train::hold_out(7, 1.0, r3), std::invalid_argument);
  // The Trainer's split (seed 11): its final validation figures are those of these 20 rows.
  const auto d = blobs(100, 3);
  Net net(4);
  optim::Adam<double> adam(Net::num_params);
  auto o = quiet(3, 11);
  o.validation_split = 0.2;
  auto t = train::make_trainer<8>(net, adam, o);
  const auto r = t.fit(loss, d);
  const auto held = d.subset(h.validation);
  CHECK(t.evaluate(loss, held).loss == doctest::Approx(r.validation.loss).epsilon(1e-12));
  CHECK(t.evaluate(loss, held).confusion.total() == 20);
}

TEST_CASE("Trainer: a run resumed with its early-stopping record stops where the uninterrupted run does") {
  // Validation: wider blobs than the training set's -- its loss falls while the classes separate,
  // then rises as the network grows overconfident on the narrow training blobs.
  const auto tr = blobs(90, 5), va = blobs(150, 8, 1.5);
  auto o = quiet(60, 21);
  o.patience = 4;
  Net full(6);
  optim::Adam<double> a_full(Net::num_params, {0.005});
  auto t_full = train::make_trainer<8>(full, a_full, o);
  const auto r_full = t_full.fit(loss, tr, &va);
  REQUIRE(r_full.stopped_by == train::StopCriterion::early_stopping);
  REQUIRE(r_full.best_epoch > 1);
  REQUIRE(r_full.epochs == r_full.best_epoch + 4);
  MESSAGE("best epoch " << r_full.best_epoch << ", stopped after epoch " << r_full.epochs);

  // The same run cut after epoch k (best_epoch < k < the stop), its state saved in on_epoch_end.
  const std::size_t k = r_full.epochs - 1;
  struct Saved {
    std::vector<double> params, opt;
    std::uint64_t opt_steps = 0;
    std::size_t steps = 0;
    std::mt19937_64 rng;
    train::EarlyStopping<double> es;
  } saved;
  Net cut(6);
  optim::Adam<double> a_cut(Net::num_params, {0.005});
  train::EarlyStopping<double> es_cut;
  auto oc = o;
  oc.epochs = k;
  oc.on_epoch_end = [&](std::size_t, std::size_t steps, const std::mt19937_64& rng) {
    saved = {params(cut), {a_cut.state().begin(), a_cut.state().end()}, a_cut.step_count(), steps, rng, es_cut};
  };
  auto t_cut = train::make_trainer<8>(cut, a_cut, oc);
  const auto r_cut = t_cut.fit(loss, tr, &va, &es_cut);
  REQUIRE(r_cut.stopped_by == train::StopCriterion::max_epochs);
  CHECK(saved.es.best_epoch == r_full.best_epoch);
  CHECK(saved.es.wait == k - r_full.best_epoch);

  // Resumed into fresh objects from what was saved: the same stop, the same restored parameters.
  auto resume = [&](train::EarlyStopping<double>* es) {
    Net net(99);
    optim::Adam<double> adam(Net::num_params, {0.005});
    std::copy(saved.params.begin(), saved.params.end(), net.params().begin());
    std::copy(saved.opt.begin(), saved.opt.end(), adam.state().begin());
    adam.set_step_count(saved.opt_steps);
    auto orr = o;
    orr.first_epoch = k + 1;
    orr.first_step = saved.steps;
    orr.shuffle_state = saved.rng;
    auto t = train::make_trainer<8>(net, adam, orr);
    const auto r = t.fit(loss, tr, &va, es);
    return std::pair{r, params(net)};
  };
  auto es = saved.es;
  const auto [r_res, p_res] = resume(&es);
  CHECK(r_res.stopped_by == train::StopCriterion::early_stopping);
  CHECK(r_res.epochs == r_full.epochs);
  CHECK(r_res.best_epoch == r_full.best_epoch);
  CHECK(r_res.best_val_loss == r_full.best_val_loss);
  CHECK(p_res == params(full));
  // Without the record the resumed run knows no best epoch: it trains on past the stop.
  const auto [r_blind, p_blind] = resume(nullptr);
  CHECK(r_blind.epochs > r_full.epochs);
  CHECK(p_blind != params(full));
  // A record that does not fit the epoch resumed at is refused.
  auto wrong = saved.es;
  wrong.wait += 1;
  CHECK_THROWS_WITH_AS(resume(&wrong), doctest::Contains("do not add up"), std::invalid_argument);
}
