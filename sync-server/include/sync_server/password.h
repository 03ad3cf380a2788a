// Password hashing for coordinators' dashboard accounts: scrypt (RFC 7914) from OpenSSL,
// N = 2^15, r = 8, p = 1 (32 MiB and about a tenth of a second per hash on these machines),
// a 16-byte random salt, a 32-byte key. Stored as "scrypt$15$8$1$<salt hex>$<key hex>".
#pragma once

#include <string>
#include <string_view>

namespace sync_server {

// Rules for a new password: at least 12 characters, at most 1024 bytes.
bool is_acceptable_password(std::string_view password);

std::string hash_password(std::string_view password);

// True if `password` matches `stored` (a hash_password() result). Compares in constant time.
// A malformed `stored` never matches.
bool verify_password(std::string_view password, std::string_view stored);

// A hash that matches no password, to spend the same time on unknown usernames.
const std::string& decoy_password_hash();

}  // namespace sync_server
