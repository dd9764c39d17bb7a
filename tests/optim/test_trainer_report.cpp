// tests/optim/test_trainer_report.cpp: what the Trainer reports: metrics (confusion matrix,
// per-class precision and recall, accuracy), the NaN/Inf stop naming the step, the parameter
// block and the last finite loss, rollback to the last epoch's checkpoint, the progress output (a live bar only when asked for or on a terminal, plain lines
// otherwise) and the CSV and JSON run logs.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "ctnn/optim/optim.hpp"
#include "ctnn/train/trainer.hpp"
#include "temp_dir.hpp"
#include "trainer_data.hpp"

using namespace trainer_test;
namespace optim = ctnn::optim;
namespace train = ctnn::train;

namespace {
std::string slurp(std::FILE* f) {
  std::fflush(f);
  std::rewind(f);
  std::string s;
  char b[4096];
  for (std::size_t n; (n = std::fread(b, 1, sizeof b, f)) > 0;) s.append(b, n);
  return s;
}
std::string read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}
std::size_t count(const std::string& s, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t at = s.find(what); at != std::string::npos; at = s.find(what, at + 1)) ++n;
  return n;
}
}  // namespace

TEST_CASE("ConfusionMatrix: precision, recall, accuracy on a hand-counted case") {
  train::ConfusionMatrix m(3);
  // truth 0: 3 right, 1 as class 2; truth 1: 2 right; truth 2: 1 as class 0.
  for (int i = 0; i < 3; ++i) m.add(0, 0);
  m.add(0, 2);
  m.add(1, 1);
  m.add(1, 1);
  m.add(2, 0);
  CHECK(m.total() == 7);
  CHECK(m.accuracy() == doctest::Approx(5.0 / 7));
  CHECK(m.precision(0) == doctest::Approx(3.0 / 4));
  CHECK(m.recall(0) == doctest::Approx(3.0 / 4));
  CHECK(m.precision(1) == 1.0);
  CHECK(m.recall(2) == 0.0);
  CHECK(m.precision(2) == 0.0);
  CHECK(m(0, 2) == 1);
  train::ConfusionMatrix e(2);
  CHECK(std::isnan(e.precision(1)));
  CHECK_THROWS_AS(m.add(3, 0), std::out_of_range);
}

TEST_CASE("ConfusionMatrix::f1: 2 tp / (2 tp + fp + fn), 0 where precision and recall are 0 or undefined") {
  train::ConfusionMatrix m(3);
  // truth 0: 3 right, 1 as class 1; truth 1: 2 as class 0; truth 2: none, never predicted.
  for (int i = 0; i < 3; ++i) m.add(0, 0);
  m.add(0, 1);
  m.add(1, 0);
  m.add(1, 0);
  CHECK(m.f1(0) == doctest::Approx(2 * 0.6 * 0.75 / (0.6 + 0.75)));  // precision 3/5, recall 3/4
  // class 1: predicted once, wrongly; its samples all missed: precision and recall 0 (the old NaN)
  CHECK(m.precision(1) == 0.0);
  CHECK(m.recall(1) == 0.0);
  CHECK(m.f1(1) == 0.0);
  // class 2: neither present nor predicted (precision and recall undefined): 0, as zero_division=0
  CHECK(std::isnan(m.precision(2)));
  CHECK(m.f1(2) == 0.0);
  // a class never predicted but present: precision undefined, recall 0 -> 0
  train::ConfusionMatrix n(2);
  n.add(0, 1);
  n.add(1, 1);
  CHECK(std::isnan(n.precision(0)));
  CHECK(n.f1(0) == 0.0);
  CHECK(n.f1(1) == doctest::Approx(2.0 / 3));  // precision 1/2, recall 1
}

