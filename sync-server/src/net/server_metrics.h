// What the server counts as it works, for GET /metrics (docs/server.md, "Metrics"): pushes
// and changes by result, commit groups, pulls, logins, retention runs. One instance a process
// (server_metrics()), as there is one log; the scrape adds what it reads from the store and
// the open connections (metrics_scrape.h).
//
// Thread safety: as metrics.h: record from any thread, lock-free.
#pragma once

#include "metrics.h"

namespace sync_server {
struct PushResult;
struct PurgeCounts;
}  // namespace sync_server

namespace sync_server::net {

// A dashboard login's outcome, as logins_total counts it.
enum class LoginOutcome { ok, wrong_password, locked, disabled, rate_limited, busy, bad_request, unavailable };

struct ServerMetrics {
  ServerMetrics();

  // A push's answer: "acked", or the code of the error that refused it whole; and its changes:
  // "applied", "ignored" (older than what is stored, or a resend), or their rejection's code.
  void record_push(const PushResult& result);
  void record_pull_page(std::size_t changes, std::size_t bytes);
  void record_pull_refused(std::string_view code);
  void record_login(LoginOutcome outcome);
  // A retention purge run by serve (nullptr: it failed).
  void record_retention_run(const PurgeCounts* counts, double unix_seconds);

  // Appends every family above to `out`.
  void render(metrics::Exposition& out) const;

  metrics::LabelledCounter pushes;
  metrics::LabelledCounter changes;
  metrics::Histogram commit_group_batches;  // observed once a group, by the commit queue
  metrics::Histogram commit_seconds;        // applying and committing one group
  metrics::Counter pull_pages;
  metrics::Counter pull_changes;
  metrics::Counter pull_bytes;
  metrics::LabelledCounter pulls_refused;
  metrics::LabelledCounter logins;
  metrics::LabelledCounter retention_runs;
  metrics::LabelledCounter retention_removed;
  metrics::Gauge retention_last_run;  // unix seconds; 0 before the first
};

// The process's metrics.
ServerMetrics& server_metrics();

}  // namespace sync_server::net
