#include "safer/uuid.h"

#include <array>

#include "safer/hex.h"
#include "safer/time.h"

namespace safer {

bool is_canonical_uuid(std::string_view text) {
  if (text.size() != 36) return false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return false;
    } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return false;
    }
  }
  return true;
}

UuidV7Generator::UuidV7Generator() : UuidV7Generator(now_unix_millis) {}

UuidV7Generator::UuidV7Generator(WallClock wall_clock)
    : wall_clock_(std::move(wall_clock)) {
  // Two 32-bit draws: std::random_device yields unsigned int.
  std::random_device device;
  random_.seed((static_cast<std::uint64_t>(device()) << 32) ^ device());
}

std::string UuidV7Generator::next() {
  constexpr std::uint64_t kLowMask = (std::uint64_t{1} << 62) - 1;
  constexpr std::uint64_t kHighMask = (std::uint64_t{1} << 12) - 1;

  std::int64_t millis = 0;
  std::uint64_t high = 0;
  std::uint64_t low = 0;
  {
    std::lock_guard lock(mutex_);
    millis = wall_clock_();
    if (millis > last_millis_) {
      // A new millisecond: fresh random bits, with the top bit of rand_a clear so that many
      // increments fit before the counter could overflow into the next millisecond.
      last_millis_ = millis;
      rand_high_ = random_() & (kHighMask >> 1);
      rand_low_ = random_() & kLowMask;
    } else {
      // Same millisecond, or the clock stepped back: count up from the last id.
      if (++rand_low_ > kLowMask) {
        rand_low_ = 0;
        if (++rand_high_ > kHighMask) {
          rand_high_ = 0;
          ++last_millis_;
        }
      }
    }
    millis = last_millis_;
    high = rand_high_;
    low = rand_low_;
  }

  std::array<unsigned char, 16> bytes{};
  const auto ms = static_cast<std::uint64_t>(millis);
  for (int i = 0; i < 6; ++i) bytes[static_cast<std::size_t>(i)] = static_cast<unsigned char>(ms >> (40 - 8 * i));
  bytes[6] = static_cast<unsigned char>(0x70 | ((high >> 8) & 0x0f));  // version 7
  bytes[7] = static_cast<unsigned char>(high & 0xff);
  bytes[8] = static_cast<unsigned char>(0x80 | ((low >> 56) & 0x3f));  // variant 10
  for (int i = 0; i < 7; ++i) {
    bytes[static_cast<std::size_t>(9 + i)] = static_cast<unsigned char>(low >> (48 - 8 * i));
  }

  const std::span<const unsigned char> all(bytes);
  return to_hex(all.first(4)) + '-' + to_hex(all.subspan(4, 2)) + '-' + to_hex(all.subspan(6, 2)) + '-' +
         to_hex(all.subspan(8, 2)) + '-' + to_hex(all.subspan(10));
}

std::string new_uuid_v7() {
  static UuidV7Generator generator;
  return generator.next();
}

}  // namespace safer
