// Several servers over one PostgreSQL database, at the store level: each ServerStore here has
// its own connection, as each server process has, so the interleavings that matter can be
// made exactly (a group held open while another commits, a pull in between). The same
// clauses with real server processes: tests/e2e/multi_server_test.cpp.
#include <catch2/catch.hpp>

#include <condition_variable>
#include <functional>
#include <mutex>
#include <random>
#include <set>
#include <thread>
#include <tuple>

#include "safer/pg.h"
#include "store_fixture.h"
#include "test_database.h"

using namespace store_test;

namespace {

std::unique_ptr<ServerStore> open_store(const std::string& url) {
  auto opened = ServerStore::open(url, fixed_options());
  INFO((opened.ok() ? "" : opened.error().message));
  REQUIRE(opened.ok());
  return std::move(opened.value());
}

const DeviceIdentity kAudit{"audit-tablet", "coord.audit", Role::coordinator};

safer::ReceivedPush batch(std::int64_t first_seq, const std::vector<Change>& changes) {
  safer::ReceivedPush push;
  for (const auto& change : changes) push.changes.push_back({first_seq++, change, {}});
  return push;
}

std::set<std::string> ids_of(const std::vector<safer::PulledChange>& changes) {
  std::set<std::string> ids;
  for (const auto& change : changes) ids.insert(change.change.id);
  return ids;
}

const DeviceIdentity kAnn{"ann-tablet", "officer.ann", Role::officer};
const DeviceIdentity kBob{"bob-tablet", "officer.bob", Role::officer};
const DeviceIdentity kDesk{"coord-desk", "coord.dan", Role::coordinator};

// Three servers' stores over one new database, for a group held open: `slow` holds it, `quick`
// commits meanwhile, `reader` serves pulls page by page. The devices given are enrolled.
struct HeldGroup {
  explicit HeldGroup(std::initializer_list<const DeviceIdentity*> devices) {
    for (const auto* device : devices) REQUIRE(slow->enroll(device->device_id, device->user_id, device->role).ok());
  }
  // One page of a pull, which must succeed.
  safer::ChangesPage page(const DeviceIdentity& device, const std::string& cursor) {
    auto pulled = reader->pull(device, safer::Pull{cursor, 500});
    INFO((pulled.ok() ? "" : pulled.error().message));
    REQUIRE(pulled.ok());
    return std::move(*pulled);
  }
  const std::string url = test_support::new_postgresql_database();
  std::unique_ptr<ServerStore> slow = open_store(url), quick = open_store(url), reader = open_store(url);
};

}  // namespace

