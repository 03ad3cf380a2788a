#include "launch_tokens.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <algorithm>
#include <stdexcept>

#include "safer/hex.h"

namespace field_client::ui {

std::string random_secret() {
  unsigned char bytes[24];
  if (RAND_bytes(bytes, sizeof bytes) != 1) throw std::runtime_error("no random bytes for the app's key");
  return safer::to_hex(bytes);
}

bool same_secret(std::string_view given, std::string_view secret) {
  return given.size() == secret.size() && CRYPTO_memcmp(given.data(), secret.data(), secret.size()) == 0;
}

LaunchTokens::LaunchTokens(std::chrono::milliseconds lifetime, Clock now)
    : lifetime_(lifetime), now_(now ? std::move(now) : Clock([] { return std::chrono::steady_clock::now(); })) {}

std::string LaunchTokens::mint() {
  auto token = random_secret();
  const auto now = now_();
  std::lock_guard lock(mutex_);
  prune(now);
  if (outstanding_.size() == kMaxOutstanding) outstanding_.pop_front();
  outstanding_.push_back(Outstanding{token, now + lifetime_});
  return token;
}

bool LaunchTokens::redeem(std::string_view token) {
  const auto now = now_();
  std::lock_guard lock(mutex_);
  prune(now);
  // Every outstanding token is compared, in constant time each, whichever matches.
  auto found = outstanding_.end();
  for (auto it = outstanding_.begin(); it != outstanding_.end(); ++it) {
    if (same_secret(token, it->token)) found = it;
  }
  if (found == outstanding_.end()) return false;
  outstanding_.erase(found);
  return true;
}

void LaunchTokens::prune(std::chrono::steady_clock::time_point now) {
  std::erase_if(outstanding_, [now](const Outstanding& entry) { return entry.expires_at <= now; });
}

}  // namespace field_client::ui
