#include "metrics.h"

#include <algorithm>
#include <cassert>
#include <charconv>
#include <cmath>
#include <limits>

namespace sync_server::net::metrics {

LabelledCounter::LabelledCounter(std::string label, std::vector<std::string> values)
    : label_(std::move(label)), values_(std::move(values)), counters_(new Counter[values_.size() + 1]) {}

Counter& LabelledCounter::at(std::string_view value) {
  const auto found = std::find(values_.begin(), values_.end(), value);
  return counters_[static_cast<std::size_t>(found - values_.begin())];  // values_.size(): "other"
}

std::vector<std::pair<std::string, std::uint64_t>> LabelledCounter::values() const {
  std::vector<std::pair<std::string, std::uint64_t>> out;
  for (std::size_t i = 0; i < values_.size(); ++i) out.emplace_back(values_[i], counters_[i].value());
  out.emplace_back("other", counters_[values_.size()].value());
  return out;
}

Histogram::Histogram(std::vector<double> upper_bounds)
    : bounds_(std::move(upper_bounds)), buckets_(new std::atomic<std::uint64_t>[bounds_.size() + 1]) {
  assert(std::is_sorted(bounds_.begin(), bounds_.end()) &&
         std::adjacent_find(bounds_.begin(), bounds_.end()) == bounds_.end());
  for (std::size_t i = 0; i <= bounds_.size(); ++i) buckets_[i].store(0, std::memory_order_relaxed);
}

void Histogram::observe(double value) {
  // The first bucket whose bound is at least the value (le: "less than or equal").
  const auto bucket = std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin();
  buckets_[static_cast<std::size_t>(bucket)].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(value, std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::snapshot() const {
  Snapshot snapshot;
  snapshot.upper_bounds = bounds_;
  std::uint64_t running = 0;
  for (std::size_t i = 0; i <= bounds_.size(); ++i) {
    running += buckets_[i].load(std::memory_order_relaxed);
    snapshot.cumulative.push_back(running);
  }
  // _count is the +Inf bucket as read, so that they agree even while observations go on.
  snapshot.count = running;
  snapshot.sum = sum_.load(std::memory_order_relaxed);
  return snapshot;
}

std::string escape_label_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (const char c : value) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::string escape_help(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::string format_value(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  char buffer[32];
  // Integers below 2^53 exactly, without an exponent (a counter of 1e6 reads 1000000).
  if (value == std::trunc(value) && std::fabs(value) < 9007199254740992.0) {
    const auto end = std::to_chars(buffer, buffer + sizeof buffer, static_cast<std::int64_t>(value)).ptr;
    return std::string(buffer, end);
  }
  const auto end = std::to_chars(buffer, buffer + sizeof buffer, value).ptr;  // shortest exact form
  return std::string(buffer, end);
}

void Exposition::family(std::string_view name, std::string_view type, std::string_view help) {
  text_.append("# HELP ").append(name).append(" ").append(escape_help(help)).append("\n");
  text_.append("# TYPE ").append(name).append(" ").append(type).append("\n");
}

void Exposition::sample(std::string_view name, const Labels& labels, double value) {
  text_.append(name);
  if (!labels.empty()) {
    text_ += '{';
    for (std::size_t i = 0; i < labels.size(); ++i) {
      if (i > 0) text_ += ',';
      text_.append(labels[i].first).append("=\"").append(escape_label_value(labels[i].second)).append("\"");
    }
    text_ += '}';
  }
  text_.append(" ").append(format_value(value)).append("\n");
}

void Exposition::counter(std::string_view name, std::string_view help, const Counter& counter) {
  family(name, "counter", help);
  sample(name, {}, static_cast<double>(counter.value()));
}

void Exposition::counter(std::string_view name, std::string_view help, const LabelledCounter& counters) {
  family(name, "counter", help);
  for (const auto& [value, count] : counters.values()) sample(name, {{counters.label(), value}}, static_cast<double>(count));
}

void Exposition::gauge(std::string_view name, std::string_view help, double value) {
  family(name, "gauge", help);
  sample(name, {}, value);
}

void Exposition::histogram(std::string_view name, std::string_view help, const Histogram& histogram) {
  family(name, "histogram", help);
  const auto snapshot = histogram.snapshot();
  const std::string bucket = std::string(name) + "_bucket";
  for (std::size_t i = 0; i < snapshot.upper_bounds.size(); ++i) {
    const std::string le = format_value(snapshot.upper_bounds[i]);
    sample(bucket, {{"le", le}}, static_cast<double>(snapshot.cumulative[i]));
  }
  sample(bucket, {{"le", "+Inf"}}, static_cast<double>(snapshot.cumulative.back()));
  sample(std::string(name) + "_sum", {}, snapshot.sum);
  sample(std::string(name) + "_count", {}, static_cast<double>(snapshot.count));
}

}  // namespace sync_server::net::metrics
