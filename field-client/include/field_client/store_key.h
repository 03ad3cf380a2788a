// The key of an encrypted store and the small file beside it.
//
// An encrypted store's pages (database and WAL) are ChaCha20-Poly1305 ciphertext under a
// 256-bit key that exists only in memory: scrypt of the officer's PIN (or passphrase) with a
// random salt. The salt, scrypt's cost, and the wrong-PIN count that must be read before the
// store can be opened live in "<store>.key" (JSON, mode 0600):
//
//   {"version": 1, "kdf": "scrypt", "log_n": 17, "r": 8, "p": 1, "salt": "<32 hex>",
//    "cipher": "chacha20", "max_attempts": 10, "failures": 0, "not_before": 0}
//
// It holds nothing secret: without the PIN the salt only makes each guess cost one scrypt.
// A store with no key file is a plain (unencrypted) store. See docs/field-client.md, "Encryption
// at rest, the PIN, and wipe".
//
// Thread safety: free functions; KeyFile and StoreKey are values.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>

#include "safer/result.h"
#include "safer/time.h"

namespace field_client {

using safer::Error;
using safer::Result;
using safer::Status;

// The 32 bytes SQLite3MC is given (as a raw key: no second KDF). Wiped when destroyed.
class StoreKey {
 public:
  StoreKey() = default;
  explicit StoreKey(const std::array<unsigned char, 32>& bytes) : bytes_(bytes) {}
  StoreKey(const StoreKey&) = default;
  StoreKey& operator=(const StoreKey&) = default;
  ~StoreKey();

  const std::array<unsigned char, 32>& bytes() const { return bytes_; }
  // Constant time.
  bool operator==(const StoreKey& other) const;

 private:
  std::array<unsigned char, 32> bytes_{};
};

struct KeyFile {
  int log_n = 17;  // scrypt N = 2^17 (128 MiB, as the server's password hashes); r = 8, p = 1
  std::array<unsigned char, 16> salt{};
  int max_attempts = 10;              // this many wrong PINs in a row wipe the store
  int failures = 0;                   // wrong PINs in a row so far
  safer::UnixMillis not_before = 0;   // wall clock: no PIN is tried before then (0: now)
};

// What a PIN must be: 6 to 128 characters, no line break ("invalid", field "pin" otherwise).
Status check_pin_rules(const std::string& pin);

// Which key file: the one in force, or the one a PIN change writes before it re-encrypts
// the store (Store::set_pin) and then renames over the first.
enum class KeySlot { current, next };

// "<store_path>.key", or "<store_path>.key.next".
std::string key_file_path(const std::string& store_path, KeySlot slot = KeySlot::current);

// The key file of the store at `store_path`; nullopt when there is none (a plain store).
// Error "storage" when it cannot be read or does not parse (the message says which).
Result<std::optional<KeyFile>> read_key_file(const std::string& store_path, KeySlot slot = KeySlot::current);

// Writes `key_file` for the store at `store_path` whole or not at all (a temporary file,
// fsync, rename), mode 0600.
Status write_key_file(const std::string& store_path, const KeyFile& key_file, KeySlot slot = KeySlot::current);

// Renames the next key file over the current one (the PIN change is complete).
Status promote_next_key_file(const std::string& store_path);

// A new key file: fresh random salt, the given cost and limit, no failures.
Result<KeyFile> new_key_file(int max_attempts, int log_n = 17);

// scrypt(pin, salt). Takes about a third of a second at log_n 17 on a laptop core (docs).
Result<StoreKey> derive_store_key(const std::string& pin, const KeyFile& key_file);

}  // namespace field_client
