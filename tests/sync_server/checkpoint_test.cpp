// The writer's WAL checkpointed on a thread of its own (wal_checkpointer.h, issue 17): serve's
// commits no longer run SQLite's automatic checkpoint, the thread copies the WAL into the
// database, and the writer does it itself only when the WAL reaches its limit.
#include <catch2/catch.hpp>

#include <chrono>
#include <thread>
#include <tuple>

#include "safer/sqlite.h"
#include "store_fixture.h"

using namespace store_test;

namespace {

// Pushes `count` households (each about 200 bytes of JSON): a few pages of WAL per ten.
void push_households(StoreFixture& fixture, Device& device, int first, int count) {
  std::vector<Change> changes;
  for (int i = first; i < first + count; ++i) changes.push_back(upsert(uuid(i), household("Elstree"), hlc(i)));
  REQUIRE(fixture.push(device, changes).rejected.empty());
}

// (frames in the WAL, frames of it copied into the database), as another connection sees them.
std::pair<std::int64_t, std::int64_t> wal_frames(const std::string& path) {
  safer::sqlite::Database other(path);
  auto row = other.cached("PRAGMA wal_checkpoint(PASSIVE)");
  REQUIRE(row->step());
  return {row->column_int(1), row->column_int(2)};
}

template <class Condition>
bool within_10_s(Condition condition) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

}  // namespace

TEST_CASE("the writer's WAL is checkpointed by a thread of its own, not by a commit", "[checkpoint][sqlite-only]") {
  if (test_support::testing_postgresql()) return;
  StoreFixture fixture;
  auto coordinator = fixture.enroll("coord-tablet", "coord.cat", Role::coordinator);
  fixture.store().tune_writer({.cache_mib = 8, .background_checkpoint = true, .checkpoint_start_pages = 8,
                               .checkpoint_limit_pages = 1'000'000});
  CHECK(fixture.store().checkpoints() == std::pair<std::uint64_t, std::uint64_t>{0, 0});
  for (int round = 0; round < 5; ++round) push_households(fixture, coordinator, 1 + round * 200, 200);
  REQUIRE(within_10_s([&] { return fixture.store().checkpoints().first > 0; }));
  CHECK(fixture.store().checkpoints().second == 0);
  // Everything the thread was asked to copy is in the database: what is left in the WAL is at
  // most the commits since its last run, each under the threshold or already asked for.
  REQUIRE(within_10_s([&] {
    const auto [frames, copied] = wal_frames(fixture.path());
    return frames == copied;
  }));
  safer::sqlite::Database other(fixture.path());
  auto households = other.cached("SELECT count(*) FROM records WHERE entity = 'household'");
  REQUIRE(households->step());
  CHECK(households->column_int(0) == 1000);
}

TEST_CASE("the writer checkpoints itself when the WAL reaches its limit", "[checkpoint][sqlite-only]") {
  if (test_support::testing_postgresql()) return;
  StoreFixture fixture;
  auto coordinator = fixture.enroll("coord-tablet", "coord.cat", Role::coordinator);
  // A thread that is never asked: the WAL would grow without end but for the limit.
  fixture.store().tune_writer({.cache_mib = 8, .background_checkpoint = true, .checkpoint_start_pages = 1'000'000,
                               .checkpoint_limit_pages = 8});
  for (int round = 0; round < 5; ++round) push_households(fixture, coordinator, 1 + round * 200, 200);
  const auto [background, on_writer] = fixture.store().checkpoints();
  CHECK(background == 0);
  CHECK(on_writer >= 4);  // every commit left more than 8 pages
  const auto [frames, copied] = wal_frames(fixture.path());
  CHECK(frames == copied);  // the last commit's own checkpoint copied it all
}

TEST_CASE("without a background checkpointer SQLite checkpoints as before, and PostgreSQL needs none", "[checkpoint]") {
  StoreFixture fixture;
  auto coordinator = fixture.enroll("coord-tablet", "coord.cat", Role::coordinator);
  fixture.store().tune_writer({.cache_mib = 8, .background_checkpoint = false});
  push_households(fixture, coordinator, 1, 200);
  CHECK(fixture.store().checkpoints() == std::pair<std::uint64_t, std::uint64_t>{0, 0});
  if (test_support::testing_postgresql()) {
    fixture.store().tune_writer({});  // no SQLite connection: nothing to tune, nothing started
    CHECK(fixture.store().checkpoints() == std::pair<std::uint64_t, std::uint64_t>{0, 0});
  }
}
