// src/cli/main.cpp: the ctnn command-line tool: `ctnn train`, `ctnn eval`, `ctnn predict`,
// `ctnn presets`. Parses the command line (CLI11), loads CSV or IDX data (io/), picks a compiled
// preset or a JSON topology (model.hpp), runs it, and maps every outcome to a documented exit
// code (settings.hpp, docs/cli.md). SIGINT/SIGTERM set a flag the training loop checks before each
// batch; the checkpoint of the last completed epoch stays valid (written atomically).
// Layer: tool (src/cli).
#include <algorithm>
#include <atomic>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <limits>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "cli/model.hpp"
#include "ctnn/core/text.hpp"
#include "ctnn/io/atomic_file.hpp"
#include "ctnn/io/csv.hpp"
#include "ctnn/io/idx.hpp"
#include "ctnn/io/weights.hpp"
#include "ctnn/nn/init.hpp"
#include "ctnn/train/labelled_data.hpp"
#if CTNN_CLI_MPI
#include "cli/dist_checkpoint.hpp"  // AgreedDataError
#include "ctnn/dist/mpi.hpp"
#endif

#ifndef CTNN_VERSION
#define CTNN_VERSION "unknown"
#endif
#ifndef CTNN_SOURCE_DATA_DIR
#define CTNN_SOURCE_DATA_DIR "data"
#endif

