#include "pin_guard.h"

#include <algorithm>

namespace field_client::ui {

using Verdict = PinAnswer::Verdict;

PinGuard::PinGuard(Store& store, PinPolicy policy, std::function<safer::UnixMillis()> wall_clock)
    : store_(store), policy_(policy), wall_clock_(std::move(wall_clock)) {}

std::chrono::milliseconds PinGuard::wait_after(int failures) const {
  if (failures < policy_.free_attempts) return std::chrono::milliseconds(0);
  auto wait = policy_.first_wait;
  for (int i = policy_.free_attempts; i < failures && wait < policy_.longest_wait; ++i) wait *= 2;
  return std::min(wait, policy_.longest_wait);
}

PinAnswer PinGuard::attempt(const std::string& pin) {
  const auto stored = store_.pin_attempts();
  if (!stored) return PinAnswer{Verdict::failed, {}, 0, stored.error()};
  const PinAttempts attempts = *stored;
  if (attempts.locked_out) return PinAnswer{Verdict::locked_out, {}, 0, {}};
  const safer::UnixMillis now = wall_clock_();
  if (attempts.not_before > now) {
    // A wall clock set back must not make the wait longer than the policy's longest.
    const auto left = std::min(std::chrono::milliseconds(attempts.not_before - now), policy_.longest_wait);
    return PinAnswer{Verdict::wait, left, policy_.max_attempts - attempts.failures, {}};
  }
  if (!store_.check_pin(pin)) return count_wrong(attempts, now);
  if (attempts.failures > 0) {
    if (auto cleared = store_.set_pin_attempts(PinAttempts{}); !cleared) return PinAnswer{Verdict::failed, {}, 0, cleared.error()};
  }
  return PinAnswer{Verdict::right, {}, policy_.max_attempts, {}};
}

PinAnswer PinGuard::count_wrong(PinAttempts attempts, safer::UnixMillis now) {
  attempts.failures += 1;
  attempts.locked_out = attempts.failures >= policy_.max_attempts;
  const auto wait = attempts.locked_out ? std::chrono::milliseconds(0) : wait_after(attempts.failures);
  attempts.not_before = wait.count() > 0 ? now + wait.count() : 0;
  if (auto saved = store_.set_pin_attempts(attempts); !saved) return PinAnswer{Verdict::failed, {}, 0, saved.error()};
  if (attempts.locked_out) return PinAnswer{Verdict::locked_out, {}, 0, {}};
  return PinAnswer{Verdict::wrong, wait, policy_.max_attempts - attempts.failures, {}};
}

}  // namespace field_client::ui
