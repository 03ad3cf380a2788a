// A JSON string literal for code that still splices JSON text by hand (bench/support). New
// code writes JSON with safer::JsonOut (safer/json_out.h), which this uses for the escaping.
#pragma once

#include <string>
#include <string_view>

namespace safer {

// `text` as a JSON string literal, quotes included, escaped as JsonOut escapes it (text that
// is not UTF-8 gets U+FFFD for each ill-formed byte).
std::string json_quote(std::string_view text);

}  // namespace safer