namespace {

using namespace ctnn;
using namespace ctnn::cli;

std::atomic<bool> g_stop{false};
static_assert(std::atomic<bool>::is_always_lock_free, "the signal handler needs a lock-free flag");

extern "C" void on_signal(int sig) {
  if (g_stop.exchange(true)) {  // a second signal: stop at once
    std::signal(sig, SIG_DFL);
    std::raise(sig);
  }
}

void install_signal_handlers() {
  struct sigaction sa = {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

/// Where the data comes from: a shipped dataset by name, CSV files, or IDX file pairs.
struct DataArgs {
  std::string dataset, data_dir, fashion_dir = "/usr/share/datasets/fashion-mnist", label_column = "label";
  std::string train_csv, test_csv;
  std::vector<std::string> train_idx, test_idx;
};

const char* const kCsvDatasets[] = {"digits", "iris", "wine", "breast_cancer"};

/// What `train --dataset NAME` runs with when --lr or --epochs is not given. Adam's usual 0.001 and 20
/// epochs fit Fashion-MNIST (1875 steps an epoch at batch 32); the small tables take few steps an epoch
/// (iris: 4) and at 0.001 iris ended at 20% test accuracy after 20 epochs. Measured over seeds 42, 1, 2
/// (docs/cli.md): 0.01 lifts digits, wine and breast_cancer too, and iris needs 50 epochs at it.
struct Recipe {
  const char* dataset;
  double lr;
  std::size_t epochs;
};
constexpr Recipe kRecipes[] = {
    {"fashion", 0.001, 20}, {"digits", 0.01, 20}, {"iris", 0.01, 50}, {"wine", 0.01, 20}, {"breast_cancer", 0.01, 20}};
const Recipe* recipe(const std::string& dataset) {
  for (const auto& r : kRecipes)
    if (dataset == r.dataset) return &r;
  return nullptr;
}
/// "0.01 for digits, iris, ...; 0.001 for fashion" (what --help says for --lr and --epochs).
template <class F>
std::string recipe_help(F value) {
  std::vector<std::pair<std::string, std::string>> groups;  // value, datasets, in table order
  for (const auto& r : kRecipes) {
    const std::string v = value(r);
    auto it = std::find_if(groups.begin(), groups.end(), [&](const auto& g) { return g.first == v; });
    if (it == groups.end()) groups.emplace_back(v, r.dataset);
    else it->second += std::string(", ") + r.dataset;
  }
  std::string s;
  for (const auto& [v, names] : groups) s += (s.empty() ? "" : "; ") + v + " for " + names;
  return s;
}

std::string default_data_dir() {
  if (const char* e = std::getenv("CTNN_DATA"); e && *e) return e;
  return CTNN_SOURCE_DATA_DIR;
}

struct Loaded {
  io::Dataset train, test;
  bool has_train = false, has_test = false;
  bool train_csv = false, test_csv = false;  // from a CSV file: data row i is line i + 2
  std::string train_name, test_name;
};

/// Loads what `need_train` / the test part ask for; a CSV file without a label column only when not
/// `need_labels` (predict). Throws io::DataError naming the file.
Loaded load_data(const DataArgs& a, bool need_train, bool need_labels = true) {
  Loaded d;
  const std::string dir = a.data_dir.empty() ? default_data_dir() : a.data_dir;
  if (!a.dataset.empty()) {
    // eval and predict read the test split only (a model file carries its standardisation).
    if (a.dataset == "fashion") {
      if (need_train) {
        auto tt = io::load_fashion_mnist(a.fashion_dir);
        d.train = std::move(tt.train);
        d.test = std::move(tt.test);
      } else {
        d.test = io::load_fashion_mnist_test(a.fashion_dir);
      }
      d.train_name = a.fashion_dir + " (train)";
      d.test_name = a.fashion_dir + " (t10k)";
    } else {
      d.train_name = dir + "/" + a.dataset + "_train.csv";
      d.test_name = dir + "/" + a.dataset + "_test.csv";
      if (need_train) d.train = io::load_csv(d.train_name, a.label_column);
      d.test = io::load_csv(d.test_name, a.label_column);
      d.train_csv = d.test_csv = true;
    }
    d.has_train = need_train;
    d.has_test = true;
    return d;
  }
  // One split from a CSV file or an IDX pair (whichever was given).
  auto load_split = [&](const std::string& csv, const std::vector<std::string>& idx, io::Dataset& out,
                        std::string& name, bool& is_csv) {
    is_csv = !csv.empty();
    if (is_csv) {
      out = need_labels ? io::load_csv(csv, a.label_column) : io::load_csv_unlabelled(csv, a.label_column);
      name = csv;
    } else if (!idx.empty()) {
      out = io::load_idx(idx[0], idx[1]);
      name = idx[0];
    }
    return !name.empty();
  };
  d.has_train = load_split(a.train_csv, a.train_idx, d.train, d.train_name, d.train_csv);
  d.has_test = load_split(a.test_csv, a.test_idx, d.test, d.test_name, d.test_csv);
  if (need_train && !d.has_train) throw CLI::RequiredError("--dataset, --train or --train-idx");
  return d;
}

/// The data has the network's feature count. Throws DataError naming the file; when a CSV file read
/// without a label column (predict) has one column more, that column may be the label under another name.
void check_features(const io::Dataset& d, const std::string& name, std::size_t inputs, const char* who, bool csv) {
  if (d.cols == inputs) return;
  std::string hint;
  if (csv && d.label_column == 0 && d.cols == inputs + 1)
    hint = " (is one of them the label? name its column with --label-column)";
  throw io::DataError(name + ": " + std::to_string(d.cols) + " feature columns, " + who + " takes " +
                          std::to_string(inputs) + hint,
                      name);
}

/// The data fits the network: the feature count and labels < the output count. Throws DataError,
/// naming the cell (file:line:column) and the label column of a CSV file (`label_column`; empty: IDX,
/// named by item).
void check_fits(const io::Dataset& d, const std::string& name, const Model& m, const std::string& label_column) {
  check_features(d, name, m.inputs(), "the network", !label_column.empty());
  for (std::size_t i = 0; i < d.rows; ++i)
    if (d.labels[i] < 0 || static_cast<std::size_t>(d.labels[i]) >= m.classes()) {
      // a CSV file's data row i is line i + 2 (a header row first; blank lines only at the end)
      const std::size_t line = label_column.empty() ? 0 : i + 2, col = label_column.empty() ? 0 : d.label_column;
      const std::string where = label_column.empty() ? name + ": item " + std::to_string(i) + " (0-based)"
                                                     : name + ":" + std::to_string(line) + ":" + std::to_string(col) +
                                                           " (column \"" + label_column + "\")";
      throw io::DataError(where + ": label " + std::to_string(d.labels[i]) + ", but the network has " +
                              std::to_string(m.classes()) + " classes (0.." + std::to_string(m.classes() - 1) + ")",
                          name, line, col);
    }
}

/// Saves the model file: io::save_model_json's format with the feature standardisation fitted on the
/// training data (io reads it back: io::load_model_json(..., io::with_standardizer)), and the tool's own
/// keys in "ctnn_tool": the preset and a topology's own loss (what eval reports).
void save_model(const std::string& path, Model& m, const std::string& preset, const io::Standardizer* st) {
  auto j = nlohmann::ordered_json::parse(io::model_json_text<float>(m.spec(), m.params(), path, st));
  auto& tool = j["ctnn_tool"];
  tool["preset"] = preset;
  if (const std::string loss = m.loss_json(); !loss.empty()) tool["loss"] = nlohmann::ordered_json::parse(loss);
  io::write_file_atomically(path, j.dump() + "\n");
}

/// A model file: its network (a preset when its topology is one, else a runtime network) loaded
/// and checked by io::load_model_json, and its standardisation.
struct LoadedModel {
  std::unique_ptr<Model> model;
  std::optional<io::Standardizer> standardize;
};

/// Everything about the file is read and checked by the io layer (io::read_model_info for the topology
/// and the tool's record, io::load_model_json for the weights and the standardisation): its messages,
/// JSON paths and line:column, are the ones docs/errors.md lists. Throws io::DataError.
LoadedModel load_model(const std::string& path) {
  const io::ModelFileInfo info = io::read_model_info(path);
  std::string loss_json;  // a topology's own loss (what eval reports); a preset's is softmax cross-entropy
  if (!info.tool.empty())
    if (const auto tool = nlohmann::json::parse(info.tool); tool.contains("loss")) loss_json = tool["loss"].dump();
  LoadedModel lm;
  for (const auto& p : presets()) {
    auto m = p.make(0);
    if (loss_json.empty() && m->spec().signature() == info.spec.signature()) {
      lm.model = std::move(m);
      break;
    }
  }
  if (!lm.model) {
    try {
      lm.model = make_runtime_model(info.spec, loss_json);
    } catch (const std::exception& e) {
      const std::string what = e.what();  // runtime_topology's and the loss's start with their JSON pointer
      throw io::DataError(path + (what.starts_with("/") ? ": " : ": /layers: ") + what, path);
    }
  }
  // Checked against the file's own topology: a runtime model built from it may drop layers that apply
  // nothing (an identity before another activation), which have no parameters; the Dense layers, and
  // so the parameters, are the same.
  if (info.spec.num_params() != lm.model->params().size())
    throw std::logic_error(path + ": the model built from the file has another parameter count");
  lm.standardize = io::load_model_json<float>(path, info.spec, lm.model->params(), io::with_standardizer);
  return lm;
}

void add_data_options(CLI::App& cmd, DataArgs& a, bool train) {
  std::string shipped = "fashion";
  for (const char* n : kCsvDatasets) shipped += std::string(", ") + n;
  cmd.add_option("--dataset", a.dataset, "a shipped dataset: " + shipped +
                                             (train ? " (its train and test split)" : " (its test split)"))
      ->check(CLI::IsMember({"digits", "iris", "wine", "breast_cancer", "fashion"}));
  cmd.add_option("--data-dir", a.data_dir, "where --dataset finds its CSV files (default: $CTNN_DATA, else the "
                                           "source tree's data/)");
  cmd.add_option("--fashion-dir", a.fashion_dir, "Fashion-MNIST's IDX directory for --dataset fashion")
      ->capture_default_str();
  cmd.add_option("--label-column", a.label_column, "the CSV column holding the 0-based class")->capture_default_str();
  if (train) {
    cmd.add_option("--train", a.train_csv, "training data, a CSV file (header row, numeric cells)");
    cmd.add_option("--train-idx", a.train_idx, "training data, IDX images and labels files (gzipped or not)")
        ->expected(2);
    cmd.add_option("--test", a.test_csv, "test data (CSV), evaluated after every epoch");
    cmd.add_option("--test-idx", a.test_idx, "test data, IDX images and labels files")->expected(2);
  } else {
    cmd.add_option("--data", a.test_csv, "the data, a CSV file (predict: the label column may be missing, and is ignored)");
    cmd.add_option("--data-idx", a.test_idx, "the data, IDX images and labels files")->expected(2);
  }
}

// ---- numeric flags: CLI11 checks with messages that name the bound and the value given ----------
/// A real-valued flag: a finite number in [lo, hi], an open end excluding the bound (hi infinite: no
/// upper bound). "--lr: must be > 0, got 0", "--lr: not a number: abc" (CLI11 prefixes the flag).
CLI::Validator real_in(double lo, bool lo_open, double hi = std::numeric_limits<double>::infinity(),
                       bool hi_open = true) {
  const std::string bound =
      std::isinf(hi) ? (lo_open ? "> " : ">= ") + text::number(lo)
                     : std::string("in ") + (lo_open ? "(" : "[") + text::number(lo) + ", " + text::number(hi) +
                           (hi_open ? ")" : "]");
  return CLI::Validator(
      [=](std::string& in) -> std::string {
        double v = 0;
        if (!CLI::detail::lexical_cast(in, v)) return "not a number: " + in;
        const bool ok = std::isfinite(v) && (lo_open ? v > lo : v >= lo) && (hi_open ? v < hi : v <= hi);
        return ok ? std::string() : "must be " + bound + ", got " + in;
      },
      "NUMBER " + bound);
}
/// A count flag: a whole number in [lo, hi] (hi the largest: no upper bound).
CLI::Validator count_in(std::uint64_t lo, std::uint64_t hi = std::numeric_limits<std::uint64_t>::max()) {
  const std::string bound = hi == std::numeric_limits<std::uint64_t>::max()
                                ? ">= " + std::to_string(lo)
                                : "in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]";
  return CLI::Validator(
      [=](std::string& in) -> std::string {
        std::int64_t negative = 0;  // (CLI11 reads "-1" as an unsigned 2^64 - 1)
        if (CLI::detail::lexical_cast(in, negative) && negative < 0) return "must be " + bound + ", got " + in;
        std::uint64_t v = 0;
        if (!CLI::detail::lexical_cast(in, v)) return "not a whole number: " + in;
        return v >= lo && v <= hi ? std::string() : "must be " + bound + ", got " + in;
      },
      "WHOLE NUMBER " + bound);
}

std::string percent(double fraction) {
  char b[32];
  std::snprintf(b, sizeof b, "%g%%", 100 * fraction);
  return b;
}

int report_error(const std::string& what, int code) {
  std::fprintf(stderr, "ctnn: error: %s\n", what.c_str());
  return code;
}

/// Edit distance (insertions, deletions, substitutions, adjacent swaps) between two short words.
std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
  for (std::size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (std::size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i)
    for (std::size_t j = 1; j <= b.size(); ++j) {
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] != b[j - 1])});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  return d[a.size()][b.size()];
}

