// The dashboard's queries: the JSON and CSV bodies of the coordinator API (docs/api.md),
// read from a store, apart from ServerStore's own work (sync, devices, accounts). The
// coordinator API (net/api.cpp) makes one per request, on the thread that holds the store.
//
// Thread safety: as the ServerStore it reads.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "safer/json_out.h"
#include "safer/result.h"
#include "safer/time.h"
#include "sync_server/baseline.h"
#include "sync_server/server_store.h"

namespace sync_server {

class Dashboard {
 public:
  explicit Dashboard(ServerStore& store) : store_(store) {}

  // Each returns the response body. Ranges are local dates, both inclusive; unset ends are
  // open. Errors: "not_found", "invalid", or storage errors.
  using DateRange = std::pair<std::optional<safer::CivilDate>, std::optional<safer::CivilDate>>;

  // --- Figures (dashboard.cpp) ---
  std::string overview_json(const DateRange& range);
  std::string version_json();
  // The year's figures, and its "history": every financial year from the first of the baseline
  // or of the records up to this one, with their sums "since" then (docs/api.md).
  std::string report_json(int financial_year);
  // How many households a list showed, and matched in all, for the audit trail (audit.h).
  struct Listed {
    std::int64_t rows = 0;
    std::int64_t total = 0;
  };
  std::string unvisited_json(const std::optional<std::string>& ward, Listed* listed = nullptr);
  std::string follow_ups_json(const std::optional<std::string>& ward, Listed* listed = nullptr);
  std::string activity_json(const DateRange& range);

  // --- The register and devices (register.cpp) ---
  std::string households_json(const std::optional<std::string>& ward, const std::optional<std::string>& query,
                              int limit, int offset, Listed* listed = nullptr);
  // Sets a household's assignee as a coordinator's upsert (it syncs to tablets).
  // The change and its audit entry (by `coordinator`) commit together.
  Result<std::string> assign_json(const std::string& household_id, const std::optional<std::string>& assigned_to,
                                  const Actor& coordinator);
  std::string devices_json();
  std::string rejections_json(const std::string& device_id);

  // --- CSV exports (exports.cpp) ---
  // Written to `sink` in pieces of about kCsvPieceBytes, in order, on the calling thread, from
  // one snapshot read a page of rows at a time: memory stays bounded whatever the export's
  // size. An exception from the store or from `sink` ends the export. Returns the number of
  // rows (the header not counted), for the audit trail.
  using CsvSink = std::function<void(std::string_view piece)>;
  static constexpr std::size_t kCsvPieceBytes = 64 * 1024;
  std::int64_t visits_csv(const DateRange& range, const CsvSink& sink);
  std::int64_t commute_sessions_csv(const DateRange& range, const CsvSink& sink);
  // The same, whole in one string (tests and small exports).
  std::string visits_csv(const DateRange& range);
  std::string commute_sessions_csv(const DateRange& range);

  // --- Referrals to pass on (referral_lists.cpp, referrals.cpp) ---
  // Which referrals to one partner, by their visit's local date.
  enum class ReferralState { unsent, sent, all };
  struct ReferralFilter {
    std::string partner;  // REQUIRES: is_partner(partner)
    DateRange range;
    ReferralState state = ReferralState::unsent;
    // Referrals whose visit recorded no lawful basis for sharing (protocol.md §5.2): listed
    // and flagged by default, but left out of the partner's CSV and of "mark all as sent"
    // unless the coordinator includes them (docs/data-protection.md §5).
    bool include_not_recorded = true;
    int limit = 100;  // a page of the list: 1..kMaxReferralPage
    int offset = 0;
  };
  static constexpr int kMaxReferralPage = 500;
  // Whether `name` is a partner referrals can be made to (a safer::Referral name).
  static bool is_partner(std::string_view name);
  // A page of the filter's referrals, oldest visit first, each with what the partner needs to
  // act (never the visit's notes), and the partner's counts in the range: total, unsent, sent,
  // not_recorded. `listed` gets the page's rows and the total that matched.
  std::string referrals_json(const ReferralFilter& filter, Listed* listed = nullptr);
  // The partner's CSV of the filter's referrals (every page; limit and offset unused), as the
  // other exports. Returns the number of rows.
  std::int64_t referrals_csv(const ReferralFilter& filter, const CsvSink& sink);
  std::string referrals_csv(const ReferralFilter& filter);
  // Marks as passed on to filter.partner, by `coordinator` now, the unsent referrals of
  // `visit_ids` (at most kMaxReferralPage), or with nullopt every unsent one the filter selects
  // (its state, limit and offset unused). Referrals already sent keep who and when. The change
  // and its audit entry commit together. Returns how many were marked. Error "invalid" for
  // too many ids or a malformed one.
  Result<std::int64_t> mark_referrals_sent(const ReferralFilter& filter,
                                           const std::optional<std::vector<std::string>>& visit_ids,
                                           const Actor& coordinator);

  // --- The historic baseline (baseline.cpp) ---
  // Replaces the whole baseline with the CSV's years, audited as `by`'s; nothing is changed when
  // any line is wrong ("invalid", one problem a line as the register import).
  Result<std::size_t> load_baseline(std::string_view csv, const Actor& by);
  std::vector<BaselineYear> baseline();  // by year

 private:
  // report_json()'s history, before its snapshot (each year is a stats() read of its own).
  void write_history(safer::JsonOut& out, int last_year);

  ServerStore& store_;
};

}  // namespace sync_server
