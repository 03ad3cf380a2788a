#include "sync_server/households_csv.h"

#include <cctype>
#include <set>

#include "safer/text.h"
#include "safer/uuid.h"
#include "safer/validation.h"

namespace sync_server {

namespace {

constexpr const char* kHeader = "id,address,postcode,ward,target,assigned_to";
constexpr const char* kHeaderWithVulnerability = "id,address,postcode,ward,target,assigned_to,vulnerability";

struct CsvRecord {
  std::size_t line = 0;
  std::vector<std::string> cells;
};

// Splits RFC 4180 text into records (CRLF or LF line ends; quoted cells may hold commas,
// quotes doubled, and line breaks). On a malformed quote, records `problem` and stops.
std::vector<CsvRecord> split_records(std::string_view text, std::optional<CsvProblem>& problem) {
  std::vector<CsvRecord> records;
  std::size_t line = 1;
  std::size_t pos = 0;
  while (pos < text.size()) {
    CsvRecord record{line, {}};
    std::string cell;
    bool in_quotes = false;
    bool cell_was_quoted = false;
    for (;;) {
      if (pos >= text.size()) {
        if (in_quotes) {
          problem = CsvProblem{record.line, "a quoted cell is not closed before the end of the file"};
          return records;
        }
        record.cells.push_back(std::move(cell));
        break;
      }
      const char c = text[pos++];
      if (in_quotes) {
        if (c == '"') {
          if (pos < text.size() && text[pos] == '"') {
            cell.push_back('"');
            ++pos;
          } else {
            in_quotes = false;
          }
        } else {
          if (c == '\n') ++line;
          cell.push_back(c);
        }
      } else if (c == '"') {
        if (!cell.empty() || cell_was_quoted) {
          problem = CsvProblem{line, "a quote may only open a cell (write \"\" for a quote inside a quoted cell)"};
          return records;
        }
        in_quotes = true;
        cell_was_quoted = true;
      } else if (c == ',') {
        record.cells.push_back(std::move(cell));
        cell.clear();
        cell_was_quoted = false;
      } else if (c == '\n' || c == '\r') {
        if (c == '\r' && pos < text.size() && text[pos] == '\n') ++pos;
        ++line;
        record.cells.push_back(std::move(cell));
        break;
      } else {
        if (cell_was_quoted) {
          problem = CsvProblem{line, "text after the closing quote of a cell"};
          return records;
        }
        cell.push_back(c);
      }
    }
    // A blank line carries no row.
    if (!(record.cells.size() == 1 && record.cells[0].empty())) records.push_back(std::move(record));
  }
  return records;
}

// A cell as the register export wrote it: the export puts ' before text that a spreadsheet
// would run as a formula (csv_out.h), and the import takes it off again.
std::string unguarded(const std::string& cell) {
  if (cell.size() >= 2 && cell[0] == '\'' && std::string_view("=+-@\t\r").find(cell[1]) != std::string_view::npos) {
    return cell.substr(1);
  }
  return cell;
}

// "elderly;lives_alone" (any order, spaces around names allowed, "" for none), or nullopt
// when a name is not one of the vulnerabilities.
std::optional<safer::EnumSet<safer::Vulnerability>> parse_vulnerability(const std::string& cell) {
  safer::EnumSet<safer::Vulnerability> set;
  std::size_t start = 0;
  while (start <= cell.size()) {
    const std::size_t end = std::min(cell.find(';', start), cell.size());
    std::string name = cell.substr(start, end - start);
    const auto first = name.find_first_not_of(' ');
    name = first == std::string::npos ? "" : name.substr(first, name.find_last_not_of(' ') - first + 1);
    if (!name.empty()) {
      const auto value = safer::enum_from_string<safer::Vulnerability>(name);
      if (!value) return std::nullopt;
      set.insert(*value);
    } else if (cell.find_first_not_of(' ') != std::string::npos) {
      return std::nullopt;  // an empty name between two ';'
    }
    start = end + 1;
  }
  return set;
}

std::optional<bool> parse_target(const std::string& cell) {
  if (cell == "1" || cell == "true") return true;
  if (cell == "0" || cell == "false") return false;
  return std::nullopt;
}

}  // namespace

ParsedHouseholds parse_households_csv(std::string_view text, const safer::ReferenceLists& lists) {
  ParsedHouseholds parsed;
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);  // a UTF-8 byte order mark
  if (!safer::is_valid_utf8(text)) {
    std::size_t line = 1;
    for (std::size_t end = 0; end < text.size(); ++line) {  // find the first bad line
      const std::size_t next = std::min(text.find('\n', end), text.size());
      if (!safer::is_valid_utf8(text.substr(end, next - end))) break;
      end = next + 1;
    }
    parsed.problems.push_back({line, "the file is not valid UTF-8 text"});
    return parsed;
  }

  std::optional<CsvProblem> problem;
  const auto records = split_records(text, problem);
  if (problem) {
    parsed.problems.push_back(*problem);
    return parsed;
  }
  const std::string expected = std::string(kHeader) + " (and optionally ,vulnerability)";
  if (records.empty() || records.front().line != 1) {
    parsed.problems.push_back({1, "the first line must be the header " + expected});
    return parsed;
  }
  std::string header;
  for (std::size_t i = 0; i < records.front().cells.size(); ++i) {
    header += (i ? "," : "") + records.front().cells[i];
  }
  if (header != kHeader && header != kHeaderWithVulnerability) {
    parsed.problems.push_back({1, "the header must be " + expected});
    return parsed;
  }
  parsed.vulnerability_given = header == kHeaderWithVulnerability;
  const std::size_t columns = parsed.vulnerability_given ? 7 : 6;

  std::set<std::string> ids;
  for (std::size_t r = 1; r < records.size(); ++r) {
    const auto& record = records[r];
    const auto report = [&](std::string message) { parsed.problems.push_back({record.line, std::move(message)}); };
    if (record.cells.size() != columns) {
      report("expected " + std::to_string(columns) + " cells (" + header + "), found " +
             std::to_string(record.cells.size()));
      continue;
    }
    CsvHousehold row;
    row.line = record.line;
    const auto& cells = record.cells;
    bool ok = true;
    if (!cells[0].empty()) {
      if (!safer::is_canonical_uuid(cells[0])) {
        report("id must be empty (for a new household) or a lowercase UUID");
        ok = false;
      } else if (!ids.insert(cells[0]).second) {
        report("id " + cells[0] + " appears on an earlier line too");
        ok = false;
      } else {
        row.id = cells[0];
      }
    }
    row.household.address = unguarded(cells[1]);
    row.household.postcode = unguarded(cells[2]);
    row.household.ward = unguarded(cells[3]);
    const auto target = parse_target(cells[4]);
    if (!target) {
      report("target must be 1, 0, true or false");
      ok = false;
    }
    row.household.target = target.value_or(false);
    row.household.assigned_to =
        cells[5].empty() ? std::optional<std::string>() : std::optional<std::string>(cells[5]);
    if (parsed.vulnerability_given) {
      if (const auto vulnerability = parse_vulnerability(cells[6])) {
        row.household.vulnerability = *vulnerability;
      } else {
        report("vulnerability must be empty or names joined with ';' from: elderly, disability, repeat_victim, "
               "lives_alone, other");
        ok = false;
      }
    }
    for (const auto& error : safer::check_household(row.household, lists)) {
      report(error.message);
      ok = false;
    }
    if (ok) parsed.rows.push_back(std::move(row));
  }
  return parsed;
}

}  // namespace sync_server
