// Rate limits on login attempts, checked in memory before a password check is queued, so that
// a flood costs a map lookup per attempt, not an scrypt: one token bucket per client address
// and one for all addresses together.
//
// Invariants: at most `max_addresses` addresses are remembered (memory stays bounded however
// many addresses send); when full, the address seen least recently is forgotten first.
//
// Thread safety: admit() from any thread (one mutex).
#pragma once

#include <chrono>
#include <cstdint>
#include <list>
#include <mutex>
#include <string>
#include <unordered_map>

#include "sync_server/server.h"

namespace sync_server::net {

class LoginLimits {
 public:
  using Clock = std::chrono::steady_clock;

  explicit LoginLimits(const LoginSettings& settings);

  // Counts one attempt from `address` and returns 0 when it may go on, or else the seconds
  // to wait before the next (for Retry-After; the attempt is not counted then). A trusted
  // device (a valid device cookie) skips the global limit, not its address's.
  std::int64_t admit(const std::string& address, bool trusted_device, Clock::time_point now = Clock::now());

  std::size_t addresses() const;  // remembered now, for tests

 private:
  struct Bucket {
    double tokens = 0;
    Clock::time_point filled;
    std::list<std::string>::iterator age;  // into by_age_
  };

  // Refills `bucket` at `per_second` up to `burst`; takes one token if there is one and
  // returns 0, else the whole seconds until there is one.
  static std::int64_t take(Bucket& bucket, double per_second, double burst, Clock::time_point now);
  Bucket& bucket_of(const std::string& address, Clock::time_point now);  // REQUIRES: mutex_ held

  // Constant after construction.
  const double per_address_per_second_;
  const double per_address_burst_;
  const double global_per_second_;
  const double global_burst_;
  const std::size_t max_addresses_;

  mutable std::mutex mutex_;
  Bucket global_;                                        // guarded by mutex_
  std::unordered_map<std::string, Bucket> by_address_;   // guarded by mutex_
  std::list<std::string> by_age_;                        // guarded by mutex_; most recent first
};

}  // namespace sync_server::net