// Why: on PostgreSQL versions come from a sequence, so a transaction can take a smaller
// version than one that commits before it. A pull that ran in between and moved its cursor
// past the later version would never see the earlier one. The watermark must hold it back.
TEST_CASE("a pull between a slow transaction and a later commit on another server skips nothing",
          "[multi-server][postgresql]") {
  const std::string url = test_support::new_postgresql_database();
  auto slow = open_store(url), quick = open_store(url), reader = open_store(url);
  const DeviceIdentity ann{"ann-tablet", "coord.ann", Role::coordinator};
  const DeviceIdentity bob{"bob-tablet", "coord.bob", Role::coordinator};
  REQUIRE(slow->enroll(ann.device_id, ann.user_id, ann.role).ok());
  REQUIRE(slow->enroll(bob.device_id, bob.user_id, bob.role).ok());
  // The pulls below continue one: a full pull would go on while the slow transaction is open
  // (the next test case).
  const auto start = pull_all(*reader, kAudit).second;
  std::vector<safer::PulledChange> seen;

  SECTION("the slow transaction writes first, the quick one commits, a pull, then the slow one commits") {
    slow->begin_group();
    REQUIRE(slow->apply_push(ann, batch(1, {upsert(uuid(1), household(), hlc(1))})).ack);
    REQUIRE(quick->push(bob, batch(1, {upsert(uuid(2), household(), hlc(2))})).ok());
    auto [before, cursor] = pull_all(*reader, kAudit, start);
    CHECK_FALSE(ids_of(before).contains(uuid(1)));  // not committed
    slow->commit_group();
    auto after = pull_all(*reader, kAudit, cursor).first;
    seen = before;
    seen.insert(seen.end(), after.begin(), after.end());
    CHECK(ids_of(after).contains(uuid(1)));
  }
  SECTION("a transaction holding an earlier xid commits last, after a pull saw a greater version") {
    // bob's group starts writing first (its transaction id is the smaller), ann's takes a
    // greater version and commits, a pull sees it, then bob's group writes a greater version
    // still and commits: versions alone would put bob's first change behind the cursor.
    quick->begin_group();
    REQUIRE(quick->apply_push(bob, batch(1, {upsert(uuid(2), household(), hlc(2))})).ack);
    REQUIRE(slow->push(ann, batch(1, {upsert(uuid(1), household(), hlc(1))})).ok());
    auto [before, cursor] = pull_all(*reader, kAudit, start);
    REQUIRE(quick->apply_push(bob, batch(2, {upsert(uuid(3), household(), hlc(3))})).ack);
    quick->commit_group();
    auto after = pull_all(*reader, kAudit, cursor).first;
    seen = before;
    seen.insert(seen.end(), after.begin(), after.end());
    CHECK(ids_of(after).contains(uuid(2)));
  }
  const auto ids = ids_of(seen);
  for (int n = 1; n <= 3; ++n) {
    if (n == 3 && ids.size() == 2) break;  // the first section writes two records
    INFO("record " << n);
    CHECK(ids.contains(uuid(n)));
  }
  // And a pull from the start agrees.
  CHECK(ids_of(pull_all(*reader, kAudit).first) == ids);
}

// Why: an eviction must take its place in the feed like a record (protocol.md §4.6): written
// by a transaction still open while another commits and a pull runs, it must not fall
// behind the cursor that pull returns.
TEST_CASE("an eviction written by a slow transaction is not skipped by a pull in between",
          "[multi-server][postgresql][evict]") {
  const std::string url = test_support::new_postgresql_database();
  auto slow = open_store(url), quick = open_store(url), reader = open_store(url);
  const DeviceIdentity coordinator{"coord-tablet", "coord.cat", Role::coordinator};
  const DeviceIdentity ann{"ann-tablet", "officer.ann", Role::officer};
  const DeviceIdentity desk{"coord-desk", "coord.dan", Role::coordinator};  // the device row is locked per group
  for (const auto* device : {&coordinator, &desk, &ann}) {
    REQUIRE(slow->enroll(device->device_id, device->user_id, device->role).ok());
  }
  REQUIRE(quick->push(desk, batch(1, {upsert(uuid(1), target_household("Elstree", false, "officer.ann"), hlc(1))})).ok());
  const auto cursor = pull_all(*reader, ann).second;

  // No target households: the statistics counter row would make the two groups wait on each other.
  slow->begin_group();  // takes household 1 away from Ann, and holds its transaction open
  REQUIRE(slow->apply_push(coordinator, batch(1, {upsert(uuid(1), target_household("Elstree", false, "officer.bob"), hlc(2))})).ack);
  // Ann's own household, so in her scope by its creator: an assignment's audit entry would wait
  // on the audit head the slow group holds.
  REQUIRE(quick->push(ann, batch(1, {upsert(uuid(2), household("Elstree"), hlc(3))})).ok());
  auto [before, middle] = pull_all(*reader, ann, cursor, 500, ServerStore::Evictions::send);
  for (const auto& pulled : before) CHECK_FALSE(pulled.evict);
  slow->commit_group();
  const auto after = pull_all(*reader, ann, middle, 500, ServerStore::Evictions::send).first;
  std::vector<safer::PulledChange> seen = before;
  seen.insert(seen.end(), after.begin(), after.end());
  int evictions = 0;
  for (const auto& pulled : seen) {
    if (pulled.evict) {
      ++evictions;
      CHECK(pulled.change.id == uuid(1));
    }
  }
  CHECK(evictions == 1);
  CHECK(ids_of(seen).contains(uuid(2)));
}

