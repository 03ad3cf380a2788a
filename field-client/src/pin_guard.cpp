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

PinAnswer PinGuard::wipe_now() {
  if (auto wiped = wipe_ ? wipe_() : Store::wipe_files(store_path_); !wiped) {
    return PinAnswer{Verdict::failed, {}, 0, wiped.error(), {}};
  }
  return PinAnswer{Verdict::wiped, {}, 0, {}, {}};
}

PinAnswer PinGuard::counted(const Count& before, const std::function<Status(const Count&)>& save,
                            const std::function<Result<bool>()>& check) {
  if (before.failures >= before.max_attempts) return PinAnswer{Verdict::wiped, {}, 0, {}, {}};
  const safer::UnixMillis now = wall_clock_();
  if (before.not_before > now) {
    // A wall clock set back must not make the wait longer than the policy's longest.
    const auto left = std::min(std::chrono::milliseconds(before.not_before - now), policy_.longest_wait);
    return PinAnswer{Verdict::wait, left, before.max_attempts - before.failures, {}, {}};
  }
  Count raised = before;
  raised.failures += 1;
  const bool last = raised.failures >= raised.max_attempts;
  const auto wait = last ? std::chrono::milliseconds(0) : wait_after(raised.failures);
  raised.not_before = wait.count() > 0 ? now + wait.count() : 0;
  if (auto saved = save(raised); !saved) return PinAnswer{Verdict::failed, {}, 0, saved.error(), {}};

  const auto right = check();
  if (!right) {
    (void)save(before);  // not the PIN's fault: the count goes back to what it was
    return PinAnswer{Verdict::failed, {}, 0, right.error(), {}};
  }
  if (*right) return PinAnswer{Verdict::right, {}, raised.max_attempts, {}, {}};
  if (last) return PinAnswer{Verdict::wiped, {}, 0, {}, {}};
  if (wait.count() > 0) {
    // The wait runs from the answer, not from the start of the check (a KDF takes a while).
    raised.not_before = wall_clock_() + wait.count();
    if (auto saved = save(raised); !saved) return PinAnswer{Verdict::failed, {}, 0, saved.error(), {}};
  }
  return PinAnswer{Verdict::wrong, wait, raised.max_attempts - raised.failures, {}, {}};
}

PinAnswer PinGuard::attempt(const std::string& pin, const std::function<Result<bool>(const StoreKey&)>& accepts) {
  // The count lives in the key file in force; only a PIN change cut short leaves just the next one.
  KeySlot counting = KeySlot::current;
  auto stored = read_key_file(store_path_, counting);
  if (stored && !*stored) stored = read_key_file(store_path_, counting = KeySlot::next);
  if (!stored) return PinAnswer{Verdict::failed, {}, 0, stored.error(), {}};
  if (!*stored) return PinAnswer{Verdict::failed, {}, 0, Error{"invalid", "this store has no PIN", "pin"}, {}};
  const KeyFile key_file = **stored;
  const auto save = [&](const Count& count) {
    KeyFile updated = key_file;
    updated.failures = count.failures;
    updated.not_before = count.not_before;
    return write_key_file(store_path_, updated, counting);
  };
  std::optional<StoreKey> key;
  const auto check = [&]() -> Result<bool> {
    auto tried = try_slot(pin, KeySlot::current, accepts, key);
    if ((!tried || (*tried && !**tried)) && !key) {
      // A PIN change cut short between the new key file and its rename: the store may be
      // under the next key already.
      if (auto next = try_slot(pin, KeySlot::next, accepts, key); next) {
        tried = next;
        if (key) {
          if (auto promoted = promote_next_key_file(store_path_); !promoted) return promoted.error();
          counting = KeySlot::current;
        }
      }
    }
    if (!tried) return false;  // no key file in either slot: nothing this PIN opens
    return *tried;
  };
  PinAnswer answer = counted(Count{key_file.failures, key_file.max_attempts, key_file.not_before}, save, check);
  if (answer.verdict == Verdict::wiped) return wipe_now();
  if (answer.verdict != Verdict::right) return answer;
  auto cleared = read_key_file(store_path_, counting);
  if (!cleared || !*cleared) {
    return PinAnswer{Verdict::failed, {}, 0, cleared ? Error{"storage", "the key file vanished", ""} : cleared.error(), {}};
  }
  KeyFile reset = **cleared;
  reset.failures = 0;
  reset.not_before = 0;
  if (auto saved = write_key_file(store_path_, reset, counting); !saved) return PinAnswer{Verdict::failed, {}, 0, saved.error(), {}};
  return PinAnswer{Verdict::right, {}, reset.max_attempts, {}, std::move(key)};
}

namespace {

// The answer of a PinGuard as unlock_store's result.
Result<std::unique_ptr<Store>> unlock_result(PinAnswer answer, std::unique_ptr<Store> opened) {
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

}  // namespace

Result<std::unique_ptr<Store>> unlock_store(const std::string& path, const std::string& pin, PinPolicy policy,
                                            StoreOptions options) {
  std::unique_ptr<Store> opened;
  if (!Store::is_encrypted(path)) {
    // A plain store opens with a PIN only if it still holds the app PIN of an earlier version.
    PinGuard guard(path, policy, safer::now_unix_millis);
    auto answer = guard.attempt_legacy(pin, opened);
    if (answer.verdict == Verdict::failed && answer.error.code == "invalid") {
      return Error{"invalid", "the store at " + path + " has no PIN (it is not encrypted): open it without one", "pin"};
    }
    return unlock_result(std::move(answer), std::move(opened));
  }
  PinGuard guard(path, policy, safer::now_unix_millis);
  auto answer = guard.attempt(pin, [&](const StoreKey& key) -> Result<bool> {
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
  return unlock_result(std::move(answer), std::move(opened));
}

}  // namespace field_client