TEST_CASE("Trainer::evaluate: the confusion matrix and loss of the network's own predictions") {
  const auto d = blobs(23, 4);  // B = 8: two full chunks and 7 single rows
  Net net(5);
  optim::SGD<double> sgd(Net::num_params);
  auto t = train::make_trainer<8>(net, sgd);
  const auto e = t.evaluate(loss, d);
  train::ConfusionMatrix m(3);
  std::vector<double> x, y(69, 0.0);
  for (float v : d.features) x.push_back(v);
  for (std::size_t i = 0; i < 23; ++i) y[3 * i + static_cast<std::size_t>(d.labels[i])] = 1;
  for (std::size_t i = 0; i < 23; ++i) {
    const auto o = net.forward(std::array<double, 2>{x[2 * i], x[2 * i + 1]});
    m.add(static_cast<std::size_t>(d.labels[i]), static_cast<std::size_t>(std::max_element(o.begin(), o.end()) - o.begin()));
  }
  for (std::size_t a = 0; a < 3; ++a)
    for (std::size_t b = 0; b < 3; ++b) CHECK(e.confusion(a, b) == m(a, b));
  CHECK(e.loss == doctest::Approx(net.loss<23>(loss, x.data(), y.data())).epsilon(1e-12));
  // A loss that needs the parameters (an L2 term) is evaluated by forward passes of the network.
  const auto l2 = ctnn::loss::with_l2(loss, 0.1);
  const double with_penalty = t.evaluate(l2, d).loss;
  CHECK(with_penalty == doctest::Approx(net.loss<23>(l2, x.data(), y.data())).epsilon(1e-12));
  CHECK(with_penalty > e.loss + 1e-3);
}

TEST_CASE("Trainer: a NaN stops training with a message naming the step and the parameter block") {
  auto d = blobs(12, 3);
  d.features[2 * 9] = std::numeric_limits<float>::quiet_NaN();  // row 9: in the third batch of 4
  Net net(4);
  optim::Adam<double> adam(Net::num_params);
  train::TrainerOptions o;
  o.epochs = 5;
  o.shuffle = false;
  o.display = train::Display::none;
  auto t = train::make_trainer<4>(net, adam, o);
  const auto r = t.fit(loss, d);
  REQUIRE(r.stopped_by == train::StopCriterion::non_finite);
  CHECK(r.steps == 2);
  CHECK(r.epochs == 1);
  CHECK_MESSAGE(r.message.find("step 3 (epoch 1, batch 3/3)") != std::string::npos, r.message);
  CHECK_MESSAGE(r.message.find("block 0 = layer 0 W") != std::string::npos, r.message);
  for (double p : net.params()) CHECK(std::isfinite(p));  // the bad step was not applied

  // A non-finite value reaching only the last layer's bias block.
  Net n2(4);
  optim::SGD<double> sgd(Net::num_params);
  auto t2 = train::make_trainer<4>(n2, sgd, o);
  const auto inf_loss = [](auto p, auto y) { return ctnn::loss::softmax_cross_entropy(p, y) * 1e308 * 1e308; };
  const auto r2 = t2.fit(inf_loss, blobs(12, 3));
  REQUIRE(r2.stopped_by == train::StopCriterion::non_finite);
  CHECK_MESSAGE(r2.message.find("step 1 (epoch 1, batch 1/3)") != std::string::npos, r2.message);
  CHECK_MESSAGE(r2.message.find("loss inf") != std::string::npos, r2.message);
}

TEST_CASE("Trainer: parameters that overflow in an epoch's last step stop the run before its evaluation") {
  // One batch an epoch, SGD at lr 1e300 on a loss scaled by 1e10: loss and gradient are finite, the
  // update overflows. Nothing after that step would look at a loss again (one epoch), so the
  // parameters themselves are checked at the epoch's end: before, the run ended "max_epochs"
  // with inf weights and a NaN validation loss left out of the epoch line.
  const auto big = [](auto p, auto y) { return ctnn::loss::softmax_cross_entropy(p, y) * 1e10; };
  Net net(4);
  optim::SGD<double> sgd(Net::num_params, {1e300});
  train::TrainerOptions o;
  o.epochs = 1;
  o.shuffle = false;
  o.display = train::Display::none;
  const auto val = blobs(6, 4);
  const auto r = train::make_trainer<12>(net, sgd, o).fit(big, blobs(12, 3), &val);
  REQUIRE(r.stopped_by == train::StopCriterion::non_finite);
  CHECK(r.steps == 1);
  CHECK_MESSAGE(r.message.find("non-finite parameters after step 1 (epoch 1, its last batch): the update overflowed "
                               "although loss ") != std::string::npos,
                r.message);
  CHECK_MESSAGE(r.message.find("(lower the learning rate)") != std::string::npos, r.message);
  // With a finite learning rate the same run ends as planned.
  Net ok(4);
  optim::SGD<double> sgd_ok(Net::num_params, {1e-3});
  CHECK(train::make_trainer<12>(ok, sgd_ok, o).fit(big, blobs(12, 3)).stopped_by == train::StopCriterion::max_epochs);
}