/// The known word closest to `word` (at most 2 edits, or 1 for words of 4 letters or fewer), or "".
std::string closest(const std::string& word, const std::vector<std::string>& known) {
  std::string best;
  std::size_t best_d = word.size() <= 4 ? 2 : 3;
  for (const auto& k : known)
    if (const std::size_t d = edit_distance(word, k); d < best_d) best = k, best_d = d;
  return best;
}

/// What CLI11 says of a mistyped command or option ("A subcommand is required", "The following
/// arguments were not expected: 5 --epoch") names neither the word nor what was meant: this names
/// the first unknown command or option in argv and the closest known one. "" when there is none or
/// the error is another one (a bad value: CLI11's message names it).
std::string typo_hint(const CLI::App& app, const CLI::ParseError& e, int argc, char** argv) {
  const bool extras = dynamic_cast<const CLI::ExtrasError*>(&e) != nullptr;
  if (argc < 2 || !(extras || dynamic_cast<const CLI::RequiredError*>(&e) != nullptr)) return {};
  const std::string first = argv[1];
  std::vector<std::string> commands;
  const CLI::App* sub = nullptr;
  for (const CLI::App* s : app.get_subcommands([](const CLI::App*) { return true; })) {
    commands.push_back(s->get_name());
    if (s->get_name() == first) sub = s;
  }
  if (sub == nullptr) {
    if (first.starts_with("-")) return {};  // --help, --version, or an option before the command
    const std::string near = closest(first, commands);
    std::string all;
    for (const auto& c : commands) all += (all.empty() ? "" : ", ") + c;
    return "unknown command \"" + first + "\"" + (near.empty() ? "" : " (did you mean " + near + "?)") +
           "; the commands: " + all + " (ctnn --help)";
  }
  if (!extras) return {};
  std::vector<std::string> names;
  for (const CLI::Option* o : sub->get_options())
    for (const auto& n : o->get_lnames()) names.push_back("--" + n);
  for (int i = 2; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--") break;
    if (!a.starts_with("-") || a.size() < 2 || std::isdigit(static_cast<unsigned char>(a[1])) || a[1] == '.')
      continue;  // a value (negative numbers included)
    a = a.substr(0, a.find('='));
    if (std::find(names.begin(), names.end(), a) != names.end()) continue;
    if (a.size() == 2 && a[1] != '-') continue;  // a short flag (-h): CLI11's own message
    // "-lr": one dash where two belong
    const std::string as_long = a[1] == '-' ? a : "-" + a;
    const std::string near = std::find(names.begin(), names.end(), as_long) != names.end() ? as_long
                                                                                            : closest(as_long, names);
    return "unknown option " + std::string(argv[i]).substr(0, std::string(argv[i]).find('=')) + " for " +
           sub->get_name() + (near.empty() ? "" : " (did you mean " + near + "?)") + "; ctnn " + sub->get_name() +
           " --help lists them";
  }
  return {};
}

