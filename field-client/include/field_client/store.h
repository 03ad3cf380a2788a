// The field client's local store: records kept on the tablet and the outbox of changes
// waiting to be synced. Works entirely offline.
//
// Guarantees:
//  1. Every local write — the record's new version, its outbox entry with the device's next
//     seq, and the clock — commits in one SQLite transaction (WAL, synchronous=FULL): after a
//     crash or power cut either all of it is there or none of it.
//  2. A write that fails (invalid input, a full disk, a read-only file) leaves the store as it
//     was and returns an Error saying so.
//  3. Nothing unsynced is deleted: outbox entries that are pending or rejected, and records
//     with a pending change, cannot be deleted (enforced by triggers in the schema).
//  4. Reads report failure as values too: every read returns a Result, and a SQLite failure
//     (an I/O error, a damaged file, a store busy in another program) comes back as Error
//     "storage" (or "storage_busy") whose message names what was being read, never a value
//     from the store. Nothing here throws.
//  5. seq starts at 1 and grows by one per change; HLCs of local changes strictly increase,
//     also across restarts and when the wall clock steps back.
//  6. A store with a PIN is encrypted (store_key.h): its database and WAL pages are
//     ciphertext, temporary tables stay in memory, and it opens only with the key derived
//     from the PIN. Acked outbox entries keep no record data (seq, id and hlc only); rejected
//     ones keep it only until the record is fixed, leaves the scope, or the refusal is discarded
//     (store_rejections.cpp).
//
// Thread safety: a Store is used by one thread at a time. Several processes may open the same
// file; their writes are serialised by SQLite (BEGIN IMMEDIATE, busy timeout).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "safer/field_error.h"
#include "safer/protocol.h"
#include "safer/record.h"
#include "safer/reference_lists.h"
#include "safer/result.h"
#include "field_client/store_key.h"

