#include "sync_server/password.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <optional>
#include <stdexcept>
#include <vector>

#include "safer/hex.h"
#include "safer/scrypt.h"

namespace sync_server {

namespace {

constexpr int kLogN = 17;
constexpr std::uint64_t kR = 8;
constexpr std::uint64_t kP = 1;
constexpr std::size_t kSaltBytes = 16;
constexpr std::size_t kKeyBytes = 32;

// Common passwords and the words they are built on, lower case. A password is refused when,
// lower-cased and without the digits and punctuation at its end, it is one of these
// ("Password1234!" and "saferstreets2026" are refused; "safer-streets-demo" is not).
constexpr std::string_view kCommonPasswords[] = {
    "password", "passw0rd", "p@ssword", "p@ssw0rd", "password!", "12345678", "123456789", "1234567890",
    "12345678910", "123456789012", "1234567890123", "111111111111", "000000000000", "123123123123",
    "121212121212", "987654321", "9876543210", "qwerty", "qwertyuiop", "qwertyuiopasdf", "qwertyqwerty",
    "asdfghjkl", "asdfasdfasdf", "zxcvbnm", "1q2w3e4r5t6y", "1q2w3e4r5t", "1qaz2wsx3edc", "zaq12wsxcde3",
    "qazwsxedcrfv", "qweasdzxc", "abc123", "abcdefghijkl", "abcd1234abcd", "aaaaaaaaaaaa", "iloveyou",
    "iloveyouiloveyou", "letmein", "letmeinletmein", "welcome", "welcometo", "changeme", "changeit",
    "trustno1", "administrator", "admin", "adminadmin", "root", "master", "secret", "default", "login",
    "guest", "test", "testtest", "football", "baseball", "basketball", "liverpool", "chelsea", "arsenal",
    "manchester", "manchesterunited", "princess", "sunshine", "superman", "batman", "starwars", "pokemon",
    "dragon", "monkey", "shadow", "whatever", "freedom", "computer", "internet", "michael", "jennifer",
    "charlie", "jordan", "hunter", "summer", "winter", "spring", "autumn", "january", "december",
    "london", "england", "police", "policepolice", "constable", "safer", "saferstreets", "safer-streets",
    "safer_streets", "saferstreetspassword", "hertsmere", "borehamwood", "coordinator", "dashboard",
    "sync-server", "syncserver", "correcthorsebatterystaple",
};

std::vector<unsigned char> derive(std::string_view password, const std::vector<unsigned char>& salt, int log_n,
                                  std::uint64_t r, std::uint64_t p, std::size_t key_bytes) {
  auto key = safer::scrypt(password, salt, safer::ScryptCost{log_n, r, p}, key_bytes);
  if (!key) throw std::runtime_error("scrypt failed");
  return std::move(*key);
}

}  // namespace

bool is_acceptable_password(std::string_view password) { return password.size() >= 12 && password.size() <= 1024; }

bool is_common_password(std::string_view password) {
  std::string folded(password);
  std::transform(folded.begin(), folded.end(), folded.begin(), [](unsigned char c) { return std::tolower(c); });
  while (!folded.empty() && (std::isdigit(static_cast<unsigned char>(folded.back())) != 0 ||
                             std::ispunct(static_cast<unsigned char>(folded.back())) != 0 || folded.back() == ' ')) {
    folded.pop_back();
  }
  const auto listed = [](std::string_view text) {
    return std::find(std::begin(kCommonPasswords), std::end(kCommonPasswords), text) != std::end(kCommonPasswords);
  };
  return listed(folded) || listed(std::string(password)) || (folded.empty() && !password.empty());
}

std::optional<std::string> password_problem(std::string_view password) {
  if (!is_acceptable_password(password)) return "the password must be 12 to 1024 characters long";
  if (is_common_password(password)) {
    return "this password is one of the most common ones and would be guessed first: choose another, such as "
           "three or four unrelated words";
  }
  return std::nullopt;
}

std::string hash_password(std::string_view password) {
  std::vector<unsigned char> salt(kSaltBytes);
  if (RAND_bytes(salt.data(), static_cast<int>(salt.size())) != 1) throw std::runtime_error("RAND_bytes failed");
  const auto key = derive(password, salt, kLogN, kR, kP, kKeyBytes);
  return "scrypt$" + std::to_string(kLogN) + "$" + std::to_string(kR) + "$" + std::to_string(kP) + "$" +
         safer::to_hex(salt) + "$" + safer::to_hex(key);
}

namespace {

struct StoredHash {
  int log_n = 0;
  std::uint64_t r = 0, p = 0;
  std::vector<unsigned char> salt, key;
};

// "scrypt$<log N>$<r>$<p>$<salt hex>$<key hex>" taken apart; nullopt when malformed or when
// its parameters are out of the range this server would spend on a check.
std::optional<StoredHash> parse_stored(std::string_view stored) {
  std::array<std::string_view, 6> parts{};
  std::size_t start = 0;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const auto end = stored.find('$', start);
    if ((end == std::string_view::npos) != (i + 1 == parts.size())) return std::nullopt;
    parts[i] = stored.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    start = end + 1;
  }
  if (parts[0] != "scrypt") return std::nullopt;
  StoredHash hash;
  try {
    hash.log_n = std::stoi(std::string(parts[1]));
    hash.r = std::stoull(std::string(parts[2]));
    hash.p = std::stoull(std::string(parts[3]));
  } catch (const std::exception&) {
    return std::nullopt;
  }
  // At most 2^18 · 8 · 128 bytes = 256 MiB for one check.
  if (hash.log_n < 10 || hash.log_n > 18 || hash.r < 1 || hash.r > 8 || hash.p < 1 || hash.p > 4) {
    return std::nullopt;
  }
  auto salt = safer::from_hex(parts[4]);
  auto key = safer::from_hex(parts[5]);
  if (!salt || !key || key->empty() || key->size() > 64) return std::nullopt;
  hash.salt = std::move(*salt);
  hash.key = std::move(*key);
  return hash;
}

}  // namespace

bool verify_password(std::string_view password, std::string_view stored) {
  const auto hash = parse_stored(stored);
  if (!hash) return false;
  const auto key = derive(password, hash->salt, hash->log_n, hash->r, hash->p, hash->key.size());
  return CRYPTO_memcmp(key.data(), hash->key.data(), key.size()) == 0;
}

bool needs_rehash(std::string_view stored) {
  const auto hash = parse_stored(stored);
  return !hash || hash->log_n != kLogN || hash->r != kR || hash->p != kP || hash->salt.size() != kSaltBytes ||
         hash->key.size() != kKeyBytes;
}

const std::string& decoy_password_hash() {
  static const std::string decoy = hash_password("a decoy password that no account has");
  return decoy;
}

}  // namespace sync_server
