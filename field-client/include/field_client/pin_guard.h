// The PIN that opens an encrypted store (store_key.h), with an attempt limit: a few wrong
// PINs are free, then each one makes the next attempt wait twice as long, and the one that
// reaches the limit in the key file (default 10) wipes the store (Store::wipe_files). The
// count and the wait live in the key file, which is read before the store can be opened, so
// stopping and starting the app (or the CLI) resets nothing. Every attempt is counted as a
// wrong one before the PIN is tried, and cleared only once it proved right: killing the
// program mid-check does not give a free guess.
//
// This guards the tablet's own door; it does not stop a copy of the files being attacked
// offline (docs/field-client.md, "What someone holding a powered-off tablet can and cannot learn").
//
// Thread safety: one thread at a time per store.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "field_client/store.h"
#include "field_client/store_key.h"

namespace field_client {

struct PinPolicy {
  int free_attempts = 3;                              // the wrong PIN in a row that starts the first wait
  std::chrono::milliseconds first_wait{30'000};       // after the last free one; doubles after each more
  std::chrono::milliseconds longest_wait{3'600'000};  // the doubling stops here
};

struct PinAnswer {
  enum class Verdict { right, wrong, wait, wiped, failed };
  Verdict verdict = Verdict::failed;
  std::chrono::milliseconds retry_after{0};  // wrong or wait: how long until the next attempt is checked
  int attempts_left = 0;                     // wrong or wait: wrong PINs left before the wipe
  Error error;                               // failed: the key file could not be read or saved
  std::optional<StoreKey> key;               // right: the store's key
};

class PinGuard {
 public:
  // `wall_clock`: Unix milliseconds now (a restart must keep a wait, so not steady_clock).
  // `wipe`: erases the store when the limit is reached; it must close whatever this process
  // holds open on it first (the default is Store::wipe_files, for a store not open here).
  PinGuard(std::string store_path, PinPolicy policy, std::function<safer::UnixMillis()> wall_clock,
           std::function<Status()> wipe = {});

  // Checks `pin` unless a wait is running: derives the key and asks `accepts` whether it is
  // the store's (opening the store, or comparing with the key already held). A wrong PIN is
  // counted (and saved) before the answer; the one that reaches the limit wipes the store.
  // When the count cannot be saved the PIN is not tried (verdict failed).
  PinAnswer attempt(const std::string& pin, const std::function<Result<bool>(const StoreKey&)>& accepts);

  // The plain store of an earlier version that still holds that version's app PIN (a PBKDF2
  // hash in the store; Store::open answers it "locked"): checks `pin` against that hash,
  // counted, waited and wiped exactly as attempt() does (the count stays where that version
  // kept it, in the store, with the limit `settings.max_attempts`; a store that version had
  // locked out is at the limit). The right PIN encrypts the store with a key from it, as
  // Store::set_pin(pin, settings) does, and removes the old hash: the verdict is right, with
  // the key, and `opened` holds the store. A store with no old PIN: failed, Error "invalid".
  PinAnswer attempt_legacy(const std::string& pin, std::unique_ptr<Store>& opened, PinSettings settings = {});

  // REQUIRES: failures >= 1. How long the next attempt waits after `failures` wrong PINs.
  std::chrono::milliseconds wait_after(int failures) const;

 private:
  // A wrong-PIN count, wherever it is kept.
  struct Count {
    int failures = 0;
    int max_attempts = 10;
    safer::UnixMillis not_before = 0;
  };
  // The counting both kinds of PIN share: refuses during a wait, saves the raised count with
  // `save` before `check` runs, puts it back when `check` fails (not the PIN's fault), and
  // sets the next wait. Verdict right (the caller clears the count), wrong, wait, failed, or
  // wiped when the limit is reached: the caller then releases the store and calls wipe_now().
  PinAnswer counted(const Count& before, const std::function<Status(const Count&)>& save,
                    const std::function<Result<bool>()>& check);
  PinAnswer wipe_now();

  // Tries `pin` with the key file in `slot`; nullopt when that slot has no key file.
  std::optional<Result<bool>> try_slot(const std::string& pin, KeySlot slot,
                                       const std::function<Result<bool>(const StoreKey&)>& accepts,
                                       std::optional<StoreKey>& key);

  const std::string store_path_;
  const PinPolicy policy_;
  const std::function<safer::UnixMillis()> wall_clock_;
  const std::function<Status()> wipe_;
};

// Opens the encrypted store at `path` with `pin` through a PinGuard (counting, waits, the
// wipe). Errors: "wrong_pin" (the message says how many are left), "pin_wait", "wiped",
// "invalid" for a store with no PIN, and the storage codes.
Result<std::unique_ptr<Store>> unlock_store(const std::string& path, const std::string& pin, PinPolicy policy = {},
                                            StoreOptions options = {});

}  // namespace field_client
