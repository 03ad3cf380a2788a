// A small registry for GET /metrics (docs/server.md, "Metrics"): counters, gauges and
// fixed-bucket histograms, and their rendering in Prometheus' text exposition format 0.0.4.
// No dependency: the server needs a few dozen series, not a client library.
//
// Invariants:
//  1. Memory is fixed at construction: a labelled counter's label values are a closed list
//     (error codes, outcomes) given then; a value not in it counts under "other".
//  2. A histogram's buckets are cumulative when rendered, end with le="+Inf", and that
//     bucket equals its _count.
//
// Thread safety: add(), set(), observe() from any thread, lock-free (relaxed atomics: each
// value is exact, but a scrape sees each at its own moment, not all at one). Exposition is
// used by one thread at a time.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sync_server::net::metrics {

class Counter {
 public:
  void add(std::uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  std::uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> value_{0};
};

class Gauge {
 public:
  void set(double value) { value_.store(value, std::memory_order_relaxed); }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

// Counters by one label, whose values are the closed list given (and "other").
class LabelledCounter {
 public:
  LabelledCounter(std::string label, std::vector<std::string> values);
  // The counter for `value`, or "other"'s when `value` is not in the list.
  Counter& at(std::string_view value);
  const std::string& label() const { return label_; }
  // (value, count) in the order given, "other" last.
  std::vector<std::pair<std::string, std::uint64_t>> values() const;

 private:
  const std::string label_;
  const std::vector<std::string> values_;    // then "other"
  std::unique_ptr<Counter[]> counters_;      // values_.size() + 1
};

class Histogram {
 public:
  // REQUIRES: `upper_bounds` finite and strictly increasing (+Inf is added).
  explicit Histogram(std::vector<double> upper_bounds);
  void observe(double value);

  struct Snapshot {
    std::vector<double> upper_bounds;     // without +Inf
    std::vector<std::uint64_t> cumulative;  // one per bound, then +Inf's (== count)
    double sum = 0;
    std::uint64_t count = 0;
  };
  Snapshot snapshot() const;

 private:
  const std::vector<double> bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> buckets_;  // per bound, then over the last; not cumulative
  std::atomic<double> sum_{0};
};

// Text exposition format 0.0.4: each family's # HELP and # TYPE once, then its samples.
class Exposition {
 public:
  using Labels = std::vector<std::pair<std::string_view, std::string_view>>;

  // "# HELP" and "# TYPE" lines. REQUIRES: `name` not declared before; type is counter,
  // gauge or histogram; the samples that follow belong to it.
  void family(std::string_view name, std::string_view type, std::string_view help);
  void sample(std::string_view name, const Labels& labels, double value);

  void counter(std::string_view name, std::string_view help, const Counter& counter);
  void counter(std::string_view name, std::string_view help, const LabelledCounter& counters);
  void gauge(std::string_view name, std::string_view help, double value);
  void histogram(std::string_view name, std::string_view help, const Histogram& histogram);

  const std::string& text() const { return text_; }
  std::string take() { return std::move(text_); }

 private:
  std::string text_;
};

// A label value as the format writes it between quotes: \ " and newline escaped.
std::string escape_label_value(std::string_view value);
// HELP text: \ and newline escaped.
std::string escape_help(std::string_view text);
// A sample value: integers as such, others in the shortest form that reads back exactly,
// +Inf, -Inf, NaN.
std::string format_value(double value);

// The Content-Type of the exposition.
inline constexpr const char* kContentType = "text/plain; version=0.0.4; charset=utf-8";

}  // namespace sync_server::net::metrics
