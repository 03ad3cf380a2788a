// Text rules of protocol.md §9.14: lengths count Unicode code points, text is UTF-8.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace safer {

// True if `text` is well-formed UTF-8 (no overlongs, surrogates or values past U+10FFFF).
bool is_valid_utf8(std::string_view text);

// `text` with every byte that is not part of a well-formed UTF-8 sequence replaced by U+FFFD:
// for text from outside (a request's path) that goes into JSON.
std::string to_valid_utf8(std::string_view text);

// The number of code points in well-formed UTF-8 `text`.
std::size_t count_code_points(std::string_view text);

// True if `text` holds something other than spaces, tabs and line breaks.
bool has_visible_text(std::string_view text);

// `text` with letters folded to lower case for matching: ASCII, Latin-1 and Latin Extended-A
// (À → à, Ŵ → ŵ), which covers the place names of these islands. Other text is unchanged.
std::string fold_case(std::string_view text);

// Lists of one-line names (wards, stations) kept as one text: joined by '\n'; "" is the
// empty list.
std::string join_lines(const std::vector<std::string>& lines);
std::vector<std::string> split_lines(std::string_view text);

// The stored form of a UK postcode ("WD6 1WA") given in any case, with or without the one
// space between its outward and inward parts; nullopt if `text` is not a postcode.
// Accepts exactly the JSON Schema pattern in schemas/household.schema.json.
std::optional<std::string> normalize_postcode(std::string_view text);

}  // namespace safer
