// The audit trail (issue 14 §4, docs/server.md "Audit trail"): who did what, when, from
// where, to which ids — never addresses, notes or search text — in an append-only table
// whose entries form a hash chain.
//
// Invariants, kept by AuditLog and by triggers in the schema (server_store.cpp):
//  1. Entries are numbered 1, 2, 3, … with no gaps; entry N's prev_hash is entry N-1's hash
//     (the anchor's, for the oldest entry kept), and its hash is
//     SHA-256(prev_hash || canonical(fields)) (audit.cpp: canonical_fields()).
//  2. The one-row head (audit_head) holds the last entry's seq and hash and the anchor: the
//     seq and hash of the last entry a purge removed (0 and 64 zeros before any purge).
//  3. UPDATE and DELETE on audit_log are refused by triggers, except a DELETE of entries at
//     or below the anchor (a purge moves the anchor first); the head only moves forward.
//  4. Appends are serialised (the head row is locked for the rest of the transaction), so the
//     chain stays one line with several servers on one PostgreSQL database.
//
// What verify() cannot catch: someone with write access to the database who drops the
// triggers and writes a whole new chain and head. The defence is outside the database: keep
// the head hash that verify() prints (the daily log, a ticket) and compare later heads with it.
//
// Thread safety: as the ServerStore it works on.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "safer/result.h"
#include "safer/time.h"
#include "sync_server/server_store.h"

namespace sync_server {

// One entry, as written. Every text is short and names ids, never personal data.
struct AuditEntry {
  AuditEntry() = default;
  AuditEntry(Actor by, std::string what) : actor(std::move(by)), action(std::move(what)) {}

  Actor actor;
  std::string action;        // one of the names below (kAudit…)
  std::string outcome = "ok";  // "ok", or the error code of a refused or failed action
  std::string household;     // the household concerned
  std::string device;        // the device concerned (enrol, revoke, wipe)
  std::string username;      // the account or user concerned (an account, an enrolled user)
  std::string kind;          // what was exported or listed: "visits", "commute_sessions", "audit", …
  std::string detail;        // range, row counts, the new assignee: never addresses or notes
};

// The actions (docs/server.md lists them with what each records).
inline constexpr const char* kAuditLogin = "login";
inline constexpr const char* kAuditLogout = "logout";
inline constexpr const char* kAuditExport = "export";
inline constexpr const char* kAuditHouseholdsView = "households_view";
inline constexpr const char* kAuditHouseholdsSearch = "households_search";
inline constexpr const char* kAuditHouseholdView = "household_view";
inline constexpr const char* kAuditHouseholdEdit = "household_edit";
inline constexpr const char* kAuditOfficerAdd = "officer_add";
inline constexpr const char* kAuditOfficerRemove = "officer_remove";
inline constexpr const char* kAuditWorklistView = "worklist_view";
inline constexpr const char* kAuditAuditView = "audit_view";
inline constexpr const char* kAuditAuditVerify = "audit_verify";
inline constexpr const char* kAuditAuditPurge = "audit_purge";
inline constexpr const char* kAuditRegisterImport = "register_import";
inline constexpr const char* kAuditAssign = "assign";
inline constexpr const char* kAuditEnroll = "enroll";
inline constexpr const char* kAuditEnrolmentCode = "enrolment_code";
inline constexpr const char* kAuditRevoke = "revoke";
inline constexpr const char* kAuditRevokeWipe = "revoke_and_wipe";
inline constexpr const char* kAuditWipeDelivered = "wipe_delivered";
inline constexpr const char* kAuditErase = "erase";
inline constexpr const char* kAuditAccountAdd = "account_add";
inline constexpr const char* kAuditPasswordChange = "password_change";
inline constexpr const char* kAuditPasswordReset = "password_reset";
inline constexpr const char* kAuditAccountDisable = "account_disable";
inline constexpr const char* kAuditAccountEnable = "account_enable";
inline constexpr const char* kAuditListsView = "lists_view";
inline constexpr const char* kAuditListsChange = "lists_change";
inline constexpr const char* kAuditQuestionsView = "questions_view";
inline constexpr const char* kAuditQuestionsChange = "questions_change";
inline constexpr const char* kAuditMoveToPostgresql = "move_to_postgresql";
inline constexpr const char* kAuditSubjectAccess = "subject_access";
inline constexpr const char* kAuditRetentionView = "retention_view";
inline constexpr const char* kAuditRetentionChange = "retention_change";
inline constexpr const char* kAuditRetentionPurge = "retention_purge";
inline constexpr const char* kAuditBaselineLoad = "baseline_load";
inline constexpr const char* kAuditReferralsSent = "referrals_sent";
inline constexpr const char* kAuditBackup = "backup";

// An entry as stored.
struct AuditRecord {
  std::int64_t seq = 0;
  safer::UnixMillis at = 0;
  AuditEntry entry;
  std::string prev_hash, hash;
};

// Which entries to list: all given conditions hold. Dates are local dates (the server's time
// zone), both inclusive.
struct AuditFilter {
  std::optional<std::string> person;  // the actor, or the account/user concerned
  std::optional<std::string> action;
  std::optional<safer::CivilDate> from, to;
  std::optional<std::int64_t> before_seq;  // paging: entries older than this one
  int limit = 100;                         // at most kMaxAuditPage
};
inline constexpr int kMaxAuditPage = 500;

struct AuditVerdict {
  bool intact = false;
  std::int64_t entries = 0;          // entries checked
  std::int64_t first_bad_seq = 0;    // when not intact: where the chain first breaks
  std::string problem;               // when not intact: what is wrong there
  std::int64_t head_seq = 0;         // the head as stored
  std::string head_hash;
  std::int64_t anchor_seq = 0;
};

struct AuditPurge {
  std::int64_t removed = 0;
  std::int64_t anchor_seq = 0;  // the last entry removed (the new anchor); unchanged if none
  std::string anchor_hash;
};

class AuditLog {
 public:
  explicit AuditLog(ServerStore& store) : store_(store) {}

  // Appends `entry` in a transaction of its own (reads, logins, CLI outcomes). Changes of
  // data append theirs inside their own transaction instead (ServerStore::Impl::append_audit).
  Status append(const AuditEntry& entry);

  // Newest first. Error "invalid" for a limit outside 1..kMaxAuditPage.
  Result<std::vector<AuditRecord>> list(const AuditFilter& filter);

  // Every entry that `filter` selects (its limit and before_seq ignored), oldest first, as CSV
  // to `sink`, from one snapshot a page at a time. Returns the number of rows.
  using CsvSink = std::function<void(std::string_view piece)>;
  std::int64_t csv(const AuditFilter& filter, const CsvSink& sink);

  // Every entry naming household `household_id`, oldest first, in one statement (so inside the
  // caller's snapshot if one is open). Throws db::Failure.
  std::vector<AuditRecord> about_household(const std::string& household_id);

  // Walks the chain from the anchor to the head in one snapshot (bounded memory).
  AuditVerdict verify();

  // Removes the entries older than `before` (the oldest ones, up to the first entry at or after
  // `before`), makes the last removed the anchor, and appends an audit_purge entry by `actor`
  // saying so — all in one transaction. verify() passes afterwards.
  Result<AuditPurge> purge_before(safer::UnixMillis before, const Actor& actor);

 private:
  ServerStore& store_;
};

// The JSON of a list (GET /api/v1/audit): {"entries": [...], "next_before": seq | null}.
std::string audit_json(const std::vector<AuditRecord>& records, int limit);

}  // namespace sync_server
