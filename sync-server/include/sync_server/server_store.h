// The sync server's store: devices and their tokens, the winning version of every record,
// the per-device acked_seq, the change feed for pulls, and the statistics, kept in SQLite.
//
// Writes go through one writer: a ServerStore whose begin_group()/apply_push()/commit_group()
// run many devices' batches in one transaction (group commit, see commit_queue.h). Reads
// (authenticate, pull, stats) may run on other ServerStore objects over the same file: WAL
// lets them read committed data while the writer writes.
//
// Invariants, each kept inside the write transaction that changes the records:
//  1. For each (entity, id) the stored version is the greatest (hlc, device_id) applied.
//  2. records.version strictly increases in commit order; a pull from a cursor never misses a
//     version committed after it (one writer at a time: versions are taken inside it).
//  3. The statistics tables equal what recomputing them from the live records would give
//     (tests/sync_server/stats_test.cpp checks this after random pushes).
//  4. devices.acked_seq moves only forward, and only together with the effects of the
//     changes it covers.
//
// Thread safety: one thread at a time per ServerStore.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "safer/protocol.h"
#include "safer/reference_lists.h"
#include "safer/result.h"
#include "safer/stats.h"
#include "safer/validation.h"

namespace sync_server {

using safer::Error;
using safer::Result;
using safer::Status;

struct CsvProblem;  // households_csv.h
struct AuditEntry;  // audit.h

// How serve sets up the one connection that applies pushes on SQLite (net/server.cpp;
// docs/server.md, "Ingest"). No effect on PostgreSQL.
struct WriterTuning {
  int cache_mib = 256;                // page cache: the records' indexes and statistics a group touches
  bool background_checkpoint = true;  // WAL checkpoints on a thread of their own (wal_checkpointer.h)
  int checkpoint_start_pages = 4096;  // a checkpoint is started after a commit leaving this many in the WAL
  int checkpoint_limit_pages = 65536;  // and the writer runs one itself from here (256 MiB of 4 KiB pages)
};

struct StoreOptions {
  safer::ReferenceLists lists = safer::ReferenceLists::defaults();
  // Unix milliseconds; tests replace it.
  std::function<std::int64_t()> wall_clock;
  // The local calendar date of an instant, for the statistics (Europe/London by default,
  // see local_time.h).
  std::function<safer::CivilDate(safer::UnixMillis)> local_date;
  // How far ahead of the server's clock an HLC may be (protocol.md §3: one hour).
  std::int64_t max_clock_skew_ms = 3'600'000;
};

// Who asks for something, for the audit trail (audit.h). The default stands for tools and
// tests that work on a store directly.
struct Actor {
  std::string name = "system";    // a dashboard username, a device token's user id, "cli:<OS user>"
  std::string via = "store";      // "dashboard", "device:<device id>", "cli", or "store"
  std::string address = "local";  // the peer's IP address; "local" for the command line
};

// Who is on the other end of a connection, as its token says.
struct DeviceIdentity {
  std::string device_id;
  std::string user_id;
  safer::Role role = safer::Role::officer;
};

struct DeviceRecord {
  DeviceIdentity identity;
  bool revoked = false;
  std::int64_t acked_seq = 0;
  std::optional<safer::UnixMillis> last_sync_at;
  // The SHA-256 of the device's current token: it changes at every enrolment, so a session
  // that keeps the one it authenticated with notices a revocation, a new token, user or role.
  std::string credential;
};

// What a push came to: an ack, or an error for the whole batch (seq_gap).
struct PushOutcome {
  std::optional<safer::Ack> ack;
  std::optional<safer::ErrorMessage> error;
  // For the log line: how the changes of the batch fared.
  int applied = 0;   // new versions that won
  int ignored = 0;   // valid but older than the stored version, or already applied (resends)
  int rejected = 0;  // invalid, forbidden or clock_skew
};

class ServerStore {
 public:
  // Opens (creating, and migrating to the latest schema) the store at `path`.
  static Result<std::unique_ptr<ServerStore>> open(const std::string& path, StoreOptions options = {});

  ~ServerStore();
  ServerStore(const ServerStore&) = delete;
  ServerStore& operator=(const ServerStore&) = delete;

  const StoreOptions& options() const;

  // Sets this store's connection up as the writer `tuning` says. Call before the store is
  // used by another thread (the background checkpointer stops with the store). Throws
  // safer::sqlite::Failure if the checkpointer's connection cannot be opened.
  void tune_writer(const WriterTuning& tuning);
  // Checkpoints of the WAL since tune_writer(): by the background thread, and by the writer
  // because the WAL had reached checkpoint_limit_pages. Zero without a background checkpointer.
  std::pair<std::uint64_t, std::uint64_t> checkpoints() const;

