// Shared helpers for the store tests: a store on a temp file with a fixed clock, self-numbering devices, and record builders.
#pragma once

#include <catch2/catch.hpp>

#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "safer/protocol.h"
#include "safer/time.h"
#include "sync_server/server_store.h"
#include "temp_dir.h"
#include "test_database.h"

namespace store_test {

using safer::Change;
using safer::CommuteSession;
using safer::Entity;
using safer::Hlc;
using safer::Household;
using safer::Op;
using safer::Role;
using safer::UnixMillis;
using safer::Visit;
using safer::VisitStatus;
using sync_server::DeviceIdentity;
using sync_server::ServerStore;

inline constexpr std::int64_t kHour = 3'600'000;
inline constexpr std::int64_t kDay = 86'400'000;

// An RFC 3339 instant as Unix milliseconds.
inline UnixMillis at(const char* text) {
  const auto instant = safer::parse_rfc3339(text);
  REQUIRE(instant.has_value());
  return *instant;
}

inline safer::CivilDate date(const char* text) {
  const auto parsed = safer::parse_iso_date(text);
  REQUIRE(parsed.has_value());
  return *parsed;
}

// The UTC date of an instant: the stores in these tests count days in UTC unless a test
// says otherwise.
inline safer::CivilDate utc_date(UnixMillis instant) {
  const std::int64_t days = instant >= 0 ? instant / kDay : (instant - kDay + 1) / kDay;
  return safer::civil_from_days(days);
}

// The server's clock in these tests: 2026-11-26T09:30:00Z.
inline constexpr UnixMillis kNow = 1'795'685'400'000;  // 2026-11-26T09:30:00Z

// A record id: a lowercase canonical UUID made from a number.
inline std::string uuid(int number) {
  char text[40];
  std::snprintf(text, sizeof text, "00000000-0000-4000-8000-%012d", number);
  return text;
}

// An HLC `offset_ms` after one hour before the server's clock (so small offsets are in the past).
inline Hlc hlc(std::int64_t offset_ms, std::uint32_t counter = 0) { return Hlc{kNow - kHour + offset_ms, counter}; }

inline Household household(const std::string& ward = "Elstree") {
  Household record;
  record.address = "1 Example Road";
  record.postcode = "WD6 1WA";
  record.ward = ward;
  return record;
}

// A household as a coordinator writes it: target and assigned_to set.
inline Household target_household(const std::string& ward, bool target, std::optional<std::string> assignee) {
  Household record = household(ward);
  record.target = target;
  record.assigned_to = std::move(assignee);
  return record;
}

inline Visit visit(const std::string& household_id, VisitStatus status = VisitStatus::completed,
                   UnixMillis visited_at = at("2026-11-25T10:00:00Z")) {
  Visit record;
  record.household_id = household_id;
  record.visited_at = visited_at;
  record.status = status;
  return record;
}

inline CommuteSession session(const std::string& station = "Potters Bar", std::int64_t cards = 10,
                              UnixMillis started_at = at("2026-11-25T07:00:00Z")) {
  CommuteSession record;
  record.station = station;
  record.started_at = started_at;
  record.cards_distributed = cards;
  return record;
}

inline Change upsert(const std::string& id, safer::RecordData data, Hlc version) {
  Change change;
  change.entity = safer::entity_of(data);
  change.op = Op::upsert;
  change.id = id;
  change.hlc = version;
  change.data = std::move(data);
  return change;
}

inline Change remove(Entity entity, const std::string& id, Hlc version) {
  Change change;
  change.entity = entity;
  change.op = Op::remove;
  change.id = id;
  change.hlc = version;
  return change;
}

// Options for a store opened by a test itself (not through StoreFixture): the clock stopped
// at kNow, days counted in UTC.
inline sync_server::StoreOptions fixed_options() {
  sync_server::StoreOptions options;
  options.wall_clock = [] { return kNow; };
  options.local_date = utc_date;
  return options;
}

// An enrolled device that numbers its changes 1, 2, 3, … as protocol.md §3.2 requires.
struct Device {
  DeviceIdentity identity;
  std::int64_t next_seq = 1;
  // What its client announced: protocol1() for none, all() for this project's field client.
  safer::WriterRules rules = safer::WriterRules::protocol1();
};

// A store on a file in a fresh temporary directory, whose clock reads `now` and whose
// statistics count days by `local_date` (UTC unless given).
class StoreFixture {
 public:
  using LocalDate = std::function<safer::CivilDate(UnixMillis)>;

  explicit StoreFixture(LocalDate local_date = utc_date)
      : location_(test_support::new_test_database(dir_)), local_date_(std::move(local_date)),
        store_(open_store(path())) {}
  StoreFixture(const StoreFixture&) = delete;
  StoreFixture& operator=(const StoreFixture&) = delete;

  ServerStore& store() { return *store_; }
  // The SQLite file, or the PostgreSQL URL when the suite runs on PostgreSQL
  // (test_database.h).
  std::string path() const { return location_; }
  const test_support::TempDir& dir() const { return dir_; }

  // Options with this fixture's clock and dates.
  sync_server::StoreOptions options() {
    sync_server::StoreOptions options;
    options.wall_clock = [this] { return now; };
    options.local_date = local_date_;
    return options;
  }