namespace field_client {

using safer::Entity;
using safer::Error;
using safer::Result;
using safer::Status;

struct StoreOptions {
  // Unix milliseconds; tests replace it to step the clock back.
  std::function<std::int64_t()> wall_clock;
  // The key of an encrypted store (derive_store_key, or PinGuard / unlock_store, which also
  // count wrong PINs). Must be given exactly when the store has a key file.
  std::optional<StoreKey> key;
  // The last millisecond (23:59:59.999) of the local day an instant falls on, both Unix
  // milliseconds; unset: in this device's time zone (TZ). A Commute Aware session ends then at
  // the latest (Store::end_overdue_sessions). Tests give a fixed zone.
  std::function<std::int64_t(std::int64_t)> end_of_local_day;
};

// A PIN's settings when it is set (Store::set_pin).
struct PinSettings {
  int max_attempts = 10;  // wrong PINs in a row that wipe the store
  int kdf_log_n = 17;     // scrypt cost: 2^17 (128 MiB); tests use less
};

// Where a record stands with the server.
enum class SyncState {
  pending,   // it has a change the server has not acknowledged yet
  rejected,  // its latest change was rejected by the server
  synced,    // the server holds its latest version
};

// One record as the device holds it (deleted records are kept as tombstones).
struct StoredRecord {
  Entity entity = Entity::visit;
  std::string id;
  safer::Hlc hlc;
  std::string device_id;  // the device that wrote this version
  bool deleted = false;
  std::optional<safer::RecordData> data;  // nullopt when deleted
  SyncState state = SyncState::synced;
  bool created_here = false;  // this device created the record (its first version)
};

// A household as the tablet app lists it: with its latest visit and whether a follow-up is
// still owed (a visit that needs one and no later completed visit).
struct HouseholdView {
  StoredRecord record;
  bool mine = false;  // assigned to this device's user, or created on this device
  struct LastVisit {
    std::string id;
    safer::UnixMillis visited_at = 0;
    safer::VisitStatus status = safer::VisitStatus::completed;
  };
  std::optional<LastVisit> last_visit;
  bool follow_up_outstanding = false;
};

// Work a household's latest visit asks for on or before a day (Store::work_due): a follow-up
// due then, or a visit rescheduled to then.
struct DueWork {
  HouseholdView household;
  std::string visit_id;
  bool follow_up = true;  // false: a rescheduled visit
  std::string due;        // its follow_up_due "YYYY-MM-DD", or rescheduled_for "YYYY-MM-DDTHH:MM"
  bool overdue = false;   // due on an earlier day
};

// The work due (Store::work_due): the oldest first, and whether more was due than listed.
struct DueList {
  std::vector<DueWork> work;
  bool more = false;
};

// discarded: a rejected change the officer discarded (Store::discard_rejected); it keeps no data.
enum class OutboxState { pending, acked, rejected, discarded };

// What discarding a refused change did to its record (Store::discard_rejected).
enum class Discarded {
  change_only,      // a later change of the record stands (or the record is gone): only the entry's data went
  record_removed,   // the server never accepted the record: it is gone from the device
  record_refetched, // the server holds it: the device's refused version is gone, and the next sync
                    // pulls the scope afresh, bringing the server's version back
};

struct OutboxEntry {
  std::int64_t seq = 0;
  safer::Change change;
  OutboxState state = OutboxState::pending;
  safer::UnixMillis created_at = 0;
  // When state == rejected: what the server said.
  std::string reject_code;
  std::string reject_message;
  std::string reject_field;
  // With OutboxData::stored (the push): the data's JSON as the outbox holds it, in place of
  // change.data, when it is a JSON object.
  std::string stored_data;
};

// How pending() gives a change's data: decoded into change.data, or as the stored JSON text
// for a push message (OutboxEntry::stored_data; decoded when that text is not a JSON object).
enum class OutboxData { decoded, stored };

// The device's identity and enrolment.
struct DeviceInfo {
  std::string device_id;
  std::optional<safer::Role> role;     // known once the server has welcomed the device
  std::optional<std::string> user_id;  // likewise
};

struct StoreSummary {
  std::string device_id;
  std::int64_t last_seq = 0;  // the seq of the newest local change, 0 if none
  std::int64_t pending = 0;   // outbox entries waiting for the server
  std::int64_t rejected = 0;  // outbox entries the server rejected
  std::int64_t last_acked_seq = 0;  // the greatest seq the server acknowledged (applied or rejected)
  std::int64_t households = 0, visits = 0, commute_sessions = 0;  // not deleted
  std::optional<safer::UnixMillis> last_sync_at;  // the last sync that pushed and pulled everything
  std::optional<std::int64_t> clock_offset_ms;    // server clock minus this device's, at the last welcome
};

// Where the device syncs, given once at enrolment.
struct Enrollment {
  std::string server_url;  // ws://host:port or wss://host:port (the path /v1/sync is added when missing)
  std::string token;
  std::string ca_file;     // wss: a PEM file of CAs to trust instead of the system's; "" for the system's
  bool allow_plaintext = false;  // ws:// to a host other than loopback was explicitly allowed
};

class Store {
 public:
  // Opens the store at `path`, creating it (and a new device id) when it does not exist,
  // and brings its schema up to date. ":memory:" gives a private, temporary store.
  // A new store file (and its -wal and -shm) is mode 0600, in directories it creates mode 0700.
  // An encrypted store (one with a key file) needs options.key: without it Error "locked";
  // with a key that does not open it Error "wrong_pin" (nothing is read or written: the
  // store is untouched; counting wrong PINs is the caller's, see pin_guard.h). A key given
  // for a plain store is Error "invalid". A plain store that still holds the app PIN of an
  // earlier version (a PBKDF2 hash, from before the PIN became the key) is Error "locked" too:
  // unlock_store / PinGuard::attempt_legacy open it with that PIN, which encrypts it.
  static Result<std::unique_ptr<Store>> open(const std::string& path, StoreOptions options = {});

  // Whether the store at `path` is encrypted (it has a key file, or a new one that a PIN
  // change left behind). Never opens the store.
  static bool is_encrypted(const std::string& path);

  // Erases the store at `path`: the database, its -wal, -shm and -journal, and its key file,
  // and with them every record, the outbox, the token and the key's salt. The store must not
  // be open in this process (close it first: Store::wipe). Missing files are fine. Returns an
  // Error "storage" naming a file that could not be removed (the others are still removed).
  // Files are unlinked, not overwritten: on flash an overwrite does not reach the old pages;
  // what stays behind of an encrypted store is ciphertext whose key is gone.
  static Status wipe_files(const std::string& path);
  // Closes `store` and wipes its files.
  static Status wipe(std::unique_ptr<Store> store);

  const std::string& path() const;

  // "" unless other users of this machine can read the store's files (a store made before
  // they were made private, or chmod-ed): then a warning naming them and the chmod that
  // fixes it. The store works either way; the programs print the warning.
  std::string exposure_warning() const;

  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // Reads (device() to cursor()) return Error "storage" or "storage_busy" when the store
  // cannot be read, and change nothing.
  Result<DeviceInfo> device() const;

  // The wards and stations records are checked against: the server's when it has sent them,
  // protocol.md §5.5's defaults before that.
  Result<safer::ReferenceLists> reference_lists() const;

  // Checks `data` exactly as the server will (protocol.md §5), normalising a postcode, and as
  // far as the device can tell the rules of §5's permission table and household references;
  // a visit with a referral must give its share_basis, a follow-up its follow_up_due and a
  // rescheduled visit its rescheduled_for (WriterRules::all(): this client announces them all).
  // Returns every problem found (empty: valid), or the Error of a failed read.
  Result<safer::FieldErrors> validate(safer::RecordData& data) const;

