// One-time launch tokens: what a browser's command line carries instead of the app's key
// (other local users can read /proc/*/cmdline). A token is random, opens the app once, and
// only within its lifetime (60 s by default); redeeming it sets the same cookie as the key.
//
// Invariants: at most kMaxOutstanding tokens are held (minting past it forgets the oldest);
// a token is gone once redeemed or once its lifetime is over.
//
// Thread safety: every member may be called from any thread (the server's thread redeems,
// the C API's caller or a second `field-client app` mints).
#pragma once

#include <chrono>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>

namespace field_client::ui {

class LaunchTokens {
 public:
  using Clock = std::function<std::chrono::steady_clock::time_point()>;
  static constexpr std::size_t kMaxOutstanding = 16;

  // `lifetime`: how long a new token stays valid; `now`: the clock (tests pass their own).
  explicit LaunchTokens(std::chrono::milliseconds lifetime = std::chrono::seconds(60), Clock now = {});

  // A new token (48 hex digits). Throws std::runtime_error when the system has no random bytes.
  std::string mint();

  // True, and the token is forgotten, when `token` was minted here, is unused and is still
  // valid; false otherwise (unknown, used or expired), with nothing changed but pruning.
  bool redeem(std::string_view token);

 private:
  struct Outstanding {
    std::string token;
    std::chrono::steady_clock::time_point expires_at;
  };
  void prune(std::chrono::steady_clock::time_point now);  // REQUIRES: mutex_ held

  const std::chrono::milliseconds lifetime_;
  const Clock now_;
  std::mutex mutex_;
  std::deque<Outstanding> outstanding_;  // guarded by mutex_; oldest first
};

// 24 random bytes as 48 hex digits (the app's key, a launch token). Throws
// std::runtime_error when the system has no random bytes.
std::string random_secret();

// Compares a secret in constant time (for its length).
bool same_secret(std::string_view given, std::string_view secret);

}  // namespace field_client::ui
