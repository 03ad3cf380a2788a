// Small helpers for programs that print JSON of their own (a CLI's --json output).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace safer {

// `text` as a JSON string literal, quotes included, with every character that JSON requires
// escaped. REQUIRES: text is valid UTF-8.
std::string json_quote(std::string_view text);

// ["a","b"]
std::string json_string_array(const std::vector<std::string>& values);

}  // namespace safer
