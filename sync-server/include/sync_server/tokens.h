// Device tokens: random, shown once, stored only as a hash.
#pragma once

#include <string>
#include <string_view>

namespace sync_server {

// A new token: "sst_" and 43 characters of base64url over 32 random bytes (OpenSSL's CSPRNG).
std::string new_token();

// SHA-256 of the token, as 64 lowercase hex digits: what the store keeps.
std::string token_hash(std::string_view token);

}  // namespace sync_server
