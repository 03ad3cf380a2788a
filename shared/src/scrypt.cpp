#include "safer/scrypt.h"

#include <openssl/evp.h>

namespace safer {

namespace {

// scrypt's memory for these parameters (OpenSSL's own reckoning) and a little more.
std::uint64_t max_memory(const ScryptCost& cost) {
  return 128 * cost.r * ((std::uint64_t{1} << cost.log_n) + 2 + cost.p) + 64 * 1024;
}

}  // namespace

std::optional<std::vector<unsigned char>> scrypt(std::string_view secret, std::span<const unsigned char> salt,
                                                 ScryptCost cost, std::size_t key_bytes) {
  if (cost.log_n < 1 || cost.log_n > 30) return std::nullopt;
  std::vector<unsigned char> key(key_bytes);
  if (EVP_PBE_scrypt(secret.data(), secret.size(), salt.data(), salt.size(), std::uint64_t{1} << cost.log_n, cost.r,
                     cost.p, max_memory(cost), key.data(), key.size()) != 1) {
    return std::nullopt;
  }
  return key;
}

}  // namespace safer