  std::unique_ptr<ServerStore> open_store(const std::string& file) {
    auto opened = ServerStore::open(file, options());
    INFO((opened.ok() ? "" : opened.error().message));
    REQUIRE(opened.ok());
    return std::move(opened.value());
  }

  // Closes and opens the store again on the same file.
  void reopen() {
    store_.reset();
    store_ = open_store(path());
  }

  Device enroll(const std::string& device_id, const std::string& user_id, Role role) {
    auto token = store_->enroll(device_id, user_id, role);
    REQUIRE(token.ok());
    return Device{{device_id, user_id, role}, 1};
  }

  // Pushes `changes` with the device's next seqs; the push must be acked.
  safer::Ack push(Device& device, const std::vector<Change>& changes) {
    safer::ReceivedPush batch;
    for (const auto& change : changes) batch.changes.push_back({device.next_seq++, change, {}});
    return push_batch(device.identity, batch, device.rules);
  }

  // Pushes one change; the push must be acked.
  safer::Ack push(Device& device, const Change& change) { return push(device, std::vector<Change>{change}); }

  // Pushes a batch as given; the push must be acked (no seq_gap).
  safer::Ack push_batch(const DeviceIdentity& device, const safer::ReceivedPush& batch,
                        safer::WriterRules rules = safer::WriterRules::protocol1()) {
    auto outcome = store_->push(device, batch, rules);
    INFO((outcome.ok() ? "" : outcome.error().message));
    REQUIRE(outcome.ok());
    INFO((outcome->error ? outcome->error->message : ""));
    REQUIRE(outcome->ack.has_value());
    REQUIRE_FALSE(outcome->error.has_value());
    return *outcome->ack;
  }

  std::int64_t acked_seq(const Device& device) {
    const auto record = store_->device(device.identity.device_id);
    REQUIRE(record.has_value());
    return record->acked_seq;
  }

  UnixMillis now = kNow;

 private:
  test_support::TempDir dir_;
  std::string location_;
  LocalDate local_date_;
  std::unique_ptr<ServerStore> store_;
};

// Every page from `cursor` on, with `limit` changes a page; returns the changes and the last cursor.
inline std::pair<std::vector<safer::PulledChange>, std::string> pull_all(
    ServerStore& store, const DeviceIdentity& device, std::string cursor = "", int limit = 500,
    ServerStore::Evictions evictions = ServerStore::Evictions::omit) {
  std::vector<safer::PulledChange> changes;
  for (int pages = 0; pages < 10'000; ++pages) {
    auto page = store.pull(device, safer::Pull{cursor, limit}, evictions);
    INFO((page.ok() ? "" : page.error().message));
    REQUIRE(page.ok());
    REQUIRE(static_cast<int>(page->changes.size()) <= limit);
    for (auto& change : page->changes) changes.push_back(std::move(change));
    cursor = page->cursor;
    if (!page->has_more) return {changes, cursor};
  }
  FAIL("pull never finished");
  return {};
}

inline std::string key(Entity entity, const std::string& id) { return std::string(safer::to_string(entity)) + "/" + id; }

// The last change for each record among `changes`, keyed by key(entity, id).
inline std::map<std::string, safer::PulledChange> latest(const std::vector<safer::PulledChange>& changes) {
  std::map<std::string, safer::PulledChange> records;
  for (const auto& change : changes) records[key(change.change.entity, change.change.id)] = change;
  return records;
}

// What a coordinator pulling from "" holds afterwards: every record's winning version.
inline std::map<std::string, safer::PulledChange> server_records(ServerStore& store) {
  return latest(pull_all(store, DeviceIdentity{"audit-tablet", "coord.audit", Role::coordinator}).first);
}

// The visit the server holds, as any device would pull it; it must be there.
inline Visit stored_visit(ServerStore& store, const std::string& id) {
  const auto records = server_records(store);
  const auto found = records.find("visit/" + id);
  REQUIRE(found != records.end());
  REQUIRE(found->second.change.data.has_value());
  return std::get<Visit>(*found->second.change.data);
}

// The kept statistics of the range, checked against a recomputation from the records.
inline safer::Stats checked_stats(ServerStore& store, const std::optional<safer::CivilDate>& from = std::nullopt,
                                  const std::optional<safer::CivilDate>& to = std::nullopt) {
  auto kept = store.stats(from, to);
  CHECK(kept == store.recompute_stats(from, to));
  return kept;
}

// Two coordinators' tablets writing visits to household uuid(1): `current` announces `rules`
// (protocol.md §10), `older` nothing (protocol 1).
struct TwoTablets {
  StoreFixture fixture;
  Device current = fixture.enroll("new-tablet", "coord.new", Role::coordinator);
  Device older = fixture.enroll("old-tablet", "coord.old", Role::coordinator);
  std::uint32_t counter = 0;

  explicit TwoTablets(safer::WriterRules rules) {
    current.rules = rules;
    REQUIRE(fixture.push(current, upsert(uuid(1), household(), hlc(0, ++counter))).rejected.empty());
  }
  safer::Ack write(Device& device, const std::string& id, const Visit& record) {
    return fixture.push(device, upsert(id, record, hlc(0, ++counter)));
  }
};

// The rejection of `seq` in `ack`, if any.
inline std::optional<safer::Rejection> rejection(const safer::Ack& ack, std::int64_t seq) {
  for (const auto& rejected : ack.rejected) {
    if (rejected.seq == seq) return rejected;
  }
  return std::nullopt;
}

}  // namespace store_test
