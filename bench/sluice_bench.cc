// sluice-bench: throughput of sluice's stages and pipelines beside their
// baselines and peers, measured in the same run.
//
//   sluice-bench [--json] [--filter TEXT] [--repetitions N] [--min-time S] [--smoke]
//
// Each result is the median over N repetitions (default 5); the table also
// shows the spread (min..max items/s). --json prints one object:
//   {"results":[{"name":…,"items_per_second":…,"bytes_per_second":…,
//                "baseline":<name or null>,"ratio_vs_baseline":<x or null>,
//                "min_items_per_second":…,"max_items_per_second":…
//                [,"counters":{<the benchmark's own counters, medians>}]}, …]}

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "bench/harness.h"
#include "benchmark/benchmark.h"

namespace {

struct Result {
  std::vector<double> items, bytes;
  std::map<std::string, std::vector<double>> counters;  // the benchmark's own
  std::string error;
};

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// Collects every repetition's rates per result name (the name given with
// ->Name(), without Google Benchmark's suffixes).
class CollectingReporter : public benchmark::BenchmarkReporter {
 public:
  bool ReportContext(const Context&) override { return true; }
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& run : runs) {
      if (run.run_type == Run::RT_Aggregate) continue;
      std::string name = run.run_name.function_name;
      if (order_.empty() || std::find(order_.begin(), order_.end(), name) == order_.end()) {
        order_.push_back(name);
      }
      Result& r = results_[name];
      // Progress on stderr: a full run takes minutes.
      std::fprintf(stderr, "  %s: %s\n", name.c_str(),
                   !run.error_occurred                            ? "done"
                   : sluice::bench::IsSkip(run.error_message) ? "skipped"
                                                              : "error");
      if (run.error_occurred) {
        r.error = run.error_message;
        continue;
      }
      auto it = run.counters.find("items_per_second");
      r.items.push_back(it == run.counters.end() ? 0.0 : double(it->second));
      auto bt = run.counters.find("bytes_per_second");
      r.bytes.push_back(bt == run.counters.end() ? 0.0 : double(bt->second));
      for (const auto& [cname, value] : run.counters) {
        if (cname != "items_per_second" && cname != "bytes_per_second") {
          r.counters[cname].push_back(double(value));
        }
      }
    }
  }
  const std::vector<std::string>& order() const { return order_; }
  const std::map<std::string, Result>& results() const { return results_; }

 private:
  std::vector<std::string> order_;
  std::map<std::string, Result> results_;
};

std::string RegexEscape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (std::strchr(".^$|()[]{}*+?\\", c)) out += '\\';
    out += c;
  }
  return out;
}

std::string JsonString(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
      continue;
    }
    out += c;
  }
  return out + "\"";
}

void Usage(FILE* f) {
  std::fprintf(f,
      "usage: sluice-bench [--json] [--filter TEXT] [--repetitions N] [--min-time S] [--smoke]\n"
      "  Runs sluice's throughput benchmarks beside their baselines in one process.\n"
      "  --json           print {\"results\":[...]} instead of a table\n"
      "  --filter TEXT    only results whose names contain TEXT (TEXT$: names ending in it)\n"
      "  --repetitions N  repetitions per result; the median is reported (default 5)\n"
      "  --min-time S     minimum seconds per repetition (default 0.2)\n"
      "  --smoke          one short repetition each (what ctest runs)\n"
      "  --list           list result names and exit\n");
}

}  // namespace