  // Whether the store can serve (GET /readyz): its database answers a read, and its schema is
  // at the version this program migrates it to (on PostgreSQL another server may have moved
  // it on). Error "not_ready" saying which is not so, never naming the database.
  Status ready();

  // The wards and stations records are checked against and welcome sends. They are kept in
  // the database, so that every command and every server process on it agree; a store whose
  // database holds none uses StoreOptions::lists (protocol.md §5.5's defaults). A change takes
  // effect in stores opened after it (restart a running server). Error "invalid" for an empty
  // list, a repeated or blank name, or a name with a line break.
  Status set_reference_lists(const safer::ReferenceLists& lists, const Actor& by = {});

  // Replaces the questions of the visit form (protocol.md §5.8) with `questions`, stored
  // beside the wards and stations, with a `questions_change` audit entry by `by`; a store
  // whose database holds none uses StoreOptions::lists.questions (the defaults). Error
  // "invalid", naming the entry and field, for any rule of safer::check_questions broken
  // against the questions in force (none may be removed or change kind); nothing is written then.
  Status set_questions(const std::vector<safer::Question>& questions, const Actor& by = {});

  // --- Devices -------------------------------------------------------------------------

  // Enrols a device for a user and role, and returns its new token (shown once; only its
  // SHA-256 is stored). Enrolling a known device again replaces its token and lifts a
  // revocation; its acked_seq is kept. Error "invalid" for a bad device or user id. The
  // enrolment's audit entry, by `by`, commits with it.
  Result<std::string> enroll(const std::string& device_id, const std::string& user_id, safer::Role role,
                             const Actor& by = {});

  // Revokes the device's token, and with Wipe::yes orders the device to erase its data: its
  // next upgrade with that token gets 410 (protocol.md §1.2) rather than 401. Enrolling the
  // device again lifts both. The audit entry is by `by`. Error "not_found" for an unknown device.
  enum class Wipe { no, yes };
  Status revoke(const std::string& device_id, Wipe wipe = Wipe::no, const Actor& by = {});

  // The device a token belongs to, unless unknown or revoked.
  std::optional<DeviceRecord> authenticate(const std::string& token);

  // Whether `token` is that of a revoked device ordered wiped (revoke(…, Wipe::yes)), so that
  // its upgrade is answered 410. The first answer after an order is recorded: the device list
  // shows it delivered, and the audit trail has a `wipe_delivered` entry from `peer`.
  // Throws db::Failure when that record cannot be written (answer 503: the device tries again).
  bool deliver_wipe(const std::string& token, const std::string& peer);

  std::optional<DeviceRecord> device(const std::string& device_id);

  // The credential (DeviceRecord::credential) in force for every device that is enrolled
  // and not revoked, by device id. A connection whose credential is not in it must close.
  std::map<std::string, std::string> current_credentials();

  // Notes that the device finished a sync exchange (for the dashboard).
  void touch_device(const std::string& device_id);

  // --- Push (the writer only) ------------------------------------------------------------

  // Group commit: begin_group() opens one write transaction; apply_push() applies one
  // device's batch inside it; and commit_group() makes every applied batch durable at once. No ack may be sent before
  // commit_group() has returned. If commit_group() or apply_push() throws, the caller must
  // call abandon_group(): nothing of the group is kept.
  void begin_group();
  // `prepared` is what prepare_push() made of this push, or empty. When `credential` (the
  // DeviceRecord::credential the session authenticated with) is set and is no longer the
  // device's current one (revoked, enrolled again), nothing is applied and the outcome is the
  // fatal error "identity_changed". "" (tools, tests): not checked. `rules` are
  // what the client announced (protocol.md §5.2, §10): from a client with "share_basis" a
  // visit with a referral must give one, from a client with "work_dates" a follow-up its
  // follow_up_due and a rescheduled visit its rescheduled_for. A field whose rule is off is
  // optional, and a visit that leaves it out keeps the stored one while its condition holds.
  // From a client without "questions" (§5.8) a visit without answers keeps the stored ones.
  PushOutcome apply_push(const DeviceIdentity& device, const safer::ReceivedPush& push,
                         const std::vector<std::string>& prepared = {}, const std::string& credential = "",
                         safer::WriterRules rules = safer::WriterRules::protocol1());
  void commit_group();
  void abandon_group() noexcept;

