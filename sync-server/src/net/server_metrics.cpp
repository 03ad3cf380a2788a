#include "server_metrics.h"

#include "commit_queue.h"
#include "safer/error_codes.h"
#include "sync_server/retention.h"

namespace sync_server::net {

namespace {

// Every code the server sends, after `first`: a closed list, so the series are bounded.
std::vector<std::string> server_codes(std::vector<std::string> first) {
  for (const auto& info : safer::kErrorCodes) {
    if (info.from_server) first.emplace_back(info.code);
  }
  return first;
}

constexpr const char* kLoginOutcomes[] = {"ok", "wrong_password", "locked", "disabled",
                                          "rate_limited", "busy", "bad_request", "unavailable"};

}  // namespace

ServerMetrics::ServerMetrics()
    : pushes("result", server_codes({"acked"})),
      changes("result", {"applied", "ignored", "invalid", "forbidden", "erased", "clock_skew"}),  // safer::Rejection
      commit_group_batches({1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024}),
      commit_seconds({0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}),
      pulls_refused("code", server_codes({})),
      logins("outcome", std::vector<std::string>(std::begin(kLoginOutcomes), std::end(kLoginOutcomes))),
      retention_runs("result", {"ok", "failed"}),
      retention_removed("kind", {"notes_blanked", "visits_erased", "orphans_erased", "sessions_erased",
                                 "tombstones_compacted", "exits_compacted", "audit_removed"}) {}

void ServerMetrics::record_push(const PushResult& result) {
  if (result.failure) return pushes.at(result.failure->code).add();
  const auto& outcome = *result.outcome;
  if (outcome.error) return pushes.at(outcome.error->code).add();
  pushes.at("acked").add();
  changes.at("applied").add(static_cast<std::uint64_t>(outcome.applied));
  changes.at("ignored").add(static_cast<std::uint64_t>(outcome.ignored));
  for (const auto& rejection : outcome.ack->rejected) changes.at(rejection.code).add();
}

void ServerMetrics::record_pull_page(std::size_t changes_sent, std::size_t bytes) {
  pull_pages.add();
  pull_changes.add(changes_sent);
  pull_bytes.add(bytes);
}

void ServerMetrics::record_pull_refused(std::string_view code) { pulls_refused.at(code).add(); }

void ServerMetrics::record_login(LoginOutcome outcome) { logins.at(kLoginOutcomes[static_cast<int>(outcome)]).add(); }

void ServerMetrics::record_retention_run(const PurgeCounts* counts, double unix_seconds) {
  retention_last_run.set(unix_seconds);
  if (counts == nullptr) return retention_runs.at("failed").add();
  retention_runs.at("ok").add();
  const std::pair<const char*, std::int64_t> removed[] = {
      {"notes_blanked", counts->notes_blanked},       {"visits_erased", counts->visits_erased},
      {"orphans_erased", counts->orphans_erased},     {"sessions_erased", counts->sessions_erased},
      {"tombstones_compacted", counts->tombstones_compacted}, {"exits_compacted", counts->exits_compacted},
      {"audit_removed", counts->audit_removed}};
  for (const auto& [kind, count] : removed) retention_removed.at(kind).add(static_cast<std::uint64_t>(count));
}

void ServerMetrics::render(metrics::Exposition& out) const {
  out.counter("safer_sync_pushes_total", "Pushes answered, by result: acked, or the error code that refused the whole push",
              pushes);
  out.counter("safer_sync_changes_total",
              "Changes of acked pushes, by result: applied, ignored (older than the stored version, or a resend), "
              "or the code they were rejected with",
              changes);
  out.histogram("safer_sync_commit_group_batches", "Pushes committed together in one transaction (group commit)",
                commit_group_batches);
  out.histogram("safer_sync_commit_seconds", "Time to apply and commit one group of pushes", commit_seconds);
  out.counter("safer_sync_pull_pages_total", "Pull pages sent", pull_pages);
  out.counter("safer_sync_pull_changes_total", "Changes sent in pull pages", pull_changes);
  out.counter("safer_sync_pull_bytes_total", "Bytes of pull pages sent (their JSON)", pull_bytes);
  out.counter("safer_sync_pulls_refused_total", "Pulls answered with an error, by code", pulls_refused);
  out.counter("safer_sync_logins_total", "Dashboard login attempts, by outcome", logins);
  out.counter("safer_sync_retention_runs_total", "Retention purges run by serve, by result", retention_runs);
  out.counter("safer_sync_retention_removed_total", "What retention purges run by serve removed or blanked, by kind",
              retention_removed);
  out.gauge("safer_sync_retention_last_run_timestamp_seconds",
            "When serve's last retention purge ended (Unix time); 0 before the first", retention_last_run.value());
}

ServerMetrics& server_metrics() {
  static ServerMetrics metrics;
  return metrics;
}

}  // namespace sync_server::net