// Why: a full pull ends with the client dropping what it did not bring (protocol.md §4.3). A
// change another server committed while an older transaction was still open lies above the
// watermark, out of the pages' reach: a full pull that ended then would drop it from the
// tablet (a visit its officer had just synced vanished until the next sync). It must go on
// until that transaction ends; other pulls may leave the change for the next one.
TEST_CASE("a full pull goes on while a change in its scope waits behind an open transaction",
          "[multi-server][postgresql]") {
  const DeviceIdentity carl{"carl-tablet", "officer.carl", Role::officer};
  const DeviceIdentity pat{"pat-tablet", "pcso.pat", Role::pcso};
  const DeviceIdentity office{"coord-office", "coord.eve", Role::coordinator};
  HeldGroup servers({&kAnn, &kBob, &carl, &pat, &kDesk, &office});
  auto [slow, quick, reader] = std::tie(servers.slow, servers.quick, servers.reader);
  REQUIRE(quick->push(kAnn, batch(1, {upsert(uuid(1), household("Elstree"), hlc(1))})).ok());
  REQUIRE(quick->push(kBob, batch(1, {upsert(uuid(2), household("Elstree"), hlc(2))})).ok());
  REQUIRE(quick->push(carl, batch(1, {upsert(uuid(5), household("Elstree"), hlc(5))})).ok());
  const auto incremental = pull_all(*reader, kAnn).second;

  // A household of the coordinator's own, in nobody's scope but theirs: the open transaction.
  slow->begin_group();
  REQUIRE(slow->apply_push(kDesk, batch(1, {upsert(uuid(3), household("Elstree"), hlc(3))})).ack);
  // Meanwhile, above the watermark: Ann's new household; a coordinator's visit to Carl's
  // household; Pat's commute session. Each is in one user's scope by another of its paths.
  REQUIRE(quick->push(kAnn, batch(2, {upsert(uuid(4), household("Elstree"), hlc(4))})).ok());
  REQUIRE(quick->push(office, batch(1, {upsert(uuid(6), visit(uuid(5)), hlc(6))})).ok());
  REQUIRE(quick->push(pat, batch(1, {upsert(uuid(7), session(), hlc(7))})).ok());

  auto first = servers.page(kAnn, "");
  CHECK(ids_of(first.changes) == std::set<std::string>{uuid(1)});
  CHECK(first.has_more);
  auto waiting = servers.page(kAnn, first.cursor);  // nothing more below the watermark yet
  CHECK(waiting.changes.empty());
  CHECK(waiting.has_more);
  CHECK(servers.page(kDesk, "").has_more);  // a coordinator's scope is everything
  const auto carls = servers.page(carl, "");
  CHECK(ids_of(carls.changes) == std::set<std::string>{uuid(5)});
  CHECK(carls.has_more);
  const auto pats = servers.page(pat, "");
  CHECK(pats.changes.empty());
  CHECK(pats.has_more);

  // Bob has nothing above the watermark: his full pull ends. So does Ann's incremental pull,
  // which drops nothing and brings household 4 next time.
  const auto bobs = servers.page(kBob, "");
  CHECK(ids_of(bobs.changes) == std::set<std::string>{uuid(2)});
  CHECK_FALSE(bobs.has_more);
  const auto later = servers.page(kAnn, incremental);
  CHECK(later.changes.empty());
  CHECK_FALSE(later.has_more);

  slow->commit_group();
  const auto last = servers.page(kAnn, waiting.cursor);
  CHECK(ids_of(last.changes) == std::set<std::string>{uuid(4)});
  CHECK_FALSE(last.has_more);
  CHECK(ids_of(servers.page(kAnn, later.cursor).changes) == std::set<std::string>{uuid(4)});
  for (const auto& [device, held, id] : {std::tuple{&carl, carls.cursor, uuid(6)}, std::tuple{&pat, pats.cursor, uuid(7)}}) {
    const auto end = servers.page(*device, held);
    CHECK(ids_of(end.changes) == std::set<std::string>{id});
    CHECK_FALSE(end.has_more);
  }
}