TEST_CASE("Trainer: a non-finite validation loss is printed, logged and stops the run") {
  // A NaN feature in the validation set: training is finite, the validation loss is NaN (as when
  // the last updates overflow the outputs). The epoch line used to drop the validation part, the
  // CSV to leave the cell empty (as for "not evaluated"), and the run ended "max_epochs".
  auto va = blobs(6, 4);
  va.features[3] = std::numeric_limits<float>::quiet_NaN();
  const ctnn::test::TempDir dir("trainer-nan-val");
  std::FILE* f = std::tmpfile();
  REQUIRE(f);
  Net net(4);
  optim::SGD<double> sgd(Net::num_params, {1e-2});
  train::TrainerOptions o;
  o.epochs = 3;
  o.out = f;
  o.display = train::Display::lines;
  o.csv_path = dir / "run.csv";
  const auto r = train::make_trainer<4>(net, sgd, o).fit(loss, blobs(12, 3), &va);
  const std::string text = slurp(f);
  std::fclose(f);
  CHECK(r.stopped_by == train::StopCriterion::non_finite);
  CHECK_MESSAGE(r.message.find("the val loss is nan after epoch 1 although every training step's loss and gradient "
                               "were finite: the network's outputs overflow (largest |parameter| ") == 0,
                r.message);
  REQUIRE(r.history.size() == 1);
  CHECK(std::isnan(r.history[0].val_loss));
  CHECK_MESSAGE(text.find("nan  val_acc ") != std::string::npos, text);  // "nan" or "-nan", as printf has it
  const std::string log = read(dir / "run.csv");
  CHECK_MESSAGE(log.find("nan,") != std::string::npos, log);
  // With OnNonFinite::rollback it goes back to the last epoch's state as for a NaN step (here the
  // data stay bad, so every retry fails too, and the run ends after the rollbacks allowed).
  Net again(4);
  optim::SGD<double> sgd2(Net::num_params, {1e-2});
  o.on_non_finite = train::OnNonFinite::rollback;
  o.max_rollbacks = 2;
  o.csv_path.clear();
  o.display = train::Display::none;
  const auto r2 = train::make_trainer<4>(again, sgd2, o).fit(loss, blobs(12, 3), &va);
  CHECK(r2.stopped_by == train::StopCriterion::non_finite);
  CHECK(r2.rollbacks == 2);
  CHECK_MESSAGE(r2.message.find("(after 2 rollbacks)") != std::string::npos, r2.message);
}