  // Creates a record with a new UUIDv7 id (or `id`, when given and new) and queues an
  // upsert. Returns the id. Error code "invalid" (field and message of the first problem,
  // all problems' messages joined), "forbidden", "exists", or a storage_* code.
  Result<std::string> create(safer::RecordData data, std::optional<std::string> id = std::nullopt);

  // Replaces the whole record `id` with `data` and queues an upsert. Error code "not_found"
  // when there is no such record (or it was deleted), otherwise as create().
  Status update(const std::string& id, safer::RecordData data);

  // Deletes record `id` (keeps a tombstone) and queues a delete. Households can be deleted
  // only by a coordinator's device.
  Status remove(Entity entity, const std::string& id);

  // Record `id`, tombstones too. Error "not_found" (field "id") when the device has none.
  Result<StoredRecord> get(Entity entity, const std::string& id) const;

  // Records of one kind, oldest first; tombstones only when `include_deleted`.
  Result<std::vector<StoredRecord>> list(Entity entity, bool include_deleted = false) const;

  // Outbox entries in seq order. With no filter: pending and rejected ones, what the user
  // still has to care about.
  Result<std::vector<OutboxEntry>> outbox(std::vector<OutboxState> states = {OutboxState::pending,
                                                                               OutboxState::rejected}) const;

  Result<StoreSummary> summary() const;

  // Discards the change `seq` that the server refused (docs/field-client.md, "Refused changes"):
  // its entry becomes "discarded" and keeps seq, id, hlc, code and message but no data. When it
  // was its record's latest change, the record returns to the server's state: earlier refused
  // changes of the record are discarded too, and the device's version goes (record_removed
  // when the server never accepted the record, record_refetched when it holds an earlier
  // version, which the next sync brings back with a full pull: begin_requested_full_pull).
  // One transaction.
  // Errors: "not_found" (field "seq") for no such change; "invalid" (field "seq") for a change
  // that was not refused; "forbidden" for a household the server never accepted while visits
  // to it are still on the device (discard theirs first); storage codes. Nothing changes on error.
  Result<Discarded> discard_rejected(std::int64_t seq);

  // --- Commute Aware sessions end at local midnight (store_commute.cpp) ---------------------
  //
  // A session belongs to the local day it started on. validate() (so every create and update)
  // refuses one that is still open after that day, or that ends after it (field "ended_at"):
  // a session left open on Monday never collects Tuesday's taps under Monday's date.

  // Ends each of this device's own open sessions whose day is over at 23:59:59.999 local time
  // of its day (each an ordinary update, sent with the next sync). Returns their ids, oldest
  // first. One transaction.
  Result<std::vector<std::string>> end_overdue_sessions();

  // --- Views for the tablet app (store_views.cpp) -------------------------------------------

  // Live households, the user's own first, then by address (then id: a stable order to page
  // through); `query` (if not empty) must occur in the address or postcode, ignoring case and
  // the postcode's space. At most `limit`, from the `offset`th on.
  Result<std::vector<HouseholdView>> households(const std::string& query, std::size_t limit,
                                                std::size_t offset = 0) const;

  // How many live households households(query, …) pages through.
  Result<std::int64_t> count_households(const std::string& query) const;

  // A live household on this device that `household` (its postcode in stored form) would
  // nearly duplicate (safer::near_duplicate_key: same postcode and house numbers), other than
  // `except_id`: its id, or nullopt.
  Result<std::optional<std::string>> near_duplicate(const safer::Household& household,
                                                    const std::string& except_id = "") const;

  // One live household's view; error "not_found" when there is none on this device.
  Result<HouseholdView> household_view(const std::string& id) const;

  // The work due on `today` ("YYYY-MM-DD", the device's local date) or before, oldest first:
  // for each live household whose latest live visit (by visited_at, then id) needs a follow-up
  // due by then or was rescheduled to then. A later visit of any status supersedes it; a visit
  // without its date (a protocol-1 device's) is not listed. At most `limit`, the oldest, and
  // `more` when there were others.
  static constexpr std::size_t kMaxDueWork = 500;
  Result<DueList> work_due(const std::string& today, std::size_t limit = kMaxDueWork) const;

  // Live visits to one household, newest first.
  Result<std::vector<StoredRecord>> visits_to(const std::string& household_id) const;

  // Sets the PIN, which is the store's key: a plain store is encrypted (the migration path;
  // every page is rewritten under the new key, the WAL is emptied first), an encrypted one
  // re-encrypted under the new PIN's key with a fresh salt. The key file is written before
  // the database changes and takes effect after (a crash between leaves "<store>.key.next",
  // which unlock_store recovers). Error "invalid" for a PIN check_pin_rules refuses, or a
  // ":memory:" store; a storage error leaves the store as it was, under its old key.
  // Returns the new key (the app keeps it for its background sync).
  Result<StoreKey> set_pin(const std::string& pin, PinSettings settings = {});

