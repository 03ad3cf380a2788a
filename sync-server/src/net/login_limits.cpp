#include "login_limits.h"

#include <algorithm>
#include <cmath>

namespace sync_server::net {

LoginLimits::LoginLimits(const LoginSettings& settings)
    : per_address_per_second_(settings.per_address_per_minute / 60.0),
      per_address_burst_(std::max(1.0, settings.per_address_per_minute)),
      global_per_second_(settings.per_second),
      global_burst_(std::max(1.0, 2 * settings.per_second)),
      max_addresses_(std::max<std::size_t>(1, settings.max_addresses)) {
  global_.tokens = global_burst_;
  global_.filled = Clock::now();
}

std::int64_t LoginLimits::take(Bucket& bucket, double per_second, double burst, Clock::time_point now) {
  const double elapsed = std::chrono::duration<double>(now - bucket.filled).count();
  if (elapsed > 0) bucket.tokens = std::min(burst, bucket.tokens + elapsed * per_second);
  bucket.filled = std::max(bucket.filled, now);
  if (bucket.tokens >= 1) {
    bucket.tokens -= 1;
    return 0;
  }
  return std::max<std::int64_t>(1, static_cast<std::int64_t>(std::ceil((1 - bucket.tokens) / per_second)));
}

LoginLimits::Bucket& LoginLimits::bucket_of(const std::string& address, Clock::time_point now) {
  if (auto found = by_address_.find(address); found != by_address_.end()) {
    by_age_.splice(by_age_.begin(), by_age_, found->second.age);
    return found->second;
  }
  if (by_address_.size() >= max_addresses_) {
    by_address_.erase(by_age_.back());
    by_age_.pop_back();
  }
  by_age_.push_front(address);
  Bucket& bucket = by_address_[address];
  bucket.tokens = per_address_burst_;
  bucket.filled = now;
  bucket.age = by_age_.begin();
  return bucket;
}

std::int64_t LoginLimits::admit(const std::string& address, bool trusted_device, Clock::time_point now) {
  std::lock_guard lock(mutex_);
  Bucket& mine = bucket_of(address, now);
  if (const auto wait = take(mine, per_address_per_second_, per_address_burst_, now); wait > 0) return wait;
  if (trusted_device) return 0;
  if (const auto wait = take(global_, global_per_second_, global_burst_, now); wait > 0) {
    mine.tokens += 1;  // a refused attempt costs its address nothing
    return wait;
  }
  return 0;
}

std::size_t LoginLimits::addresses() const {
  std::lock_guard lock(mutex_);
  return by_address_.size();
}

}  // namespace sync_server::net
