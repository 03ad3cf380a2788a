// The historic baseline (sync_server/baseline.h): its CSV, and storing it whole.
#include "sync_server/baseline.h"

#include <charconv>
#include <set>

#include "safer/text.h"
#include "store_impl.h"
#include "sync_server/dashboard.h"

namespace sync_server {

namespace {

constexpr const char* kHeader = "financial_year,households_visited,visits,smoke_detectors_fitted,cards_distributed";
constexpr std::size_t kColumns = 5;

std::vector<std::string_view> split(std::string_view line) {
  std::vector<std::string_view> cells;
  for (std::size_t start = 0;;) {
    const std::size_t comma = line.find(',', start);
    cells.push_back(line.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start));
    if (comma == std::string_view::npos) return cells;
    start = comma + 1;
  }
}

std::optional<std::int64_t> whole_number(std::string_view cell) {
  std::int64_t value = 0;
  const auto [end, error] = std::from_chars(cell.data(), cell.data() + cell.size(), value);
  if (cell.empty() || error != std::errc() || end != cell.data() + cell.size()) return std::nullopt;
  return value;
}

// "2011" or "2011/12" (the second part must be the next year's last two digits).
std::optional<int> financial_year(std::string_view cell) {
  const auto slash = cell.find('/');
  const auto start = whole_number(cell.substr(0, slash));
  if (!start || cell.substr(0, slash).size() != 4) return std::nullopt;
  if (slash != std::string_view::npos) {
    const auto end = cell.substr(slash + 1);
    const auto next = whole_number(end);
    if (end.size() != 2 || !next || *next != (*start + 1) % 100) return std::nullopt;
  }
  return static_cast<int>(*start);
}

}  // namespace

ParsedBaseline parse_baseline_csv(std::string_view text) {
  ParsedBaseline parsed;
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);  // a UTF-8 byte order mark
  std::set<int> years;
  std::size_t number = 0;
  bool header_seen = false;
  while (!text.empty()) {
    const std::size_t end = std::min(text.find('\n'), text.size());
    std::string_view line = text.substr(0, end);
    text.remove_prefix(std::min(end + 1, text.size()));
    ++number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    const auto report = [&](std::string message) { parsed.problems.push_back({number, std::move(message)}); };
    if (!header_seen) {
      header_seen = true;
      if (line != kHeader) {
        report(std::string("the first line must be the header ") + kHeader);
        return parsed;
      }
      continue;
    }
    if (line.empty()) continue;
    const auto cells = split(line);
    if (cells.size() != kColumns) {
      report("expected 5 cells (" + std::string(kHeader) + "), found " + std::to_string(cells.size()));
      continue;
    }
    BaselineYear row;
    const auto year = financial_year(cells[0]);
    if (!year || *year < BaselineYear::kFirstYear || *year > BaselineYear::kLastYear) {
      report("financial_year must be a year from " + std::to_string(BaselineYear::kFirstYear) + " to " +
             std::to_string(BaselineYear::kLastYear) + ", as 2011 or 2011/12");
      continue;
    }
    if (!years.insert(*year).second) {
      report("financial_year " + std::to_string(*year) + " appears on an earlier line too");
      continue;
    }
    row.year = *year;
    const std::pair<const char*, std::int64_t*> figures[] = {{"households_visited", &row.households_visited},
                                                             {"visits", &row.visits},
                                                             {"smoke_detectors_fitted", &row.smoke_detectors_fitted},
                                                             {"cards_distributed", &row.cards_distributed}};
    bool ok = true;
    for (std::size_t i = 0; i < std::size(figures); ++i) {
      const auto value = whole_number(cells[i + 1]);
      if (!value || *value < 0 || *value > BaselineYear::kMaxCount) {
        report(std::string(figures[i].first) + " must be a whole number from 0 to " +
               std::to_string(BaselineYear::kMaxCount));
        ok = false;
        continue;
      }
      *figures[i].second = *value;
    }
    if (ok) parsed.years.push_back(row);
  }
  if (!header_seen) parsed.problems.push_back({1, std::string("the first line must be the header ") + kHeader});
  if (parsed.problems.empty() && parsed.years.size() > kMaxBaselineYears) {
    parsed.problems.push_back({number, "at most " + std::to_string(kMaxBaselineYears) + " years"});
  }
  return parsed;
}

Result<std::size_t> Dashboard::load_baseline(std::string_view csv, const Actor& by) {
  const auto parsed = parse_baseline_csv(csv);
  if (!parsed.problems.empty()) {
    std::string message = "nothing was loaded; " + std::to_string(parsed.problems.size()) + " problem(s):";
    for (std::size_t i = 0; i < parsed.problems.size() && i < 20; ++i) {
      message += "\nline " + std::to_string(parsed.problems[i].line) + ": " + parsed.problems[i].message;
    }
    return Error{"invalid", message, ""};
  }
  return in_write_group(store_, [&]() -> Result<std::size_t> {
    auto& db = store_.impl_->db;
    db.cached("DELETE FROM baseline_years WHERE true")->run();
    auto insert = db.cached(
        "INSERT INTO baseline_years (year, households_visited, visits, smoke_detectors_fitted, cards_distributed)"
        " VALUES (?1, ?2, ?3, ?4, ?5)");
    for (const auto& row : parsed.years) {
      insert->reset();
      insert->bind(1, row.year).bind(2, row.households_visited).bind(3, row.visits);
      insert->bind(4, row.smoke_detectors_fitted).bind(5, row.cards_distributed).run();
    }
    AuditEntry entry{by, kAuditBaselineLoad};
    entry.detail = "years=" + std::to_string(parsed.years.size());
    store_.impl_->append_audit(entry);
    return parsed.years.size();
  });
}

std::vector<BaselineYear> Dashboard::baseline() {
  auto rows = store_.impl_->db.cached(
      "SELECT year, households_visited, visits, smoke_detectors_fitted, cards_distributed FROM baseline_years ORDER BY year");
  std::vector<BaselineYear> years;
  while (rows->step()) {
    years.push_back({static_cast<int>(rows->column_int(0)), rows->column_int(1), rows->column_int(2),
                     rows->column_int(3), rows->column_int(4)});
  }
  return years;
}

}  // namespace sync_server
