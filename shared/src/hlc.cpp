#include "safer/hlc.h"

#include <cstdio>

namespace safer {

namespace {

bool all_digits(std::string_view text) {
  for (char c : text) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

std::int64_t parse_digits(std::string_view text) {
  std::int64_t value = 0;
  for (char c : text) value = value * 10 + (c - '0');
  return value;
}

}  // namespace

std::optional<Hlc> Hlc::parse(std::string_view text) {
  if (text.size() != 21 || text[15] != '-') return std::nullopt;
  const auto millis = text.substr(0, 15);
  const auto counter = text.substr(16, 5);
  if (!all_digits(millis) || !all_digits(counter)) return std::nullopt;
  return Hlc{parse_digits(millis), static_cast<std::uint32_t>(parse_digits(counter))};
}

std::string Hlc::to_string() const {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%015lld-%05u", static_cast<long long>(millis), counter);
  return buffer;
}

HlcClock::HlcClock(WallClock wall_clock, Hlc last)
    : wall_clock_(std::move(wall_clock)), last_(last) {}

Hlc HlcClock::tick() {
  const std::int64_t wall = std::min(wall_clock_(), Hlc::kMaxMillis);
  if (wall > last_.millis) {
    last_ = Hlc{wall, 0};
  } else if (last_.counter < Hlc::kMaxCounter) {
    ++last_.counter;
  } else if (last_.millis < Hlc::kMaxMillis) {
    // 100,000 events in one millisecond of a stalled clock: borrow the next millisecond.
    last_ = Hlc{last_.millis + 1, 0};
  }
  // else: the greatest HLC there is (the year 33658); it stays there rather than wrap.
  return last_;
}

void HlcClock::observe(const Hlc& remote) {
  if (remote > last_) last_ = remote;
}

}  // namespace safer
