// Bytes as hexadecimal text: for keys, salts, digests and tokens made of random bytes.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace safer {

// Two lowercase hex digits per byte, in order ("" for no bytes).
std::string to_hex(std::span<const unsigned char> bytes);

// The bytes of lowercase hex `text`; nullopt when it has an odd length or another character.
std::optional<std::vector<unsigned char>> from_hex(std::string_view text);

}  // namespace safer
