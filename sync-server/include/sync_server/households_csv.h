// The households CSV of protocol.md §8 and §9: RFC 4180, UTF-8, header
// "id,address,postcode,ward,target,assigned_to", optionally followed by ",vulnerability"
// (names joined with ';', as visits.csv's referrals). GET /api/v1/exports/households.csv
// writes the same columns, so an export imports again unchanged: a leading ' that the export
// put before = + - @ (against CSV injection) is taken off again.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "safer/household.h"
#include "safer/reference_lists.h"

namespace sync_server {

struct CsvHousehold {
  std::size_t line = 0;  // where the row starts in the file; the header is line 1
  std::optional<std::string> id;  // nullopt: a new household (empty id cell)
  safer::Household household;     // target and assigned_to always set; postcode normalised
};

struct CsvProblem {
  std::size_t line = 0;
  std::string message;  // names the column; never repeats a cell's personal text
};

struct ParsedHouseholds {
  std::vector<CsvHousehold> rows;
  std::vector<CsvProblem> problems;  // empty when every row is valid
  // The header has the vulnerability column: each row's vulnerability is what it says (an
  // empty cell is none). Without it the import keeps what the register already holds.
  bool vulnerability_given = false;
};


// Parses and validates every row (also: a missing or wrong header, a row with the wrong
// number of cells, an unterminated quote, text that is not UTF-8, an id given twice).
ParsedHouseholds parse_households_csv(std::string_view text, const safer::ReferenceLists& lists);

}  // namespace sync_server
