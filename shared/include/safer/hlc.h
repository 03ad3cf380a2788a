// Hybrid logical clock (Kulkarni et al.): timestamps that follow the wall clock, never go
// backwards, and order every local write after every version it has seen.
//
// Wire form (protocol.md §3): "<unix ms, 15 digits>-<counter, 5 digits>", for example
// "001764149400000-00003". The fixed width makes string order equal timestamp order.
#pragma once

#include <compare>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace safer {

struct Hlc {
  static constexpr std::int64_t kMaxMillis = 999'999'999'999'999;
  static constexpr std::uint32_t kMaxCounter = 99'999;

  std::int64_t millis = 0;   // Unix time in milliseconds, 0..kMaxMillis
  std::uint32_t counter = 0; // 0..kMaxCounter

  // Parses the wire form; nullopt unless it is exactly 15 digits, '-', 5 digits.
  static std::optional<Hlc> parse(std::string_view text);
  std::string to_string() const;

  friend auto operator<=>(const Hlc&, const Hlc&) = default;
};

// Not thread-safe: one owner (a store, a session) ticks it.
class HlcClock {
 public:
  using WallClock = std::function<std::int64_t()>;  // Unix time in milliseconds

  // `last` is the greatest timestamp issued or observed before, for example as persisted
  // by a previous run; every tick() is greater than it.
  explicit HlcClock(WallClock wall_clock, Hlc last = {});

  // A timestamp for a new local event: greater than every timestamp this clock has issued
  // or observed, and equal to the wall clock when the wall clock is ahead of them. (At the
  // very top of the range, 999999999999999-99999, it can only stay equal.)
  Hlc tick();

  // Takes in a timestamp seen on another device, so that later ticks order after it.
  void observe(const Hlc& remote);

  const Hlc& last() const { return last_; }

 private:
  WallClock wall_clock_;
  Hlc last_;
};

}  // namespace safer