// With --data-parallel: this process's rank and the number of processes.
int g_rank = 0, g_processes = 1;
/// An error every process threw together (dist::AgreedError: a checkpoint or data check they agreed
/// on): printed once, by the failing process (its message is the failure's own), naming it when it is
/// not process 0; the others exit quietly with the same code.
[[maybe_unused]] int report_agreed(const std::string& what, int failing_rank, int code) {
  if (g_rank != failing_rank) return code;
  return report_error(failing_rank == 0 ? what
                                        : "process " + std::to_string(failing_rank) + " of " +
                                              std::to_string(g_processes) + ": " + what,
                      code);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("ctnn: train, evaluate and apply ctnn networks on CSV or IDX data.", "ctnn");
  app.set_version_flag("--version", std::string("ctnn ") + CTNN_VERSION);
  app.require_subcommand(1);
  app.footer(
      "Exit codes: 0 success; 1 other failure (e.g. a write error); 2 usage error (bad flags); 3 bad input file "
      "(data, model, topology or checkpoint missing or malformed; the message names the file and the place); 4 "
      "training diverged (NaN/Inf); 130 interrupted by SIGINT/SIGTERM (the checkpoint holds the last completed "
      "epoch). See docs/cli.md.");

  // ---- train -----------------------------------------------------------------------------------
  TrainSettings ts;
  DataArgs train_data;
  std::string preset, topology, progress = "auto";
  bool no_standardize = false;
  auto* train = app.add_subcommand("train", "train a network (a preset or a JSON topology)");
  train->add_option("--preset", preset, "a compiled topology (see `ctnn presets`); default: the --dataset's");
  train->add_option("--topology", topology,
                    "a JSON topology {\"layer_sizes\": [...], \"activations\": [...], \"loss\"?: ...}, run on the "
                    "runtime tape")
      ->excludes("--preset");
  add_data_options(*train, train_data, true);
  train->add_option("--optimizer", ts.optimizer.name, "sgd, momentum, nesterov, adagrad, rmsprop, adam, adamw")
      ->check(CLI::IsMember({"sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw"}))
      ->capture_default_str();
  train->add_option("--lr", ts.optimizer.lr,
                    "learning rate; with --dataset, when not given: " +
                        recipe_help([](const Recipe& r) { return text::number(r.lr); }))
      ->check(real_in(0, true))
      ->capture_default_str();
  train->add_option("--momentum", ts.optimizer.momentum,
                    "momentum/nesterov's mu (default 0.9), rmsprop's momentum (default 0)")
      ->check(real_in(0, false, 1, true));
  train->add_option("--weight-decay", ts.optimizer.weight_decay, "L2 weight decay (decoupled for adamw)")
      ->check(real_in(0, false))
      ->capture_default_str();
  train->add_option("--beta1", ts.optimizer.beta1, "adam/adamw")->check(real_in(0, false, 1, true))->capture_default_str();
  train->add_option("--beta2", ts.optimizer.beta2, "adam/adamw")->check(real_in(0, false, 1, true))->capture_default_str();
  train->add_option("--eps", ts.optimizer.eps, "adam/adamw/rmsprop")->check(real_in(0, true))->capture_default_str();
  train->add_option("--schedule", ts.schedule.name, "learning-rate schedule over epochs: none, step, exp, cosine")
      ->check(CLI::IsMember({"none", "step", "exp", "cosine"}))
      ->capture_default_str();
  train->add_option("--step-size", ts.schedule.step_size, "step: epochs between decays")
      ->check(count_in(1))
      ->capture_default_str();
  train->add_option("--gamma", ts.schedule.gamma, "step, exp: decay factor")->check(real_in(0, true))->capture_default_str();
  train->add_option("--t-max", ts.schedule.t_max, "cosine: epochs to anneal over (0: all)")
      ->check(count_in(0))
      ->capture_default_str();
  train->add_option("--eta-min", ts.schedule.eta_min, "cosine: final learning rate")
      ->check(real_in(0, false))
      ->capture_default_str();
  train->add_option("--epochs", ts.epochs,
                    "epochs to train (in all, counting those of a resumed checkpoint); with --dataset, when not "
                    "given: " + recipe_help([](const Recipe& r) { return std::to_string(r.epochs); }))
      ->check(count_in(1, 1000000))
      ->capture_default_str();
  train->add_option("--batch", ts.batch, "mini-batch size (presets: 32 or 64; a JSON topology: any)")
      ->check(count_in(1, std::uint64_t{1} << 20))
      ->capture_default_str();
  train->add_option("--seed", ts.seed, "initialisation and shuffling seed")
      ->check(count_in(0))
      ->capture_default_str();
  train->add_option("--checkpoint", ts.checkpoint, "write a checkpoint here after every epoch (atomically)");
  train->add_option("--resume", ts.resume, "continue from this checkpoint (same data, topology and flags)");
  train->add_option("--log", ts.log, "CSV run log, one row per epoch");
  train->add_option("--save", ts.save, "save the trained model (JSON, with the standardisation) for eval/predict");
  train->add_option("--progress", progress, "auto (a bar on a terminal, lines otherwise), bar, lines, none")
      ->check(CLI::IsMember({"auto", "bar", "lines", "none"}))
      ->capture_default_str();
  train->add_option("--clip-norm", ts.clip_norm,
                    "clip the gradient's global L2 norm to this before each step (PyTorch's clip_grad_norm_; 0: off)")
      ->check(real_in(0, false))
      ->capture_default_str();
  train->add_option("--clip-value", ts.clip_value,
                    "clamp every gradient entry to [-v, v] before each step, after --clip-norm (PyTorch's "
                    "clip_grad_value_; 0: off)")
      ->check(real_in(0, false))
      ->capture_default_str();
  train->add_option("--max-steps", ts.max_steps,
                    "stop after this many optimiser steps in all, counting a resumed checkpoint's (0: no limit)")
      ->check(count_in(0))
      ->capture_default_str();
  train->add_option("--grad-norm-tol", ts.grad_norm_tol,
                    "stop when the gradient norm of the mean loss over the whole training set, computed after each "
                    "epoch (one more pass), is below this (0: off)")
      ->check(real_in(0, false))
      ->capture_default_str();
  train->add_option("--validation-split", ts.validation_split,
                    "hold out this fraction of the training rows (seeded by --seed) and evaluate them after every "
                    "epoch instead of the test set, which is then evaluated once, after training (0: none)")
      ->check(real_in(0, false, 0.9, false))
      ->capture_default_str();
  auto* patience = train->add_option("--patience", ts.patience,
                                     "early stopping: stop when the --validation-split rows' loss has not improved "
                                     "for this many epochs; the run ends on the best epoch's parameters, whatever "
                                     "ends it (0: off)")
                       ->check(count_in(0))
                       ->capture_default_str();
  train->add_option("--min-delta", ts.min_delta, "--patience: an improvement must lower the loss by more than this")
      ->check(real_in(0, false))
      ->capture_default_str()
      ->needs(patience);
  std::string on_nan = "stop";
  train->add_option("--on-nan", on_nan,
                    "on a NaN/Inf loss or gradient: stop (exit code 4), or rollback to the last completed epoch's "
                    "state (what --checkpoint holds) with the learning rate halved, at most 3 times")
      ->check(CLI::IsMember({"stop", "rollback"}))
      ->capture_default_str();
  auto* data_parallel = train->add_flag(
      "--data-parallel", ts.dist.on,
      "train over the MPI processes the tool was started as (mpiexec -n N ctnn train ...): each step every process "
      "takes --batch rows of one global batch and the gradients are averaged; process 0 prints, logs and saves");
  train->add_option("--compress", ts.dist.compress,
                    "--data-parallel: how gradients travel: none (allreduce), top-k (each process's largest entries "
                    "with their indices), sign (one bit per entry and one scale)")
      ->check(CLI::IsMember({"none", "top-k", "sign"}))
      ->capture_default_str()
      ->needs(data_parallel);
  train->add_option("--compress-ratio", ts.dist.ratio, "--compress top-k: the fraction of entries sent per step")
      ->check(real_in(1e-6, false, 1, false))
      ->capture_default_str()
      ->needs(data_parallel);
  bool no_error_feedback = false;
  train->add_flag("--no-error-feedback", no_error_feedback,
                  "--compress top-k or sign: drop what a step does not send (default: add it to the next steps)")
      ->needs(data_parallel);
  train->add_flag("--no-standardize", no_standardize,
                  "do not standardise features (default: per-column mean 0, variance 1 from the training data)");

  // ---- eval / predict ---------------------------------------------------------------------------
  std::string eval_model, predict_model, predict_out;
  DataArgs eval_data, predict_data;
  auto* eval = app.add_subcommand("eval", "evaluate a saved model on labelled data: loss, accuracy, confusion");
  eval->add_option("--model", eval_model, "a model saved by `ctnn train --save`")->required();
  add_data_options(*eval, eval_data, false);
  auto* predict = app.add_subcommand("predict", "write a saved model's predictions as CSV: class,p_0,...,p_K-1");
  predict->add_option("--model", predict_model, "a model saved by `ctnn train --save`")->required();
  add_data_options(*predict, predict_data, false);
  predict->add_option("--out", predict_out, "write the CSV here (atomically) instead of stdout");
  auto* list = app.add_subcommand("presets", "list the compiled presets");

  try {
    app.parse(argc, argv);
    if (train->parsed()) {
      if (preset.empty() && topology.empty()) {
        if (train_data.dataset.empty()) throw CLI::RequiredError("--preset or --topology (or --dataset)");
        preset = train_data.dataset;
      }
      const int given = !train_data.dataset.empty() + !train_data.train_csv.empty() + !train_data.train_idx.empty();
      if (given != 1) throw CLI::ValidationError("data", "give exactly one of --dataset, --train, --train-idx");
      if (const Recipe* r = recipe(train_data.dataset)) {
        if (train->count("--lr") == 0) ts.optimizer.lr = r->lr;
        if (train->count("--epochs") == 0) ts.epochs = r->epochs;
      }
      if (!train_data.test_csv.empty() && !train_data.test_idx.empty())
        throw CLI::ValidationError("data", "give --test or --test-idx, not both");
      if (ts.patience > 0 && ts.validation_split == 0)
        throw CLI::ValidationError("--patience", "needs --validation-split F: early stopping picks its epoch on rows "
                                                 "held out of the training set, never on the test set");
      // A flag the chosen optimiser or schedule does not read would be ignored: refused instead.
      const auto used_by = [&](const char* flag, std::initializer_list<std::string_view> names, const std::string& chosen,
                               const char* option) {
        if (train->count(flag) == 0 || std::find(names.begin(), names.end(), chosen) != names.end()) return;
        std::string list;
        for (const auto n : names) list += (list.empty() ? "" : ", ") + std::string(n);
        throw CLI::ValidationError(flag, "not used by " + std::string(option) + " " + chosen + " (for " + list + ")");
      };
      used_by("--momentum", {"momentum", "nesterov", "rmsprop"}, ts.optimizer.name, "--optimizer");
      used_by("--beta1", {"adam", "adamw"}, ts.optimizer.name, "--optimizer");
      used_by("--beta2", {"adam", "adamw"}, ts.optimizer.name, "--optimizer");
      used_by("--eps", {"rmsprop", "adam", "adamw"}, ts.optimizer.name, "--optimizer");
      used_by("--step-size", {"step"}, ts.schedule.name, "--schedule");
      used_by("--gamma", {"step", "exp"}, ts.schedule.name, "--schedule");
      used_by("--t-max", {"cosine"}, ts.schedule.name, "--schedule");
      used_by("--eta-min", {"cosine"}, ts.schedule.name, "--schedule");
      // RMSProp is plain RMSProp unless --momentum is given (PyTorch's default; 0.9 is SGD momentum's).
      if (ts.optimizer.name == "rmsprop" && train->count("--momentum") == 0) ts.optimizer.momentum = 0;
      if (ts.optimizer.name == "nesterov" && !(ts.optimizer.momentum > 0))
        throw CLI::ValidationError("--momentum", "--optimizer nesterov needs a momentum > 0, got " +
                                                     text::number(ts.optimizer.momentum));
#if !CTNN_CLI_MPI
      if (ts.dist.on)
        throw CLI::ValidationError("--data-parallel", "this ctnn was built without MPI (install libmpich-dev, reconfigure)");
#endif
      ts.dist.error_feedback = !no_error_feedback;
    } else if (eval->parsed() || predict->parsed()) {
      const auto& a = eval->parsed() ? eval_data : predict_data;
      const int given = !a.dataset.empty() + !a.test_csv.empty() + !a.test_idx.empty();
      if (given != 1) throw CLI::ValidationError("data", "give exactly one of --dataset, --data, --data-idx");
    }
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    if (const std::string hint = typo_hint(app, e, argc, argv); !hint.empty()) return report_error(hint, exit_usage);
    app.exit(e);  // prints the message and a hint
    return exit_usage;
  }

  try {
    if (list->parsed()) {
      for (const auto& p : presets()) std::printf("%-14s %s\n", p.name, p.description);
      return exit_ok;
    }
    if (train->parsed()) {
      // --data-parallel: MPI for the rest of the run; process 0 alone prints, logs and saves.
      bool lead = true;
      int processes = 1;
#if CTNN_CLI_MPI
      std::optional<dist::Session> mpi;
      if (ts.dist.on) {
        mpi.emplace(argc, argv);
        const dist::Comm comm;
        lead = comm.rank() == 0;
        processes = comm.size();
        g_rank = comm.rank();
        g_processes = processes;
      }
#endif
      // The set-up (model, files, data) can fail on one process or on all. With --data-parallel
      // the processes agree before training: the lowest failing one prints its error, the others
      // stay quiet, and all exit with its code (none is left waiting in a collective).
      std::unique_ptr<Model> model;
      Loaded d;
      io::Dataset val;
      bool has_val = false;
      std::optional<io::Standardizer> st;
      int setup_code = exit_ok;
      std::string setup_error;
      const auto fail = [&](std::string what, int code) {
        setup_error = std::move(what);
        setup_code = code;
      };
      try {
        [&] {
          if (!topology.empty()) {
            model = make_runtime_model(topology, ts.seed);
          } else {
            for (const auto& p : presets())
              if (preset == p.name) model = p.make(ts.seed);
            if (!model) {
              std::string names;
              for (const auto& p : presets()) names += std::string(names.empty() ? "" : ", ") + p.name;
              return fail("--preset: unknown preset \"" + preset + "\" (" + names + ")", exit_usage);
            }
          }
          if (!model->supports_batch(ts.batch))
            return fail("--batch " + std::to_string(ts.batch) + ": this preset is compiled for batch sizes " +
                            model->batch_sizes() + " (a --topology JSON network takes any)",
                        exit_usage);
          // The files written after training (and the first checkpoint) are checked before it: an
          // unwritable --save must not cost the run. With --data-parallel process 0 writes.
          for (const auto* path : {&ts.save, &ts.checkpoint, &ts.log})
            if (lead && !path->empty()) io::check_writable(*path);
          d = load_data(train_data, true);
          check_fits(d.train, d.train_name, *model, d.train_csv ? train_data.label_column : "");
          if (d.has_test) check_fits(d.test, d.test_name, *model, d.test_csv ? train_data.label_column : "");
          // --validation-split: the rows train::hold_out picks (what the Trainer's validation_split holds
          // out for this seed), before the standardisation, which is fitted on the rows trained on.
          has_val = ts.validation_split > 0;
          if (has_val) {
            Random split_rng(ts.seed);
            const auto h = train::hold_out(d.train.rows, ts.validation_split, split_rng);
            if (h.validation.empty() || h.train.empty()) {
              char what[160];
              std::snprintf(what, sizeof what, "--validation-split %g of %zu training rows leaves no %s rows",
                            ts.validation_split, d.train.rows, h.validation.empty() ? "validation" : "training");
              return fail(what, exit_usage);
            }
            val = d.train.subset(h.validation);
            d.train = d.train.subset(h.train);
            ts.monitor_name = "val";
          }
          if (ts.dist.on && d.train.rows < ts.batch * static_cast<std::size_t>(processes))
            return fail("--batch " + std::to_string(ts.batch) + " x " + std::to_string(processes) +
                            " processes = " + std::to_string(ts.batch * static_cast<std::size_t>(processes)) +
                            " rows per step, more than the " + std::to_string(d.train.rows) +
                            " training rows: give a smaller --batch or fewer processes",
                        exit_usage);
        }();
      } catch (const CLI::ParseError& e) {
        fail(e.what(), exit_usage);
      } catch (const io::DataError& e) {
        fail(e.what(), exit_bad_input);
      } catch (const std::exception& e) {  // io::WriteError included: the destination, a failure (1)
        fail(e.what(), exit_failure);
      }
#if CTNN_CLI_MPI
      if (mpi) {
        const dist::Comm comm;
        const int first = comm.lowest_rank_where(setup_code != exit_ok);
        if (first < processes) {  // (process 0 failing covers the files only it writes)
          int code = setup_code;
          comm.broadcast(std::span<int>(&code, 1), first);
          if (comm.rank() == first)
            report_error(first == 0 ? setup_error
                                    : "process " + std::to_string(first) + " of " + std::to_string(processes) +
                                          " (process 0 had no error): " + setup_error,
                         code);
          return code;
        }
      }
#endif
      if (setup_code != exit_ok) return report_error(setup_error, setup_code);
      ts.standardize = !no_standardize;
      if (!no_standardize) {
        st = io::Standardizer::fit(d.train);
        st->apply(d.train);
        if (has_val) st->apply(val);
        if (d.has_test) st->apply(d.test);
      }
      ts.rollback_on_nan = on_nan == "rollback";
      ts.display = progress == "bar" ? train::Display::bar
                   : progress == "lines" ? train::Display::lines
                   : progress == "none" ? train::Display::none
                                        : train::Display::automatic;
      ts.stop = &g_stop;
      install_signal_handlers();
      if (lead) {
        std::printf("ctnn train: %s, %zu training rows%s%s, %s lr %g, schedule %s, batch %zu, %zu epochs, seed %llu%s\n",
                    topology.empty() ? ("preset " + preset).c_str() : topology.c_str(), d.train.rows,
                    has_val ? (", " + std::to_string(val.rows) + " held out for validation").c_str() : "",
                    d.has_test ? (", " + std::to_string(d.test.rows) + " test rows").c_str() : "",
                    ts.optimizer.name.c_str(), ts.optimizer.lr, ts.schedule.name.c_str(), ts.batch, ts.epochs,
                    static_cast<unsigned long long>(ts.seed), ts.resume.empty() ? "" : (", resuming " + ts.resume).c_str());
        if (ts.dist.on)
          std::printf("data-parallel: %d %s x %zu rows per step, gradients %s%s\n", processes,
                      processes == 1 ? "process" : "processes", ts.batch,
                      ts.dist.compress == "none"  ? "averaged by allreduce"
                      : ts.dist.compress == "sign" ? "sent as signs and a scale"
                                                   : ("top-k, " + percent(ts.dist.ratio) + " of the entries").c_str(),
                      ts.dist.compress == "none" ? "" : ts.dist.error_feedback ? ", with error feedback" : ", no error feedback");
        std::fflush(stdout);
      }
      const io::Dataset* monitor = has_val ? &val : d.has_test ? &d.test : nullptr;
      const TrainReport r = ts.dist.on ? model->train_data_parallel(ts, d.train, monitor)
                                       : model->train(ts, d.train, monitor);
      if (r.exit == exit_interrupted) {
        if (lead)
          std::fprintf(stderr, "ctnn: interrupted%s\n",
                       ts.checkpoint.empty() ? " (no --checkpoint: nothing saved)"
                       : r.epochs ? ("; " + ts.checkpoint + " holds epoch " + std::to_string(r.epochs) +
                                     ": continue with --resume " + ts.checkpoint).c_str()
                                  : "; no epoch was completed, no checkpoint written");
        return exit_interrupted;
      }
      if (r.exit == exit_diverged)  // (with --data-parallel every process has the same message: one prints it)
        return lead ? report_error("training diverged: " + r.message + " (try a smaller --lr)", exit_diverged)
                    : exit_diverged;
      if (r.kept_epoch && lead)  // --patience: whatever ended the run, it ends on the best epoch's parameters
        std::printf("kept the parameters of epoch %zu, the lowest %s_loss (%s)%s\n", r.kept_epoch,
                    ts.monitor_name.c_str(), text::number(r.kept_loss).c_str(),
                    ts.save.empty() ? "" : (": " + ts.save + " holds them").c_str());
      if (!ts.save.empty() && lead) save_model(ts.save, *model, topology.empty() ? preset : "", st ? &*st : nullptr);
      if (has_val && lead) std::printf("val accuracy %.4f\n", r.monitored_accuracy);
      if (d.has_test && lead)  // with --validation-split the test set's only evaluation is this one
        std::printf("test accuracy %.4f\n", has_val ? model->evaluate(d.test).accuracy() : r.monitored_accuracy);
      return exit_ok;
    }
    // eval / predict
    const bool is_eval = eval->parsed();
    const DataArgs& a = is_eval ? eval_data : predict_data;
    LoadedModel lm = load_model(is_eval ? eval_model : predict_model);
    if (!is_eval && !predict_out.empty()) io::check_writable(predict_out);
    Loaded d = load_data(a, false, is_eval);
    io::Dataset& data = d.test;
    const std::string& name = d.test_name;
    check_features(data, name, lm.model->inputs(), "the model", d.test_csv);
    if (lm.standardize) lm.standardize->apply(data);
    if (is_eval) {
      check_fits(data, name, *lm.model, d.test_csv ? a.label_column : "");
      const auto e = lm.model->evaluate(data);
      e.confusion.print(stdout);
      std::printf("loss %.6f\naccuracy %.4f\n", e.loss, e.accuracy());
      return exit_ok;
    }
    const auto p = lm.model->predict(data);
    const std::size_t K = lm.model->classes();
    std::ostringstream csv;
    csv << "class";
    for (std::size_t k = 0; k < K; ++k) csv << ",p_" << k;
    csv << "\n";
    char cell[32];
    for (std::size_t i = 0; i < data.rows; ++i) {
      const float* row = p.data() + i * K;
      csv << (std::max_element(row, row + K) - row);
      for (std::size_t k = 0; k < K; ++k) {
        std::snprintf(cell, sizeof cell, ",%.6g", static_cast<double>(row[k]));
        csv << cell;
      }
      csv << "\n";
    }
    if (predict_out.empty()) std::fputs(csv.str().c_str(), stdout);
    else io::write_file_atomically(predict_out, csv.str());
    return exit_ok;
  } catch (const CLI::ParseError& e) {
    return report_error(e.what(), exit_usage);
#if CTNN_CLI_MPI
  } catch (const AgreedDataError& e) {  // a checkpoint every process refused together
    return report_agreed(e.what(), e.failing_rank, exit_bad_input);
  } catch (const dist::AgreedError& e) {  // the engine's checks of the data and settings, agreed likewise
    return report_agreed(e.what(), e.failing_rank(), exit_failure);
#endif
  } catch (const io::DataError& e) {
    return report_error(e.what(), exit_bad_input);
  } catch (const io::WriteError& e) {  // the destination, not the input: a failure (1), as documented
    return report_error(e.what(), exit_failure);
  } catch (const std::exception& e) {
    return report_error(e.what(), exit_failure);
  }
}
