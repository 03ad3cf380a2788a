// A strict reader of Prometheus' text exposition format 0.0.4, for the tests of GET /metrics:
// stricter than Prometheus itself, so that what it accepts any scraper reads.
//
//  - every line is "# HELP name text", "# TYPE name counter|gauge|histogram", or a sample
//    "name{label="value",…} value" (no timestamps; the server sends none);
//  - a family's HELP and TYPE come once each, before its samples, and its samples are
//    together; a histogram's samples are name_bucket (with le), name_sum, name_count;
//  - label names are [a-zA-Z_][a-zA-Z0-9_]*, label values escape only \\ \" \n;
//  - a histogram's buckets have increasing le, cumulative counts, end with le="+Inf", and
//    that count equals name_count.
// Header-only, no test framework: parse() returns the first problem found.
#pragma once

#include <cmath>
#include <cstdlib>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace test_support {

struct PromSample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

struct PromFamily {
  std::string type;
  std::string help;
  std::vector<PromSample> samples;
};

struct PromExposition {
  std::map<std::string, PromFamily> families;
  std::string error;  // "" when the text is valid; else the first problem, with its line

  bool ok() const { return error.empty(); }
  // The value of the sample `name` with exactly `labels`; nullopt when there is none.
  std::optional<double> value(const std::string& name, const std::map<std::string, std::string>& labels = {}) const {
    for (const auto& [family_name, family] : families) {
      for (const auto& sample : family.samples) {
        if (sample.name == name && sample.labels == labels) return sample.value;
      }
    }
    return std::nullopt;
  }
  // Every sample named `name`.
  std::vector<PromSample> samples(const std::string& name) const {
    std::vector<PromSample> out;
    for (const auto& [family_name, family] : families) {
      for (const auto& sample : family.samples) {
        if (sample.name == name) out.push_back(sample);
      }
    }
    return out;
  }
};

