// Bytes as hexadecimal text: for keys, salts, digests and tokens made of random bytes.
#pragma once

#include <span>
#include <string>

namespace safer {

// Two lowercase hex digits per byte, in order ("" for no bytes).
std::string to_hex(std::span<const unsigned char> bytes);

}  // namespace safer
