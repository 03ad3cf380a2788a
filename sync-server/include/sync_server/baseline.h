// The historic baseline: a programme's figures per financial year from before this system, so
// that the annual report can say what was done "since the launch" (docs/server.md, "Earlier
// years"). Loaded whole from a small CSV with the header
// "financial_year,households_visited,visits,smoke_detectors_fitted,cards_distributed".
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "sync_server/households_csv.h"

namespace sync_server {

struct BaselineYear {
  static constexpr int kFirstYear = 1990;  // financial years, by the year they start in
  static constexpr int kLastYear = 2100;
  static constexpr std::int64_t kMaxCount = 10'000'000;  // per figure and year

  int year = 0;  // 2011 is 2011/12: 1 April 2011 to 31 March 2012
  std::int64_t households_visited = 0;
  std::int64_t visits = 0;  // completed visits
  std::int64_t smoke_detectors_fitted = 0;
  std::int64_t cards_distributed = 0;

  friend bool operator==(const BaselineYear&, const BaselineYear&) = default;
};

struct ParsedBaseline {
  std::vector<BaselineYear> years;   // in the file's order
  std::vector<CsvProblem> problems;  // empty when every line is valid
};

// At most this many years: one file replaces the whole baseline.
inline constexpr std::size_t kMaxBaselineYears = 100;

// Parses and checks every line: the header, a year given as "2011" or "2011/12" (each once,
// within kFirstYear..kLastYear), and each figure a whole number 0..kMaxCount.
ParsedBaseline parse_baseline_csv(std::string_view text);

}  // namespace sync_server
