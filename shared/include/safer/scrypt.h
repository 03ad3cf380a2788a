// scrypt (RFC 7914) through OpenSSL: the slow, memory-hard key derivation behind the
// server's password hashes and the field client's store key.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace safer {

struct ScryptCost {
  int log_n = 17;  // N = 2^log_n
  std::uint64_t r = 8;
  std::uint64_t p = 1;
};

// `key_bytes` bytes derived from `secret` and `salt`; nullopt when OpenSSL refuses (out of
// memory, parameters out of range). Memory: about 128 · r · 2^log_n bytes (128 MiB at 2^17).
std::optional<std::vector<unsigned char>> scrypt(std::string_view secret, std::span<const unsigned char> salt,
                                                 ScryptCost cost, std::size_t key_bytes);

}  // namespace safer
