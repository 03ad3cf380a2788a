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

#include "safer/household.h"

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
  // Target households with no completed visit on or after `since` (a local date).
  std::string unvisited_json(const std::optional<std::string>& ward, const safer::CivilDate& since,
                             Listed* listed = nullptr);
  std::string follow_ups_json(const std::optional<std::string>& ward, Listed* listed = nullptr);
  // Follow-ups due on the store's local today or before, each on its household's latest visit
  // (a later visit supersedes it), grouped by officer (the household's assignee, else who
  // recorded the visit), each officer's split into overdue and due today (work_due.cpp).
  std::string follow_ups_due_json(const std::optional<std::string>& ward, Listed* listed = nullptr);
  std::string activity_json(const DateRange& range);

  // --- The register and devices (register.cpp) ---
  // Which households a list shows: every condition given holds.
  struct HouseholdFilter {
    std::optional<std::string> ward;
    std::optional<bool> target;          // nullopt: targets and others
    bool unassigned = false;             // only those assigned to nobody
    std::optional<std::string> officer;  // only those assigned to this user id
  };
  std::string households_json(const HouseholdFilter& filter, const std::optional<std::string>& query, int limit,
                              int offset, Listed* listed = nullptr);
  // Sets a household's assignee as a coordinator's upsert (it syncs to tablets).
  // The change and its audit entry (by `coordinator`) commit together.
  Result<std::string> assign_json(const std::string& household_id, const std::optional<std::string>& assigned_to,
                                  const Actor& coordinator);
  // The same for each of `household_ids` (1 to kMaxBulkAssign), all in one transaction: every
  // one is assigned, each with its own audit entry, or none ("not_found" names the first
  // missing household, "invalid" a bad list or user id).
  static constexpr std::size_t kMaxBulkAssign = 500;
  Result<std::string> assign_many_json(const std::vector<std::string>& household_ids,
                                       const std::optional<std::string>& assigned_to, const Actor& coordinator);

  // --- One household (household_page.cpp) ---
  // Its details, its live visits (newest first, each record as stored with who recorded it)
  // and its assignment history (from the audit trail). "not_found" for none or an erased one.
  // The caller audits the view.
  Result<std::string> household_json(const std::string& household_id);
  // Replaces its address, postcode, ward, vulnerability and (when set) target with `edited`'s,
  // validated as a pushed household is, as a coordinator's upsert that tablets pull; audited
  // (`household_edit`, the names of the fields changed) in the same transaction. Nothing is
  // written when nothing changed. Returns the household as stored. Errors: "not_found",
  // "invalid" (naming the field).
  Result<std::string> edit_household_json(const std::string& household_id, const safer::Household& edited,
                                          const Actor& coordinator);
  // Erases it (protocol.md §5.7): a coordinator's delete, with its visits, in one transaction,
  // audited as `erase` by `coordinator`. Returns how many visits went with it.
  Result<std::size_t> erase_household(const std::string& household_id, const Actor& coordinator);

  // --- Officers known to the server (officers.cpp) ---
  // Those named on the dashboard and every user with a device not revoked: user_id, listed,
  // devices, role (of a device; null for none), households (assigned to them now).
  std::string officers_json();
  // Names an officer (audited as `officer_add`; naming one already named changes nothing), or
  // takes the name off the list (`officer_remove`; "not_found" if it was not on it). Neither
  // touches assignments or devices.
  Status add_officer(const std::string& user_id, const Actor& coordinator);
  Status remove_officer(const std::string& user_id, const Actor& coordinator);
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
  // Every live household with the import's columns and `vulnerability` (households_csv.h).
  std::int64_t households_csv(const CsvSink& sink);
  // The same, whole in one string (tests and small exports).
  std::string households_csv();
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
  // Whether `name` is a partner referrals can be made to: a built-in referral or one of the
  // server's questions of kind referral (protocol.md §5.8), withdrawn or not.
  bool is_partner(std::string_view name) const;
  // "fire_service, …, other or age_uk": every such partner, for a message.
  std::string partner_names() const;
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

  safer::Status assign_in_group(const std::string& household_id, const std::optional<std::string>& assigned_to,
                                const Actor& coordinator);
  ServerStore& store_;
};

}  // namespace sync_server