// Why: a transaction left open lets rows pile up above the watermark. The held-back question
// then reads the scope through its indexes rather than all those rows, and must still find
// the one row of the user's that lies beyond the first thousand.
TEST_CASE("a full pull goes on while its change waits behind an open transaction among many others' changes",
          "[multi-server][postgresql]") {
  HeldGroup servers({&kAnn, &kBob, &kDesk});
  auto [slow, quick, reader] = std::tie(servers.slow, servers.quick, servers.reader);
  REQUIRE(quick->push(kAnn, batch(1, {upsert(uuid(1), household("Elstree"), hlc(1))})).ok());

  slow->begin_group();
  REQUIRE(slow->apply_push(kDesk, batch(1, {upsert(uuid(2), household("Elstree"), hlc(2))})).ack);
  int next = 10;
  for (std::int64_t seq = 1; seq <= 2; ++seq) {  // 1,200 of Bob's households above the watermark
    std::vector<Change> changes;
    for (int i = 0; i < 600; ++i, ++next) changes.push_back(upsert(uuid(next), household("Elstree"), hlc(next)));
    REQUIRE(quick->push(kBob, batch(seq * 600 - 599, changes)).ok());
  }
  const auto before = servers.page(kAnn, "");  // nothing of Ann's above the watermark yet
  CHECK(ids_of(before.changes) == std::set<std::string>{uuid(1)});
  CHECK_FALSE(before.has_more);

  REQUIRE(quick->push(kAnn, batch(2, {upsert(uuid(3), household("Elstree"), hlc(3))})).ok());  // after Bob's
  const auto held = servers.page(kAnn, "");
  CHECK(ids_of(held.changes) == std::set<std::string>{uuid(1)});
  CHECK(held.has_more);
  slow->commit_group();
  const auto last = servers.page(kAnn, held.cursor);
  CHECK(ids_of(last.changes) == std::set<std::string>{uuid(3)});
  CHECK_FALSE(last.has_more);
}

// Why: the same batch can reach two servers at once (a tablet reconnects through another
// server while the first still holds its push): it must be applied once, and both answers
// must ack it.
TEST_CASE("the same batch pushed through two servers at once is applied once", "[multi-server][postgresql]") {
  const std::string url = test_support::new_postgresql_database();
  auto first = open_store(url), second = open_store(url);
  const DeviceIdentity coordinator{"coord-tablet", "coord.cat", Role::coordinator};
  REQUIRE(first->enroll(coordinator.device_id, coordinator.user_id, coordinator.role).ok());
  int applied = 0;
  for (int round = 0; round < 20; ++round) {
    std::vector<Change> changes;
    for (int i = 0; i < 10; ++i) {
      changes.push_back(upsert(uuid(round * 10 + i), target_household("Elstree", true, std::nullopt), hlc(round * 10 + i)));
    }
    const auto push = batch(round * 10 + 1, changes);
    safer::Result<sync_server::PushOutcome> outcomes[2] = {safer::Error{}, safer::Error{}};
    std::thread other([&] { outcomes[1] = second->push(coordinator, push); });
    outcomes[0] = first->push(coordinator, push);
    other.join();
    for (const auto& outcome : outcomes) {
      INFO((outcome.ok() ? "" : outcome.error().message));
      REQUIRE(outcome.ok());
      REQUIRE(outcome->ack);
      CHECK(outcome->ack->acked_seq == round * 10 + 10);
      applied += outcome->applied;
    }
  }
  CHECK(applied == 200);
  CHECK(first->stats(std::nullopt, std::nullopt).households_target == 200);
  CHECK(second->device(coordinator.device_id)->acked_seq == 200);
}

