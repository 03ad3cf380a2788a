// The tablet app's PIN check with an attempt limit: a few wrong PINs are free, then each one
// makes the next attempt wait twice as long, and too many lock the app out until the tablet
// is enrolled again. The count lives in the store (Store::pin_attempts), so stopping and
// starting the app resets nothing.
//
// Thread safety: one thread at a time (the ui server's), like the Store it holds.
#pragma once

#include <chrono>
#include <functional>

#include "field_client/store.h"

namespace field_client::ui {

struct PinPolicy {
  int free_attempts = 3;                              // the wrong PIN in a row that starts the first wait
  std::chrono::milliseconds first_wait{30'000};       // after the last free one; doubles after each more
  std::chrono::milliseconds longest_wait{3'600'000};  // the doubling stops here
  int max_attempts = 10;                              // this many wrong PINs lock the app out
};

struct PinAnswer {
  enum class Verdict { right, wrong, wait, locked_out, failed };
  Verdict verdict = Verdict::failed;
  std::chrono::milliseconds retry_after{0};  // wrong or wait: how long until the next attempt is checked
  int attempts_left = 0;                     // wrong: wrong PINs left before the lock-out
  Error error;                               // failed: the store could not read or save the count
};

class PinGuard {
 public:
  // `wall_clock`: Unix milliseconds now (a restart must keep a wait, so not steady_clock).
  PinGuard(Store& store, PinPolicy policy, std::function<safer::UnixMillis()> wall_clock);

  // Checks `pin` unless a wait is running or the app is locked out; a wrong PIN is counted
  // (and saved) before the answer, a right one clears the count. When the count cannot be
  // saved the PIN is not accepted either (verdict failed).
  PinAnswer attempt(const std::string& pin);

  // REQUIRES: failures >= 1. How long the next attempt waits after `failures` wrong PINs.
  std::chrono::milliseconds wait_after(int failures) const;

 private:
  PinAnswer count_wrong(PinAttempts attempts, safer::UnixMillis now);

  Store& store_;
  const PinPolicy policy_;
  const std::function<safer::UnixMillis()> wall_clock_;
};

}  // namespace field_client::ui
