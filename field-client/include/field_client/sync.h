// Syncing a device's store with the server (protocol.md §2-§4): push the outbox, then pull
// every page, each step committed locally before the next.
//
// A sync can stop anywhere — a lost connection, a killed process, a server restart — and the
// next one carries on: changes stay pending until their ack is stored, and the cursor moves
// only with the page it belongs to. The server ignores a change it already has, so nothing
// is lost and nothing counted twice.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "field_client/store.h"

namespace field_client {

// Where a sync stands, reported after each step (SyncOptions::on_progress).
struct SyncProgress {
  enum class Phase { connecting, pushing, pulling };
  Phase phase = Phase::connecting;
  std::int64_t pushed = 0;     // changes acked so far in this sync
  std::int64_t to_push = 0;    // changes pending when the push began
  // Changes and pages received so far (evictions included). Pages are stored in batches of
  // about 5,000 changes, so these run up to a batch ahead of what is stored; the sync's
  // result, not the last progress call, says the pull is done.
  std::int64_t pulled = 0;
  std::int64_t pages = 0;
  // The server's estimate of the changes still to come after the last page (protocol.md §4.2
  // `remaining`); nullopt before the first page and from a server that sends none.
  std::optional<std::int64_t> remaining;
  // When the pull's first page was asked for (wall clock, and steady for measuring).
  std::optional<safer::UnixMillis> pull_started_at;
  std::chrono::steady_clock::time_point pull_started{};
};

struct SyncOptions {
  std::chrono::milliseconds timeout{15'000};  // for connecting and for each answer
  std::size_t max_batch_changes = 500;        // changes per push (protocol.md §3.1 allows 1000)
  int pull_limit = 500;
  std::string app_version = "field-client/0.1";
  // Allow ws:// to a host other than loopback for this sync, even if enrolment did not.
  bool allow_plaintext = false;
  std::function<void(const SyncProgress&)> on_progress;
};

struct SyncReport {
  std::int64_t pushed = 0;    // changes the server acknowledged
  std::int64_t rejected = 0;  // of which it rejected
  std::int64_t pulled = 0;    // changes received
  bool full_pull = false;     // the cursor was refused and everything was pulled again
  std::int64_t clock_offset_ms = 0;  // server clock minus this device's
};

// Runs one sync. Errors (classified in shared/include/safer/error_codes.h):
//   "not_enrolled"                      no server URL and token yet: do not retry
//   "unauthorized"                      the server refused the token (401): do not retry
//   "device_mismatch", "unsupported_protocol", "lost"   fatal: do not retry
//   "untrusted_server"                  wss: the server's certificate could not be verified: do not retry
//   "invalid"                           ws:// to a host other than loopback, not allowed (field "server"):
//                                       nothing was sent; do not retry
//   "network", "unavailable", "bad_message", "storage", "storage_full" … worth retrying later
//                                       (a store that cannot be read is "storage" too)
Result<SyncReport> sync_once(Store& store, const SyncOptions& options);

// The table's classification (safer::is_retryable_code): false for the errors a person must
// act on, true for the others and for codes the table does not know.
bool is_retryable(const Error& error);

}  // namespace field_client