namespace prom_detail {

inline bool is_name(const std::string& name, bool metric) {
  if (name.empty()) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (metric && c == ':');
    if (!letter && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

inline std::optional<double> parse_value(const std::string& text) {
  if (text == "+Inf") return INFINITY;
  if (text == "-Inf") return -INFINITY;
  if (text == "NaN") return NAN;
  if (text.empty()) return std::nullopt;
  char* end = nullptr;
  const double value = std::strtod(text.c_str(), &end);
  if (end != text.c_str() + text.size()) return std::nullopt;
  return value;
}

// Reads `line` as a sample into `sample`; "" or the problem.
inline std::string parse_sample(const std::string& line, PromSample& sample) {
  std::size_t at = 0;
  while (at < line.size() && line[at] != '{' && line[at] != ' ') ++at;
  sample.name = line.substr(0, at);
  if (!is_name(sample.name, true)) return "bad metric name";
  if (at < line.size() && line[at] == '{') {
    ++at;
    while (at < line.size() && line[at] != '}') {
      const auto equals = line.find('=', at);
      if (equals == std::string::npos) return "label without '='";
      const std::string label = line.substr(at, equals - at);
      if (!is_name(label, false)) return "bad label name \"" + label + "\"";
      at = equals + 1;
      if (at >= line.size() || line[at] != '"') return "label value not quoted";
      ++at;
      std::string value;
      for (;; ++at) {
        if (at >= line.size()) return "label value not closed";
        const char c = line[at];
        if (c == '"') break;
        if (c == '\\') {
          if (++at >= line.size()) return "escape at the end";
          const char escaped = line[at];
          if (escaped == 'n') value += '\n';
          else if (escaped == '\\' || escaped == '"') value += escaped;
          else return "unknown escape \\" + std::string(1, escaped);
        } else {
          value += c;
        }
      }
      ++at;  // the closing quote
      if (!sample.labels.emplace(label, value).second) return "label \"" + label + "\" twice";
      if (at < line.size() && line[at] == ',') ++at;
      else if (at >= line.size() || line[at] != '}') return "expected ',' or '}' after a label";
    }
    if (at >= line.size()) return "labels not closed";
    ++at;
  }
  if (at >= line.size() || line[at] != ' ') return "expected one space before the value";
  const auto value = parse_value(line.substr(at + 1));
  if (!value) return "bad value \"" + line.substr(at + 1) + "\"";
  sample.value = *value;
  return "";
}

// The family a sample named `name` belongs to, given the declared types.
inline std::string family_of(const std::string& name, const std::map<std::string, PromFamily>& families) {
  for (const char* suffix : {"_bucket", "_sum", "_count"}) {
    const std::string s = suffix;
    if (name.size() > s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0) {
      const auto base = name.substr(0, name.size() - s.size());
      const auto found = families.find(base);
      if (found != families.end() && found->second.type == "histogram") return base;
    }
  }
  return name;
}

inline std::string check_histogram(const std::string& name, const PromFamily& family) {
  double previous_le = -INFINITY, previous_count = 0;
  std::optional<double> inf_count, count;
  bool sum = false;
  for (const auto& sample : family.samples) {
    if (sample.name == name + "_bucket") {
      const auto le = sample.labels.find("le");
      if (le == sample.labels.end() || sample.labels.size() != 1) return name + ": a bucket needs exactly the label le";
      const auto bound = parse_value(le->second);
      if (!bound || *bound <= previous_le) return name + ": le not increasing";
      if (inf_count) return name + ": a bucket after +Inf";
      if (sample.value < previous_count) return name + ": buckets not cumulative";
      previous_le = *bound;
      previous_count = sample.value;
      if (std::isinf(*bound)) inf_count = sample.value;
    } else if (sample.name == name + "_sum") {
      if (sum) return name + ": _sum twice";
      sum = true;
    } else if (sample.name == name + "_count") {
      if (count) return name + ": _count twice";
      count = sample.value;
    } else {
      return name + ": sample " + sample.name + " in a histogram";
    }
  }
  if (!inf_count) return name + ": no le=\"+Inf\" bucket";
  if (!sum || !count) return name + ": _sum or _count missing";
  if (*count != *inf_count) return name + ": _count is not the +Inf bucket";
  return "";
}

}  // namespace prom_detail

inline PromExposition parse_prometheus_text(const std::string& text) {
  using namespace prom_detail;
  PromExposition out;
  std::set<std::string> helped, finished;
  std::string current;  // the family whose samples are being read
  std::istringstream lines(text);
  int number = 0;
  const auto fail = [&out, &number](const std::string& why, const std::string& line) {
    out.error = "line " + std::to_string(number) + ": " + why + ": " + line;
    return out;
  };
  if (!text.empty() && text.back() != '\n') return fail("the text does not end with a newline", "");
  for (std::string line; std::getline(lines, line);) {
    ++number;
    if (line.empty()) return fail("empty line", line);
    if (line[0] == '#') {
      std::istringstream words(line);
      std::string hash, keyword, name;
      words >> hash >> keyword >> name;
      if (hash != "#" || (keyword != "HELP" && keyword != "TYPE") || !is_name(name, true)) {
        return fail("a comment that is not HELP or TYPE", line);
      }
      std::string rest;
      std::getline(words, rest);
      if (!rest.empty() && rest[0] == ' ') rest.erase(0, 1);
      if (finished.count(name) > 0 || (out.families.count(name) > 0 && !out.families[name].samples.empty())) {
        return fail("HELP or TYPE after the family's samples", line);
      }
      if (current != name && !current.empty()) finished.insert(current);
      current = name;
      auto& family = out.families[name];
      if (keyword == "HELP") {
        if (!helped.insert(name).second) return fail("HELP twice", line);
        family.help = rest;
      } else {
        if (!family.type.empty()) return fail("TYPE twice", line);
        if (rest != "counter" && rest != "gauge" && rest != "histogram") return fail("unknown type", line);
        family.type = rest;
      }
      continue;
    }
    PromSample sample;
    if (const auto problem = parse_sample(line, sample); !problem.empty()) return fail(problem, line);
    const auto name = family_of(sample.name, out.families);
    const auto found = out.families.find(name);
    if (found == out.families.end() || found->second.type.empty()) return fail("a sample of no declared TYPE", line);
    if (name != current) return fail("a family's samples are not together", line);
    if (found->second.type == "counter" && (sample.value < 0 || std::isnan(sample.value))) {
      return fail("a negative counter", line);
    }
    found->second.samples.push_back(std::move(sample));
  }
  for (const auto& [name, family] : out.families) {
    if (family.type.empty()) return fail("family " + name + " has no TYPE", "");
    if (family.type == "histogram") {
      if (const auto problem = check_histogram(name, family); !problem.empty()) return fail(problem, "");
    }
  }
  return out;
}

}  // namespace test_support