TEST_CASE("Trainer: the non-finite message gives the last finite loss; rollback returns to the last checkpoint") {
  // A Softmax output with cross-entropy from probabilities and Adam at lr 64: the first steps
  // push the logits so far apart that a target probability underflows to 0 and its log is -inf.
  // The loss is written here without loss::cross_entropy's floor (which keeps it finite).
  using SoftNet = ctnn::Network<double, ctnn::Dense<2, 8>, ctnn::Tanh, ctnn::Dense<8, 3>, ctnn::Softmax>;
  const auto data = blobs(24, 3);
  const auto loss_p = [](auto p, auto y) {
    return -ctnn::ad::sum(ctnn::ad::log(ctnn::ad::row_sum(y * p))) * (1.0 / double(decltype(p)::rows));
  };
  train::TrainerOptions o;
  o.epochs = 6;
  o.display = train::Display::none;

  SoftNet stopped(5);
  optim::Adam<double> adam0(SoftNet::num_params, {64.0});
  const auto r0 = train::make_trainer<4>(stopped, adam0, o).fit(loss_p, data);
  REQUIRE(r0.stopped_by == train::StopCriterion::non_finite);
  REQUIRE(r0.epochs == 1);  // in the first epoch, so the last checkpoint is the start
  CHECK_MESSAGE(r0.message.find("; last finite loss ") != std::string::npos, r0.message);
  CHECK_MESSAGE(r0.message.find(" at step " + std::to_string(r0.steps)) != std::string::npos, r0.message);
  CHECK(r0.rollbacks == 0);

  // Rollback: back to the start (parameters, Adam's moments and step count, data order), the
  // learning rate x 1/512 = 0.125: from then on exactly the run that started at lr 0.125.
  std::FILE* f = std::tmpfile();
  REQUIRE(f);
  o.on_non_finite = train::OnNonFinite::rollback;
  o.rollback_lr_factor = 1.0 / 512;
  o.out = f;
  o.display = train::Display::lines;
  SoftNet rolled(5);
  optim::Adam<double> adam1(SoftNet::num_params, {64.0});
  const auto r1 = train::make_trainer<4>(rolled, adam1, o).fit(loss_p, data);
  const std::string text = slurp(f);
  std::fclose(f);
  CHECK(r1.rollbacks == 1);
  CHECK(r1.stopped_by == train::StopCriterion::max_epochs);
  CHECK(r1.epochs == 6);
  CHECK(r1.history.size() == 6);  // the abandoned epoch leaves no record
  CHECK_MESSAGE(text.find("rollback 1 of 3: non-finite value at step " + std::to_string(r0.steps + 1)) !=
                    std::string::npos, text);
  CHECK_MESSAGE(text.find("back to the end of epoch 0 (step 0), learning rate x0.00195312") != std::string::npos, text);

  o.on_non_finite = train::OnNonFinite::stop;
  o.display = train::Display::none;
  o.out = stdout;
  SoftNet direct(5);
  optim::Adam<double> adam2(SoftNet::num_params, {0.125});
  const auto r2 = train::make_trainer<4>(direct, adam2, o).fit(loss_p, data);
  REQUIRE(r2.stopped_by == train::StopCriterion::max_epochs);
  CHECK(r1.steps == r2.steps);
  CHECK(adam1.step_count() == adam2.step_count());
  for (std::size_t i = 0; i < SoftNet::num_params; ++i) CHECK(rolled.params()[i] == direct.params()[i]);

  // When every retry fails too (a NaN in the data), training stops after max_rollbacks.
  auto bad = blobs(12, 3);
  bad.features[2 * 9] = std::numeric_limits<float>::quiet_NaN();
  o.on_non_finite = train::OnNonFinite::rollback;
  o.max_rollbacks = 2;
  Net net(4);
  optim::SGD<double> sgd(Net::num_params);
  const auto r3 = train::make_trainer<4>(net, sgd, o).fit(loss, bad);
  CHECK(r3.stopped_by == train::StopCriterion::non_finite);
  CHECK(r3.rollbacks == 2);
  CHECK_MESSAGE(r3.message.find("(after 2 rollbacks)") != std::string::npos, r3.message);
  for (double p : net.params()) CHECK(std::isfinite(p));
}