  // Does ahead, on any thread, what apply_push() would do alike for every device: encodes the
  // JSON stored for each visit and commute session, one string per change of `push` (empty
  // for households, which get server-owned fields when applied and are encoded then, and for
  // deletes and changes that did not decode). Optional: apply_push() encodes what is not given.
  static std::vector<std::string> prepare_push(const safer::ReceivedPush& push);

  // How many times a group that met another server's transaction on PostgreSQL (a deadlock,
  // a record both inserted) is run before its failure is reported.
  static constexpr int kGroupAttempts = 5;

  // begin_group + apply_push + commit_group, for one batch (tools, tests); run again when
  // it met another server's transaction.
  Result<PushOutcome> push(const DeviceIdentity& device, const safer::ReceivedPush& push,
                           safer::WriterRules rules = safer::WriterRules::protocol1());

  // --- Pull and statistics (any reader) ---------------------------------------------------

  // The next page of winning versions in the device's scope after `pull.cursor`, in commit
  // order. Error "cursor_invalid" for a cursor this store did not issue or cannot honour.
  // With Evictions::send (a client that announced "evict"), the page also carries, in feed
  // order, the households that left the user's scope after the cursor (protocol.md §4.6);
  // never for a pull from "".
  //
  // With progress.estimate (a client that announced "pull_progress"), a page that is not the
  // last carries `remaining` (protocol.md §4.2): progress.previous (the estimate sent with the
  // page whose cursor this pull continues) less the records in this page while that leaves
  // more than nothing; otherwise the records in the user's scope after the page, counted in
  // its snapshot through the scope's indexes (once per pull, not once per page). The last
  // page carries 0. Evictions are not counted.
  //
  // With Data::stored, each record's data is given as the store holds it (PulledChange::
  // stored_data, to be sent as it is) rather than decoded into change.data: a page for the wire.
  enum class Evictions { omit, send };
  struct Progress {
    bool estimate;
    std::optional<std::int64_t> previous;
  };
  enum class Data { decoded, stored };
  Result<safer::ChangesPage> pull(const DeviceIdentity& device, const safer::Pull& pull,
                                  Evictions evictions = Evictions::omit, Progress progress = Progress{false, std::nullopt},
                                  Data data = Data::decoded);

  // protocol.md §7 over the local dates [from, to], both inclusive; all time when unset.
  safer::Stats stats(const std::optional<safer::CivilDate>& from, const std::optional<safer::CivilDate>& to);

  // The same figures recomputed from the live records, scanning everything: for tests and
  // for checking a store, never for serving requests.
  safer::Stats recompute_stats(const std::optional<safer::CivilDate>& from, const std::optional<safer::CivilDate>& to);

  // --- Dashboard accounts and sessions (accounts.cpp) --------------------------------------

  // Creates a coordinator's dashboard account, or sets a new password for it, enables it and
  // ends its sessions (the host's last resort: `sync-server add-coordinator`). Error "invalid"
  // for a malformed username, or a password that password_problem() refuses (shorter than 12
  // characters, or a common one). Audited (account_add or password_change) by `by`.
  Status add_coordinator(const std::string& username, const std::string& password, const Actor& by = {});

  struct Login {
    enum class Outcome { ok, wrong, locked, disabled };  // disabled: the password was right
    Outcome outcome = Outcome::wrong;
    std::string session_token;  // the cookie's value (only its hash is stored)
    std::string csrf_token;
    std::int64_t retry_after_s = 0;  // when locked
    bool rehashed = false;           // ok, and the stored hash was replaced (older parameters)
  };
  struct LoginAttempt {
    std::string username;  // REQUIRES: safer::is_valid_user_id(username)
    std::string password;
    std::string address;   // the client's IP address
    bool trusted_device = false;  // a valid device cookie for `username` came with it
  };
  // Checks a username and password (accounts.cpp explains the rules). Five failures for one
  // (username, address) within 15 minutes lock that pair for 15 minutes from the fifth,
  // whatever the password; from the tenth failure for a username from all addresses, each
  // failure closes it for 2 s, 4 s, … up to a minute, except to a trusted device. Locked:
  // no scrypt, nothing written. Unknown usernames take as long as known ones. A successful
  // login replaces a hash made with older scrypt parameters. A success or failure is audited
  // (audit.h) in the same transaction; the username only when it is an account's.
  Login log_in(const LoginAttempt& attempt);

  // The key that signs device cookies (net/login.cpp): made at random the first time and
  // kept in the store, so that every server on one database accepts the others' cookies.
  std::string login_cookie_key();