// Why: statistics are kept by adding deltas; two servers adding to the same rows at once
// must lose no update, and last-writer-wins must hold for records both write — including a
// household's ward, target and vulnerabilities changing on one server while the other records
// visits to it.
TEST_CASE("two servers writing the same records at once keep last-writer-wins and exact statistics",
          "[multi-server][postgresql]") {
  const std::string url = test_support::new_postgresql_database();
  auto setup = open_store(url);
  const std::vector<std::string> wards = setup->options().lists.wards;
  constexpr int kHouseholds = 5, kVisits = 30, kSteps = 150;
  const DeviceIdentity devices[2] = {{"coord-a", "coord.a", Role::coordinator}, {"coord-b", "coord.b", Role::coordinator}};
  for (const auto& device : devices) REQUIRE(setup->enroll(device.device_id, device.user_id, device.role).ok());
  {
    std::vector<Change> households;
    for (int h = 0; h < kHouseholds; ++h) households.push_back(upsert(uuid(h), household(), hlc(0, h)));
    REQUIRE(setup->push(devices[0], batch(1, households)).ok());
  }

  std::mutex mutex;
  std::vector<std::string> failures;
  std::map<std::string, std::pair<Hlc, std::string>> winners;  // record -> greatest (hlc, device)
  for (int h = 0; h < kHouseholds; ++h) winners["household/" + uuid(h)] = {hlc(0, h), devices[0].device_id};

  // Catch's assertions (inside at()) are for the test's thread only.
  const UnixMillis last_visit_day = at("2026-11-25T10:00:00Z");
  const auto writer = [&](int index) {
    auto store = ServerStore::open(url, fixed_options());
    if (!store) {
      std::lock_guard lock(mutex);
      failures.push_back(store.error().message);
      return;
    }
    const auto& device = devices[index];
    std::int64_t seq = index == 0 ? kHouseholds + 1 : 1;
    std::mt19937_64 random(static_cast<std::uint64_t>(index) * 7919 + 11);
    const auto pick = [&](int low, int high) { return std::uniform_int_distribution<int>(low, high)(random); };
    for (int step = 1; step <= kSteps; ++step) {
      std::vector<Change> changes;
      for (int n = pick(1, 4); n > 0; --n) {
        // Distinct HLCs within a device: (millis, step * 8 + n); clocks of the two overlap.
        const Hlc version = hlc(pick(1, 20) * 1000, static_cast<std::uint32_t>(step * 8 + n));
        const int dice = pick(1, 10);
        if (dice <= 2) {
          const int h = pick(0, kHouseholds - 1);
          Household record = target_household(wards[static_cast<std::size_t>(pick(0, 2))], pick(0, 1) == 1, std::nullopt);
          // Its group of vulnerabilities too: none, or one of two pairs (bits 5, 10).
          record.vulnerability = safer::EnumSet<safer::Vulnerability>::from_bits(static_cast<std::uint32_t>(pick(0, 2) * 5));
          changes.push_back(upsert(uuid(h), record, version));
        } else if (dice <= 3) {
          changes.push_back(remove(Entity::visit, uuid(100 + pick(0, kVisits - 1)), version));
        } else {
          Visit record = visit(uuid(pick(0, kHouseholds - 1)), pick(0, 1) ? VisitStatus::completed : VisitStatus::no_answer,
                               last_visit_day - pick(0, 400) * kDay);
          if (record.status == VisitStatus::completed) {
            record.outcomes = {safer::Outcome::fire_safety_check};
            record.smoke_detectors_fitted = pick(0, 2);
          }
          changes.push_back(upsert(uuid(100 + pick(0, kVisits - 1)), record, version));
        }
      }
      const auto outcome = store.value()->push(device, batch(seq, changes));
      seq += static_cast<std::int64_t>(changes.size());
      std::lock_guard lock(mutex);
      if (!outcome) {
        failures.push_back(outcome.error().message);
        return;
      }
      if (outcome->ack && !outcome->ack->rejected.empty()) {
        // A visit to a household is never refused here; report anything that is.
        failures.push_back("rejected: " + outcome->ack->rejected.front().message);
      }
      for (const auto& change : changes) {
        auto& winner = winners[std::string(safer::to_string(change.entity)) + "/" + change.id];
        if (std::tie(winner.first, winner.second) < std::tie(change.hlc, device.device_id)) {
          winner = {change.hlc, device.device_id};
        }
      }
    }
  };
  std::thread other(writer, 1);
  writer(0);
  other.join();
  INFO((failures.empty() ? "" : failures.front()));
  REQUIRE(failures.empty());

  const auto held = server_records(*setup);
  CHECK(held.size() == winners.size());
  for (const auto& [key, winner] : winners) {
    INFO(key);
    const auto found = held.find(key);
    REQUIRE(found != held.end());
    CHECK(found->second.change.hlc == winner.first);
    CHECK(found->second.device_id == winner.second);
  }
  for (const auto& [from, to] : std::vector<std::pair<std::optional<safer::CivilDate>, std::optional<safer::CivilDate>>>{
           {std::nullopt, std::nullopt}, {date("2026-04-01"), date("2027-03-31")},
           {date("2025-04-01"), date("2026-03-31")}, {date("2026-11-01"), date("2026-11-25")}}) {
    CHECK(setup->stats(from, to) == setup->recompute_stats(from, to));
  }
}

