// Password hashing for coordinators' dashboard accounts: scrypt (RFC 7914) from OpenSSL,
// N = 2^17, r = 8, p = 1 (128 MiB and about half a second per hash on these machines, so the
// server checks passwords on a pool of one or two threads, see server.h LoginSettings),
// a 16-byte random salt, a 32-byte key. Stored as "scrypt$17$8$1$<salt hex>$<key hex>": each
// hash carries its parameters, so hashes made with older ones (N = 2^15) still verify, and
// needs_rehash() tells the login to store a new one.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace sync_server {

// Rules for a new password: at least 12 characters, at most 1024 bytes.
bool is_acceptable_password(std::string_view password);

// True for one of about a hundred common passwords compiled in (compared in lower case,
// digits and punctuation at the end ignored: "Password1234!" is common).
bool is_common_password(std::string_view password);

// Why a new password is refused (a message for the user), or nullopt when it may be set.
// Every path that sets a password asks this.
std::optional<std::string> password_problem(std::string_view password);

std::string hash_password(std::string_view password);

// True if `password` matches `stored` (a hash_password() result). Compares in constant time.
// A malformed `stored` never matches.
bool verify_password(std::string_view password, std::string_view stored);

// True if `stored` was made with other parameters than hash_password() uses now (or is
// malformed): after a successful login the store replaces it with a new hash.
bool needs_rehash(std::string_view stored);

// A hash that matches no password, to spend the same time on unknown usernames.
const std::string& decoy_password_hash();

}  // namespace sync_server
