#include "field_client/pin_guard.h"

#include <algorithm>

#include "safer/time.h"

namespace field_client {

using Verdict = PinAnswer::Verdict;

PinGuard::PinGuard(std::string store_path, PinPolicy policy, std::function<safer::UnixMillis()> wall_clock,
                   std::function<Status()> wipe)
    : store_path_(std::move(store_path)), policy_(policy), wall_clock_(std::move(wall_clock)), wipe_(std::move(wipe)) {}

std::chrono::milliseconds PinGuard::wait_after(int failures) const {
  if (failures < policy_.free_attempts) return std::chrono::milliseconds(0);
  auto wait = policy_.first_wait;
  for (int i = policy_.free_attempts; i < failures && wait < policy_.longest_wait; ++i) wait *= 2;
  return std::min(wait, policy_.longest_wait);
}

std::optional<Result<bool>> PinGuard::try_slot(const std::string& pin, KeySlot slot,
                                               const std::function<Result<bool>(const StoreKey&)>& accepts,
                                               std::optional<StoreKey>& key) {
  const auto key_file = read_key_file(store_path_, slot);
  if (!key_file) return Result<bool>(key_file.error());
  if (!*key_file) return std::nullopt;
  auto derived = derive_store_key(pin, **key_file);
  if (!derived) return Result<bool>(derived.error());
  auto accepted = accepts(*derived);
  if (accepted && *accepted) key = std::move(*derived);
  return accepted;
}

PinAnswer PinGuard::attempt(const std::string& pin, const std::function<Result<bool>(const StoreKey&)>& accepts) {
  // The count lives in the key file in force; only a PIN change cut short leaves just the next one.
  KeySlot counting = KeySlot::current;
  auto stored = read_key_file(store_path_, counting);
  if (stored && !*stored) stored = read_key_file(store_path_, counting = KeySlot::next);
  if (!stored) return PinAnswer{Verdict::failed, {}, 0, stored.error(), {}};
  if (!*stored) return PinAnswer{Verdict::failed, {}, 0, Error{"invalid", "this store has no PIN", "pin"}, {}};
  const KeyFile before = **stored;
  const auto wipe = [&]() -> PinAnswer {
    if (auto wiped = wipe_ ? wipe_() : Store::wipe_files(store_path_); !wiped) {
      return PinAnswer{Verdict::failed, {}, 0, wiped.error(), {}};
    }
    return PinAnswer{Verdict::wiped, {}, 0, {}, {}};
  };
  if (before.failures >= before.max_attempts) return wipe();
  const safer::UnixMillis now = wall_clock_();
  if (before.not_before > now) {
    // A wall clock set back must not make the wait longer than the policy's longest.
    const auto left = std::min(std::chrono::milliseconds(before.not_before - now), policy_.longest_wait);
    return PinAnswer{Verdict::wait, left, before.max_attempts - before.failures, {}, {}};
  }

  KeyFile counted = before;
  counted.failures += 1;
  const bool last = counted.failures >= counted.max_attempts;
  const auto wait = last ? std::chrono::milliseconds(0) : wait_after(counted.failures);
  counted.not_before = wait.count() > 0 ? now + wait.count() : 0;
  if (auto saved = write_key_file(store_path_, counted, counting); !saved) {
    return PinAnswer{Verdict::failed, {}, 0, saved.error(), {}};
  }

  std::optional<StoreKey> key;
  auto tried = try_slot(pin, KeySlot::current, accepts, key);
  if ((!tried || (*tried && !**tried)) && !key) {
    // A PIN change cut short between the new key file and its rename: the store may be under
    // the next key already.
    if (auto next = try_slot(pin, KeySlot::next, accepts, key); next) {
      tried = next;
      if (key) {
        if (auto promoted = promote_next_key_file(store_path_); !promoted) return PinAnswer{Verdict::failed, {}, 0, promoted.error(), {}};
        counting = KeySlot::current;
      }
    }
  }
  if (tried && !*tried) {
    // Not the PIN's fault: the count goes back to what it was.
    (void)write_key_file(store_path_, before, counting);
    return PinAnswer{Verdict::failed, {}, 0, tried->error(), {}};
  }
  if (key) {
    auto cleared = read_key_file(store_path_, counting);
    if (!cleared || !*cleared) return PinAnswer{Verdict::failed, {}, 0, cleared ? Error{"storage", "the key file vanished", ""} : cleared.error(), {}};
    KeyFile reset = **cleared;
    reset.failures = 0;
    reset.not_before = 0;
    if (auto saved = write_key_file(store_path_, reset, counting); !saved) return PinAnswer{Verdict::failed, {}, 0, saved.error(), {}};
    return PinAnswer{Verdict::right, {}, reset.max_attempts, {}, std::move(key)};
  }
  if (last) return wipe();
  if (wait.count() > 0) {
    // The wait runs from the answer, not from the start of the check (scrypt takes a while).
    counted.not_before = wall_clock_() + wait.count();
    if (auto saved = write_key_file(store_path_, counted, counting); !saved) return PinAnswer{Verdict::failed, {}, 0, saved.error(), {}};
  }
  return PinAnswer{Verdict::wrong, wait, counted.max_attempts - counted.failures, {}, {}};
}

Result<std::unique_ptr<Store>> unlock_store(const std::string& path, const std::string& pin, PinPolicy policy,
                                            StoreOptions options) {
  if (!Store::is_encrypted(path)) {
    return Error{"invalid", "the store at " + path + " has no PIN (it is not encrypted): open it without one", "pin"};
  }
  std::unique_ptr<Store> opened;
  PinGuard guard(path, policy, safer::now_unix_millis);
  const auto answer = guard.attempt(pin, [&](const StoreKey& key) -> Result<bool> {
    StoreOptions keyed = options;
    keyed.key = key;
    auto store = Store::open(path, std::move(keyed));
    if (!store) {
      if (store.error().code == "wrong_pin") return false;
      return store.error();
    }
    opened = std::move(*store);
    return true;
  });
  const auto seconds = std::to_string((answer.retry_after.count() + 999) / 1000);
  switch (answer.verdict) {
    case Verdict::right: return opened;
    case Verdict::wrong:
      return Error{"wrong_pin", "that PIN is not right: " + std::to_string(answer.attempts_left) +
                                    " more wrong PIN(s) erase this tablet's store" +
                                    (answer.retry_after.count() > 0 ? "; the next try waits " + seconds + " s" : ""),
                   "pin"};
    case Verdict::wait:
      return Error{"pin_wait", "too many wrong PINs: try again in " + seconds + " seconds", "pin"};
    case Verdict::wiped:
      return Error{"wiped", "too many wrong PINs: this tablet's store was erased; enrol it again", "pin"};
    case Verdict::failed: break;
  }
  return answer.error;
}

}  // namespace field_client