int main(int argc, char** argv) {
  bool json = false, smoke = false, list = false;
  std::string filter, reps = "5", min_time = "0.2";
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&](std::string* out) {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "sluice-bench: %s needs a value\n", a.c_str());
        Usage(stderr);
        std::exit(2);
      }
      *out = argv[++i];
    };
    if (a == "--json") json = true;
    else if (a == "--smoke") smoke = true;
    else if (a == "--list") list = true;
    else if (a == "--filter") value(&filter);
    else if (a == "--repetitions") value(&reps);
    else if (a == "--min-time") value(&min_time);
    else if (a == "--help" || a == "-h") { Usage(stdout); return 0; }
    else {
      std::fprintf(stderr, "sluice-bench: unknown argument '%s'\n", a.c_str());
      Usage(stderr);
      return 2;
    }
  }
  if (smoke) {
    reps = "1";
    min_time = "0.01";
  }
  std::vector<std::string> args = {argv[0], "--benchmark_repetitions=" + reps,
                                   "--benchmark_min_time=" + min_time};
  if (!filter.empty()) {
    // A trailing '$' asks for names that end with TEXT (one exact result).
    const bool anchored = filter.size() > 1 && filter.back() == '$';
    if (anchored) filter.pop_back();
    args.push_back("--benchmark_filter=" + RegexEscape(filter) + (anchored ? "/[a-z_]+$" : ""));
  }
  if (list) args.push_back("--benchmark_list_tests=true");
  std::vector<char*> cargs;
  for (auto& s : args) cargs.push_back(s.data());
  int cargc = static_cast<int>(cargs.size());
  benchmark::Initialize(&cargc, cargs.data());
  if (list) {
    benchmark::RunSpecifiedBenchmarks();
    return 0;
  }

  CollectingReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);

  const auto& results = reporter.results();
  auto items_of = [&](const std::string& name) -> double {
    auto it = results.find(name);
    return it == results.end() ? 0.0 : Median(it->second.items);
  };
  int errors = 0;
  if (json) {
    std::printf("{\"results\":[");
    bool first = true;
    for (const std::string& name : reporter.order()) {
      const Result& r = results.at(name);
      const auto& bl = sluice::bench::Baselines();
      auto b = bl.find(name);
      std::string baseline = "null", ratio = "null";
      if (b != bl.end()) {
        baseline = JsonString(b->second);
        double base = items_of(b->second);
        if (base > 0) ratio = std::to_string(Median(r.items) / base);
      }
      std::string counters;
      for (const auto& [cname, values] : r.counters) {
        counters += (counters.empty() ? ",\"counters\":{" : ",") + JsonString(cname) + ":" +
                    std::to_string(Median(values));
      }
      if (!counters.empty()) counters += "}";
      std::printf("%s\n{\"name\":%s,\"items_per_second\":%.1f,\"bytes_per_second\":%.1f,"
                  "\"baseline\":%s,\"ratio_vs_baseline\":%s,\"min_items_per_second\":%.1f,"
                  "\"max_items_per_second\":%.1f%s%s}",
                  first ? "" : ",", JsonString(name).c_str(), Median(r.items), Median(r.bytes),
                  baseline.c_str(), ratio.c_str(),
                  r.items.empty() ? 0.0 : *std::min_element(r.items.begin(), r.items.end()),
                  r.items.empty() ? 0.0 : *std::max_element(r.items.begin(), r.items.end()),
                  counters.c_str(),
                  r.error.empty() ? "" : (",\"error\":" + JsonString(r.error)).c_str());
      first = false;
      errors += !r.error.empty() && !sluice::bench::IsSkip(r.error);
    }
    std::printf("\n]}\n");
  } else {
    std::printf("%-48s %14s %12s %9s  %s\n", "result", "items/s", "MB/s", "ratio", "baseline [spread]");
    for (const std::string& name : reporter.order()) {
      const Result& r = results.at(name);
      if (sluice::bench::IsSkip(r.error)) {
        std::printf("%-48s %s\n", name.c_str(), r.error.c_str());
        continue;
      }
      if (!r.error.empty()) {
        std::printf("%-48s ERROR: %s\n", name.c_str(), r.error.c_str());
        ++errors;
        continue;
      }
      const auto& bl = sluice::bench::Baselines();
      auto b = bl.find(name);
      std::string ratio = "-", base = "";
      if (b != bl.end()) {
        double bv = items_of(b->second);
        if (bv > 0) {
          char buf[32];
          std::snprintf(buf, sizeof buf, "%.2fx", Median(r.items) / bv);
          ratio = buf;
        }
        base = b->second;
      }
      double lo = *std::min_element(r.items.begin(), r.items.end());
      double hi = *std::max_element(r.items.begin(), r.items.end());
      std::printf("%-48s %14.0f %12.1f %9s  %s [%.3g..%.3g]\n", name.c_str(), Median(r.items),
                  Median(r.bytes) / 1e6, ratio.c_str(), base.c_str(), lo, hi);
    }
  }
  benchmark::Shutdown();
  return errors ? 1 : 0;
}