// Why: a household's change reads the list of its visits, then locks each. On PostgreSQL a
// visit in that list may meanwhile have been moved to another household by another server;
// once locked it must be read again and left alone, or it would be counted (and erased) as
// this household's. The other server's transaction is held open until this one waits on it.
// (Visits not completed: a completed one makes the two wait on each other's household for
// the households-visited count, and PostgreSQL ends that deadlock by a retry.)
TEST_CASE("a visit moved to another household while that household changes on another server stays with it",
          "[multi-server][postgresql]") {
  const std::string url = test_support::new_postgresql_database();
  auto slow = open_store(url), quick = open_store(url);
  const std::vector<std::string> wards = slow->options().lists.wards;
  REQUIRE(wards.size() >= 3);
  const DeviceIdentity mover{"coord-mover", "coord.mover", Role::coordinator};
  const DeviceIdentity changer{"coord-changer", "coord.changer", Role::coordinator};
  for (const auto* device : {&mover, &changer}) REQUIRE(slow->enroll(device->device_id, device->user_id, device->role).ok());
  const std::string first = uuid(1), second = uuid(2), moved = uuid(100);
  REQUIRE(slow->push(mover, batch(1, {upsert(first, target_household(wards[0], false, std::nullopt), hlc(1)),
                                      upsert(second, target_household(wards[1], false, std::nullopt), hlc(2)),
                                      upsert(moved, visit(first, VisitStatus::no_answer), hlc(3))}))
              .ok());

  slow->begin_group();  // moves the visit from the first household to the second, and holds its transaction open
  REQUIRE(slow->apply_push(mover, batch(4, {upsert(moved, visit(second, VisitStatus::no_answer), hlc(4))})).ack);
  sync_server::Result<sync_server::PushOutcome> changed = safer::Error{"not_run", "", ""};
  Change change;
  SECTION("the first household moves to another ward") {
    change = upsert(first, target_household(wards[2], false, std::nullopt), hlc(5));
  }
  SECTION("the first household is erased") { change = remove(Entity::household, first, hlc(5)); }
  std::thread other([&] { changed = quick->push(changer, batch(1, {change})); });
  // Until the other server waits on the moved visit's lock (with the old list of visits read).
  safer::pg::Connection watcher(url);
  bool waiting = false;
  for (int i = 0; i < 200 && !waiting; ++i) {  // within 10 s
    waiting = watcher.run("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                          " AND datname = current_database()").integer(0, 0) > 0;
    if (!waiting) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  slow->commit_group();
  other.join();
  REQUIRE(waiting);
  INFO((changed.ok() ? "" : changed.error().message));
  REQUIRE(changed.ok());

  const auto held = server_records(*slow);
  REQUIRE(held.contains("visit/" + moved));
  const auto& visit_now = held.at("visit/" + moved).change;
  CHECK(visit_now.op == Op::upsert);  // not erased with the household it left
  REQUIRE(visit_now.data);
  CHECK(std::get<Visit>(*visit_now.data).household_id == second);
  CHECK(slow->stats(std::nullopt, std::nullopt) == slow->recompute_stats(std::nullopt, std::nullopt));
}

namespace {

// Runs `work` on a thread and keeps what it threw: a deadlock PostgreSQL broke shows here as
// a db::Failure from one of the two groups. finish() waits at most 20 s; then it cancels the
// statements of `url`'s database that wait for a lock (a wait that would never end: the test
// fails rather than hangs) and says so.
class Attempt {
 public:
  Attempt(std::string url, std::function<void()> work)
      : url_(std::move(url)), thread_([this, work = std::move(work)] {
          try {
            work();
          } catch (const std::exception& failure) {
            error_ = failure.what();
          }
          std::lock_guard lock(mutex_);
          done_ = true;
          finished_.notify_all();
        }) {}
  std::string finish() {
    std::unique_lock lock(mutex_);
    const bool in_time = finished_.wait_for(lock, std::chrono::seconds(20), [this] { return done_; });
    lock.unlock();
    if (!in_time) {
      safer::pg::Connection(url_).run("SELECT pg_cancel_backend(pid) FROM pg_stat_activity"
                                      " WHERE wait_event_type = 'Lock' AND datname = current_database()");
    }
    thread_.join();
    return in_time ? error_ : "still waiting after 20 s: " + error_;
  }

 private:
  std::string url_;
  std::string error_;
  std::mutex mutex_;
  std::condition_variable finished_;
  bool done_ = false;  // guarded by mutex_
  std::thread thread_;  // last: it starts once the rest is built
};

// Until `count` sessions of the test's database wait for a lock (within 10 s).
bool until_waiting(safer::pg::Connection& watcher, int count) {
  for (int i = 0; i < 200; ++i) {
    if (watcher.run("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                    " AND datname = current_database()").integer(0, 0) >= count) {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

// Two servers' stores over a new database, and a coordinator's device for each.
struct TwoServers {
  std::string url = test_support::new_postgresql_database();
  std::unique_ptr<ServerStore> first = open_store(url), second = open_store(url);
  DeviceIdentity ann{"ann-tablet", "coord.ann", Role::coordinator};
  DeviceIdentity bob{"bob-tablet", "coord.bob", Role::coordinator};
  TwoServers() {
    REQUIRE(first->enroll(ann.device_id, ann.user_id, ann.role).ok());
    REQUIRE(first->enroll(bob.device_id, bob.user_id, bob.role).ok());
  }
};

}  // namespace

// Why: each referral's row in `referrals` changes its (day, partner) row of referral_totals by
// trigger, which PostgreSQL locks until the commit. Written as each visit was applied, two
// servers' groups that refer on the same days in opposite orders each held a row the other
// wanted: deadlock, both groups ran again, and under load (100 devices) pushes failed. They
// are written at the flush in (day, partner) order now, so one group waits for the other.
TEST_CASE("two servers' groups referring on the same days in opposite orders both commit",
          "[multi-server][postgresql][referrals]") {
  TwoServers servers;
  auto& [url, first, second, ann, bob] = servers;
  const std::string home = uuid(1);
  REQUIRE(first->push(ann, batch(1, {upsert(home, household(), hlc(1))})).ok());
  auto referral_on = [&](const char* day) {
    Visit record = visit(home, VisitStatus::completed, at((std::string(day) + "T10:00:00Z").c_str()));
    record.referrals.insert(safer::Referral::fire_service);
    record.share_basis = safer::ShareBasis::consent;
    return record;
  };
  const UnixMillis clock = 10;

  first->begin_group();
  second->begin_group();
  REQUIRE(first->apply_push(ann, batch(2, {upsert(uuid(11), referral_on("2026-11-02"), hlc(clock))})).ack);
  REQUIRE(second->apply_push(bob, batch(1, {upsert(uuid(21), referral_on("2026-11-03"), hlc(clock))})).ack);
  // Each group now refers on the day the other referred on first.
  Attempt later_first(url, [&] { first->apply_push(ann, batch(3, {upsert(uuid(12), referral_on("2026-11-03"), hlc(clock + 1))})); });
  Attempt later_second(url, [&] { second->apply_push(bob, batch(2, {upsert(uuid(22), referral_on("2026-11-02"), hlc(clock + 1))})); });
  CHECK(later_first.finish().empty());
  CHECK(later_second.finish().empty());
  Attempt commit_first(url, [&] { first->commit_group(); });
  Attempt commit_second(url, [&] { second->commit_group(); });
  CHECK(commit_first.finish().empty());
  CHECK(commit_second.finish().empty());

  const auto stats = first->stats(std::nullopt, std::nullopt);
  CHECK(stats.referrals_by_partner.at("fire_service") == 4);
  CHECK(stats == first->recompute_stats(std::nullopt, std::nullopt));
}

// Why: year_visited counts, per financial year, the target households visited; its rows were
// written in the order of the group's households, so two groups whose households had their
// first visits of two years in opposite orders could deadlock. They go in year order now. A
// third session holds one year's row so that the interleaving that deadlocked is made exactly.
TEST_CASE("two servers' groups reaching financial years' visited targets in opposite orders both commit",
          "[multi-server][postgresql][stats]") {
  TwoServers servers;
  auto& [url, first, second, ann, bob] = servers;
  // Households 1 to 5, targets; household 5's visit makes financial year 2025's row.
  std::vector<Change> setup;
  for (std::uint32_t n = 1; n <= 5; ++n) setup.push_back(upsert(uuid(n), target_household("Elstree", true, std::nullopt), hlc(n)));
  setup.push_back(upsert(uuid(50), visit(uuid(5), VisitStatus::completed, at("2025-05-01T10:00:00Z")), hlc(6)));
  REQUIRE(first->push(ann, batch(1, setup)).ok());
  const auto completed_on = [](std::uint32_t household, const char* day) {
    return visit(uuid(household), VisitStatus::completed, at((std::string(day) + "T10:00:00Z").c_str()));
  };
  // In household order, the first group reaches 2025 then 2026, the second 2026 then 2025.
  // (Days and months all differ, so that no other statistics row is shared.)
  first->begin_group();
  REQUIRE(first->apply_push(ann, batch(7, {upsert(uuid(11), completed_on(1, "2025-06-10"), hlc(20)),
                                           upsert(uuid(13), completed_on(3, "2026-06-10"), hlc(21))})).ack);
  second->begin_group();
  REQUIRE(second->apply_push(bob, batch(1, {upsert(uuid(12), completed_on(2, "2026-07-10"), hlc(22)),
                                            upsert(uuid(14), completed_on(4, "2025-07-10"), hlc(23))})).ack);

  safer::pg::Connection holder(url), watcher(url);
  holder.exec("BEGIN");
  holder.run("SELECT targets FROM year_visited WHERE year = 2025 FOR UPDATE");
  Attempt commit_first(url, [&] { first->commit_group(); });  // waits for 2025's row, first in line
  REQUIRE(until_waiting(watcher, 1));
  // In household order the second took 2026's row (and all time's) before it waited for 2025's
  // too; given 2025's, the first then waited for the second's: deadlock.
  Attempt commit_second(url, [&] { second->commit_group(); });
  REQUIRE(until_waiting(watcher, 2));
  holder.exec("COMMIT");
  CHECK(commit_first.finish().empty());
  CHECK(commit_second.finish().empty());

  CHECK(first->stats(std::nullopt, std::nullopt) == first->recompute_stats(std::nullopt, std::nullopt));
}
