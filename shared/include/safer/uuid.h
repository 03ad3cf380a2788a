// Record ids: lowercase canonical UUIDs. New ids are UUIDv7 (RFC 9562), time-ordered so that
// inserting them keeps B-tree indexes append-mostly; any valid UUID from another client is
// accepted.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <random>
#include <string>
#include <string_view>

namespace safer {

// True if `text` is a UUID in lowercase canonical form: 8-4-4-4-12 lowercase hex digits.
bool is_canonical_uuid(std::string_view text);

// Makes UUIDv7 ids that increase strictly in the order they are made by one generator, also
// when the wall clock steps back (RFC 9562 §6.2, method 2: the 74 random bits are a counter
// within one millisecond). Thread-safe.
class UuidV7Generator {
 public:
  using WallClock = std::function<std::int64_t()>;  // Unix time in milliseconds

  UuidV7Generator();
  explicit UuidV7Generator(WallClock wall_clock);

  std::string next();

 private:
  std::mutex mutex_;
  WallClock wall_clock_;           // Constant after construction.
  std::mt19937_64 random_;         // Guarded by mutex_.
  std::int64_t last_millis_ = -1;  // Guarded by mutex_.
  std::uint64_t rand_high_ = 0;    // 12 bits (rand_a), guarded by mutex_.
  std::uint64_t rand_low_ = 0;     // 62 bits (rand_b), guarded by mutex_.
};

// A new UUIDv7 from a process-wide generator.
std::string new_uuid_v7();

}  // namespace safer