  // Whether this store is encrypted.
  bool encrypted() const;

  // --- Sync (see sync.h) -------------------------------------------------------------------

  // Keeps the server's URL and this device's token. Error "invalid" for a URL that is
  // not ws:// or wss://, an empty token, or ws:// to a host other than loopback (127.0.0.0/8,
  // ::1, localhost) unless `allow_plaintext` (which is kept, for sync). Nothing changes on error.
  Status enroll(const std::string& server_url, const std::string& token, const std::string& ca_file = "",
                bool allow_plaintext = false);

  // Takes the device id a coordinator enrolled this tablet under (instead of the one made at
  // first use). Only before anything is recorded: the id is part of every version written.
  // Error "invalid" for a malformed id, "exists" once the store holds records.
  Status set_device_id(const std::string& device_id);
  // Error "not_enrolled" before enroll().
  Result<Enrollment> enrollment() const;

  // Takes in the server's welcome: role, user, reference lists, and how far the device's
  // clock is from the server's (`local_now` is this device's clock when it arrived).
  Status apply_welcome(const safer::Welcome& welcome, safer::UnixMillis local_now);

  // Up to `limit` pending outbox entries, lowest seq first.
  Result<std::vector<OutboxEntry>> pending(std::size_t limit, OutboxData data = OutboxData::decoded) const;

  // Takes in an ack: every pending entry with seq <= ack.acked_seq becomes acked, or
  // rejected with the server's code, message and field. One transaction.
  Status apply_ack(const safer::Ack& ack);

  // After seq_gap: the server expects `seq`, so entries from it on are pending again.
  // Error "lost" if the device no longer holds that entry.
  Status requeue_from(std::int64_t seq);

  // The cursor of the last page applied ("" before the first pull).
  Result<std::string> cursor() const;

  // While one lives, the store takes pulled pages in bulk (sync.cpp's pull; B2, issue 17): a
  // commit does not wait for an fsync, the WAL is copied into the store every 40 MiB instead
  // of every 4, and the page cache holds up to 32 MiB. A pulled page is the server's data,
  // asked for again from the stored cursor if it is lost, and in WAL mode a power cut still
  // leaves the store whole (the newest pages roll back with their cursor). The settings it
  // found come back when it ends: what the officer records commits with an fsync, which
  // makes every page before it durable too.
  class BulkPull {
   public:
    explicit BulkPull(Store& store);
    ~BulkPull();
    BulkPull(const BulkPull&) = delete;
    BulkPull& operator=(const BulkPull&) = delete;

   private:
    Store& store_;
    std::string restore_;  // PRAGMAs that put back the settings found (empty: none were changed)
  };

  // Applies one page of pulled changes and stores its cursor, in one transaction. Each
  // change replaces the device's version only if its (hlc, device_id) is greater, so an
  // edit not yet pushed is never overwritten by an older server version.
  Status apply_page(const safer::ChangesPage& page);
  // apply_page() for consecutive pages in one transaction, which stores the last one's cursor.
  // A pull's pages touch the same index and table pages again and again; committed together,
  // each is written once per batch instead of once per page (B2, docs/BENCHMARKS.md).
  Status apply_pages(std::span<const safer::ChangesPage> pages);

  // After cursor_invalid: the next pull starts from "" and, once finished, the device drops
  // the server data that the fresh pull no longer contains (never a record with a pending or
  // rejected change).
  Status begin_full_pull();
  Status finish_full_pull();
  // Starts the full pull discard_rejected asked for, if it did. sync() calls it before each
  // pull, on the thread that pulls, so that a fresh pull never starts inside one in flight.
  Status begin_requested_full_pull();

  Status record_sync_success(safer::UnixMillis at);

 private:
  struct Impl;
  explicit Store(std::unique_ptr<Impl> impl);
  // open(), and with `legacy_pin_given` a plain store with the old app PIN too (for PinGuard,
  // which checks that PIN before anything else reads the store).
  static Result<std::unique_ptr<Store>> open_store(const std::string& path, StoreOptions options, bool legacy_pin_given);
  friend class PinGuard;
  std::unique_ptr<Impl> impl_;
};

// For tests of the upgrades: makes an empty store at `path` with the schema of `version` (1 to
// the current), as that version's program made it: migrations 1 to `version` only, no device id.
Status create_store_at_version(const std::string& path, int version);

std::string_view to_string(SyncState state);
std::string_view to_string(OutboxState state);
std::string_view to_string(Discarded outcome);

}  // namespace field_client