  struct WebSession {
    std::string username;
    std::string csrf_token;
  };
  // The live session for a cookie value: at most 12 hours old and used within the last hour.
  std::optional<WebSession> web_session(const std::string& token);
  void log_out(const std::string& token);

  // --- Managing accounts from the dashboard (account_admin.cpp, docs/server.md) -------------
  //
  // Every coordinator with a dashboard login may manage every account, with two limits: nobody
  // disables their own account, and the last enabled account is never disabled. One's own
  // password is changed with the current one (change_own_password), never reset. Each change is
  // audited in its transaction (`by` names who; the entry names the account, never a password);
  // a refusal of a well-formed request is audited too, with its code as the outcome. Nothing is
  // changed on an error.

  struct Account {
    std::string username;
    std::int64_t created_at = 0;                   // Unix milliseconds
    std::optional<std::int64_t> disabled_at;       // unset: the account may log in
    std::int64_t sessions = 0;                     // live dashboard sessions
  };
  // Every account, by username.
  std::vector<Account> accounts();

  // A new account. Errors: "invalid" (username or password, as add_coordinator), "exists".
  Status create_account(const std::string& username, const std::string& password, const Actor& by);

  // Disables an account (it cannot log in, and its sessions end at once) or enables it again.
  // Errors: "not_found"; "forbidden" for disabling `by.name`'s own account or the last enabled one.
  Status set_account_enabled(const std::string& username, bool enabled, const Actor& by);

  // Sets a new password for another account and ends all its sessions. Errors: "invalid",
  // "not_found", "forbidden" (one's own: change_own_password).
  Status reset_password(const std::string& username, const std::string& password, const Actor& by);

  // Changes `by.name`'s password when `current` is right, and ends every session of theirs but
  // `keep_session_token` (the cookie of the request). A wrong `current` counts as a failed login
  // from `by.address` (the lock-out of log_in applies): errors "wrong_password", "locked",
  // "invalid" (the new password).
  Status change_own_password(const std::string& current, const std::string& password,
                             const std::string& keep_session_token, const Actor& by);

  // --- Moving to PostgreSQL (move.cpp) -------------------------------------------------------

  struct MoveReport {
    std::vector<std::pair<std::string, std::int64_t>> tables;  // rows copied, by table
    safer::Stats stats;                                          // all time, the same on both sides
  };
  // Copies the SQLite store at `sqlite_path` (the borough's server stopped) into the new, empty
  // PostgreSQL database at `postgresql_url`, in one transaction; checks that every table has
  // the same rows and the statistics agree. Devices keep their tokens and acked_seq, accounts
  // their passwords; the new store has its own epoch, so tablets pull once from the start.
  // Error "invalid" for a database that already holds data, or for swapped arguments.
  static Result<MoveReport> move_to_postgresql(const std::string& sqlite_path, const std::string& postgresql_url,
                                               StoreOptions options = {});

  // --- Register --------------------------------------------------------------------------

  // Imports households from CSV text (protocol.md §8, §9): all rows or none. On failure the
  // Error's message lists each bad row by its line number. Returns the number of rows. The
  // import's audit entry, by `by`, commits with it. When `near_duplicates` is given, it gets
  // one line per imported row that looks like another household (the same postcode and the
  // same house numbers as an earlier row of the file or another live household on the
  // register): line 7, "same postcode and house number as line 3" (or "as household <id>").
  // They are warnings: the rows are imported all the same. Never an address in them.
  Result<std::size_t> import_households(std::string_view csv, const Actor& by = {},
                                        std::vector<CsvProblem>* near_duplicates = nullptr);

 private:
  friend class Dashboard;  // its queries read the store's database (dashboard.h)
  friend class AuditLog;   // the audit trail's table (audit.h)
  friend class SubjectAccess;  // reads everything held about a household (subject_access.h)
  friend class Retention;  // the retention policy and its purge (retention.h)
  friend class Backup;     // copies the database while it is in use (backup.h)
  friend class EnrolmentCodes;  // codes that enrol a tablet from its app (enrolment_codes.h)
  friend class StoreMetrics;  // the database's size and the devices' progress (store_metrics.h)
  struct Impl;
  explicit ServerStore(std::unique_ptr<Impl> impl);
  // account_admin.cpp: runs `change` in a write transaction and audits `entry` (as `change`
  // completed it) there; a refusal from `change` writes nothing but its audit entry.
  Status audited_account_change(const AuditEntry& entry, const std::function<Status(AuditEntry&)>& change);
  std::unique_ptr<Impl> impl_;
};

}  // namespace sync_server
