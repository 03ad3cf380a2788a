#include "sync_server/password.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <array>
#include <stdexcept>
#include <vector>

namespace sync_server {

namespace {

constexpr int kLogN = 15;
constexpr std::uint64_t kR = 8;
constexpr std::uint64_t kP = 1;
constexpr std::size_t kSaltBytes = 16;
constexpr std::size_t kKeyBytes = 32;
constexpr std::uint64_t kMaxMemory = 64ull * 1024 * 1024;

std::string hex(const unsigned char* bytes, std::size_t size) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < size; ++i) {
    out.push_back(kHex[bytes[i] >> 4]);
    out.push_back(kHex[bytes[i] & 0x0f]);
  }
  return out;
}

bool unhex(std::string_view text, std::vector<unsigned char>& out) {
  if (text.size() % 2 != 0) return false;
  const auto digit = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  out.clear();
  for (std::size_t i = 0; i < text.size(); i += 2) {
    const int high = digit(text[i]), low = digit(text[i + 1]);
    if (high < 0 || low < 0) return false;
    out.push_back(static_cast<unsigned char>(high * 16 + low));
  }
  return true;
}

std::vector<unsigned char> derive(std::string_view password, const std::vector<unsigned char>& salt, int log_n,
                                  std::uint64_t r, std::uint64_t p, std::size_t key_bytes) {
  std::vector<unsigned char> key(key_bytes);
  if (EVP_PBE_scrypt(password.data(), password.size(), salt.data(), salt.size(), std::uint64_t{1} << log_n, r, p,
                     kMaxMemory, key.data(), key.size()) != 1) {
    throw std::runtime_error("scrypt failed");
  }
  return key;
}

}  // namespace

bool is_acceptable_password(std::string_view password) { return password.size() >= 12 && password.size() <= 1024; }

std::string hash_password(std::string_view password) {
  std::vector<unsigned char> salt(kSaltBytes);
  if (RAND_bytes(salt.data(), static_cast<int>(salt.size())) != 1) throw std::runtime_error("RAND_bytes failed");
  const auto key = derive(password, salt, kLogN, kR, kP, kKeyBytes);
  return "scrypt$" + std::to_string(kLogN) + "$" + std::to_string(kR) + "$" + std::to_string(kP) + "$" +
         hex(salt.data(), salt.size()) + "$" + hex(key.data(), key.size());
}

bool verify_password(std::string_view password, std::string_view stored) {
  std::array<std::string_view, 6> parts{};
  std::size_t start = 0;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const auto end = stored.find('$', start);
    if ((end == std::string_view::npos) != (i + 1 == parts.size())) return false;
    parts[i] = stored.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    start = end + 1;
  }
  if (parts[0] != "scrypt") return false;
  int log_n = 0;
  std::uint64_t r = 0, p = 0;
  try {
    log_n = std::stoi(std::string(parts[1]));
    r = std::stoull(std::string(parts[2]));
    p = std::stoull(std::string(parts[3]));
  } catch (const std::exception&) {
    return false;
  }
  std::vector<unsigned char> salt, expected;
  if (log_n < 10 || log_n > 20 || r < 1 || r > 32 || p < 1 || p > 16 || !unhex(parts[4], salt) ||
      !unhex(parts[5], expected) || expected.empty()) {
    return false;
  }
  const auto key = derive(password, salt, log_n, r, p, expected.size());
  return CRYPTO_memcmp(key.data(), expected.data(), key.size()) == 0;
}

const std::string& decoy_password_hash() {
  static const std::string decoy = hash_password("a decoy password that no account has");
  return decoy;
}

}  // namespace sync_server
