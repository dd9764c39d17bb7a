// bench/median_reporter.hpp: a console reporter that also keeps each benchmark's median CPU time
// (or its single run's, without repetitions) by name, so a benchmark program can print its ratios
// after the run. Shared by bench_per_sample, bench_runtime_tape and bench_compress.
#pragma once

#include <benchmark/benchmark.h>

#include <cstdlib>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace bench {

class MedianReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run& r : runs)
      if (r.aggregate_name == "median" || (r.run_type == Run::RT_Iteration && r.repetitions <= 1))
        time_[r.run_name.function_name] = r.GetAdjustedCPUTime();
  }
  /// The benchmark's median CPU time in ns; none when it did not run (filtered out).
  std::optional<double> time(const std::string& name) const {
    const auto it = time_.find(name);
    return it == time_.end() ? std::nullopt : std::optional<double>(it->second);
  }

 private:
  std::map<std::string, double> time_;
};

/// Google Benchmark's main with a MedianReporter; print(reporter) prints the ratios after the run.
template <class Print>
int run_with_medians(int argc, char** argv, Print print) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return EXIT_FAILURE;
  MedianReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  print(reporter);
  benchmark::Shutdown();
  return EXIT_SUCCESS;
}

}  // namespace bench