TEST_CASE("Trainer: plain lines when not a terminal, the live bar when asked, CSV and JSON logs") {
  const auto tr = blobs(50, 3), va = blobs(21, 7);
  const ctnn::test::TempDir dir("trainer-report");  // removed at the end, also when a REQUIRE fails
  const std::string csv = dir / "run.csv", json = dir / "run.json";
  for (auto display : {train::Display::automatic, train::Display::bar}) {
    std::FILE* f = std::tmpfile();
    REQUIRE(f);
    Net net(4);
    optim::Adam<double> adam(Net::num_params, {0.02});
    train::TrainerOptions o;
    o.epochs = 3;
    o.out = f;
    o.display = display;
    o.csv_path = csv;
    o.json_path = json;
    auto t = train::make_trainer<8>(net, adam, optim::CosineAnnealing{0.02, 21}, o);
    const auto r = t.fit(loss, tr, &va);
    const std::string text = slurp(f);
    std::fclose(f);
    CHECK(count(text, "\n") == 4);  // 3 epoch lines and the stop line
    CHECK(count(text, "epoch 3/3  loss ") == 1);
    CHECK(text.find("val_acc") != std::string::npos);
    CHECK(text.find("stopped (max_epochs)") != std::string::npos);
    if (display == train::Display::automatic) {  // a file is not a terminal
      CHECK(text.find('\r') == std::string::npos);
      CHECK(text.find('[') == std::string::npos);
    } else {
      CHECK(text.find("\r\033[Kepoch 1/3 [") != std::string::npos);
      CHECK(text.find("7/7") != std::string::npos);  // the bar reaches the epoch's last step
    }
    // CSV: header and one row per epoch with the recorded figures.
    const std::string c = read(csv);
    CHECK(c.starts_with("epoch,steps,lr,train_loss,train_accuracy,val_loss,val_accuracy,grad_norm,seconds,cpu_seconds\n"));
    CHECK(count(c, "\n") == 4);
    CHECK(c.find("\n3,21,") != std::string::npos);
    // JSON: settings, epochs, result, the confusion matrix of the validation set.
    const auto j = nlohmann::json::parse(read(json));
    CHECK(j["settings"]["batch"] == 8);
    CHECK(j["epochs"].size() == 3);
    CHECK(j["format"] == "ctnn-run/2");
    CHECK(j["epochs"][2]["val_loss"].get<double>() == doctest::Approx(r.history[2].val_loss).epsilon(1e-15));
    CHECK(j["result"]["stopped_by"] == "max_epochs");
    std::size_t total = 0;
    CHECK(j["evaluation"]["set"] == "val");
    for (const auto& row : j["evaluation"]["confusion_matrix"])
      for (const auto& v : row) total += v.get<std::size_t>();
    CHECK(total == 21);
    CHECK(j["evaluation"]["per_class"].size() == 3);
  }
  // A run resumed after epoch 2 continues the CSV: rows 1 and 2 kept as they were, the first run's row 3
  // (logged after the checkpoint it resumes from) dropped, its own rows after them.
  {
    const std::string before = read(csv);
    const std::string rows12 = before.substr(0, before.find("\n3,") + 1);
    train::RunLog resumed(csv, "", 2);
    train::EpochRecord r3;
    r3.epoch = 3;
    r3.steps = 99;
    resumed.add(r3);
    const std::string after = read(csv);
    CHECK(after.starts_with(rows12));
    CHECK(after.substr(rows12.size()).starts_with("3,99,"));
    CHECK(count(after, "\n") == 4);
    CHECK(count(after, "epoch,steps") == 1);
    CHECK(!std::filesystem::exists(csv + ".ctnn-tmp"));  // the rewrite went through a temporary, now gone
  }
  {  // a file of another format, or none, starts afresh
    const std::string other = dir / "other.csv";
    std::ofstream(other) << "a,b\n1,2\n";
    train::RunLog fresh(other, "", 5);
    CHECK(read(other) == "epoch,steps,lr,train_loss,train_accuracy,val_loss,val_accuracy,grad_norm,seconds,cpu_seconds\n");
    train::RunLog missing(dir / "missing.csv", "", 5);
    CHECK(read(dir / "missing.csv") == read(other));
  }
  {  // the JSON log is probed at the start without truncating what is there (finish() replaces it)
    const std::string j = dir / "kept.json";
    std::ofstream(j) << "{\"old\": 1}\n";
    train::RunLog probe("", j);
    CHECK(read(j) == "{\"old\": 1}\n");
  }
  {  // the evaluated set's columns carry the name the progress lines give it (here the test set)
    const std::string c = dir / "test.csv", j = dir / "test.json";
    Net net(4);
    optim::Adam<double> adam(Net::num_params, {0.02});
    train::TrainerOptions o;
    o.epochs = 2;
    o.display = train::Display::none;
    o.csv_path = c;
    o.json_path = j;
    o.validation_name = "test";
    const auto r = train::make_trainer<8>(net, adam, o).fit(loss, tr, &va);
    CHECK(read(c).starts_with("epoch,steps,lr,train_loss,train_accuracy,test_loss,test_accuracy,grad_norm,"));
    const auto doc = nlohmann::json::parse(read(j));
    CHECK(doc["epochs"][1]["test_accuracy"].get<double>() == r.history[1].val_accuracy);
    CHECK(!doc["epochs"][1].contains("val_loss"));
    CHECK(doc["evaluation"]["set"] == "test");
    o.validation_name = "test set";  // a name that cannot be a column is refused before training
    CHECK_THROWS_WITH_AS(train::make_trainer<8>(net, adam, o).fit(loss, tr, &va),
                         doctest::Contains("\"test set\" names log columns"), std::invalid_argument);
    o.csv_path = o.json_path = "";  // without a log, any name does
    CHECK_NOTHROW(train::make_trainer<8>(net, adam, o).fit(loss, tr, &va));
  }
  train::TrainerOptions bad;
  bad.csv_path = dir / "no/such/dir.csv";
  bad.display = train::Display::none;
  Net net(4);
  optim::SGD<double> sgd(Net::num_params);
  auto t = train::make_trainer<8>(net, sgd, bad);
  CHECK_THROWS_WITH_AS(t.fit(loss, tr), doctest::Contains("no/such/dir.csv"), std::runtime_error);
}
