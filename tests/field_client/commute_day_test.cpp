// Commute Aware sessions end at local midnight (field_client/store.h): the store refuses a
// session still open after its day, or ending after it, and ends the overdue ones itself.
// The clock and the time zone are injected: the local day here is UTC+1 (a fixed zone, so the
// test does not depend on the machine's).
#include <catch2/catch.hpp>

#include "field_client/store.h"
#include "safer/time.h"
#include "temp_dir.h"

namespace {

using field_client::Store;

constexpr std::int64_t kHour = 3'600'000;
constexpr std::int64_t kDay = 24 * kHour;

// 23:59:59.999 of the local day in a zone one hour ahead of UTC.
std::int64_t end_of_day_utc_plus_1(std::int64_t instant) {
  const std::int64_t local = instant + kHour;
  const std::int64_t day_start_local = local - ((local % kDay) + kDay) % kDay;
  return day_start_local + kDay - 1 - kHour;
}

std::int64_t at(const char* text) {
  const auto instant = safer::parse_rfc3339(text);
  REQUIRE(instant.has_value());
  return *instant;
}

safer::CommuteSession open_session(std::int64_t started_at) {
  safer::CommuteSession session;
  session.station = "Radlett";
  session.started_at = started_at;
  session.cards_distributed = 3;
  return session;
}

}  // namespace

// Why: a session left open on Monday collected Tuesday's taps under Monday's date and station.
TEST_CASE("a session open past its local midnight takes no more taps, and is ended at 23:59:59.999", "[store][commute]") {
  test_support::TempDir dir;
  std::int64_t now = at("2026-12-07T21:00:00Z");  // Monday 22:00 local
  field_client::StoreOptions options;
  options.wall_clock = [&now] { return now; };
  options.end_of_local_day = end_of_day_utc_plus_1;
  auto opened = Store::open(dir.file("tablet.db"), options);
  REQUIRE(opened.ok());
  auto& store = **opened;

  auto session = open_session(at("2026-12-07T20:30:00Z"));  // Monday 21:30 local
  const auto id = store.create(session);
  REQUIRE(id.ok());
  session.cards_distributed = 4;
  REQUIRE(store.update(*id, session).ok());  // before midnight: counted

  now = at("2026-12-07T22:59:59.999Z");  // 23:59:59.999 local: still Monday
  session.cards_distributed = 5;
  REQUIRE(store.update(*id, session).ok());
  CHECK(store.end_overdue_sessions().value().empty());

  now = at("2026-12-07T23:00:00.000Z");  // 00:00 local: Tuesday
  session.cards_distributed = 6;
  const auto refused = store.update(*id, session);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().field == "ended_at");
  CHECK(std::get<safer::CommuteSession>(*store.get(safer::Entity::commute_session, *id)->data).cards_distributed == 5);
  // A session cannot be started open on an earlier day either.
  CHECK_FALSE(store.create(open_session(at("2026-12-07T20:00:00Z"))).ok());

  const auto pending_before = store.summary()->pending;
  const auto ended = store.end_overdue_sessions();
  REQUIRE(ended.ok());
  REQUIRE(ended->size() == 1);
  CHECK(ended->front() == *id);
  const auto stored = std::get<safer::CommuteSession>(*store.get(safer::Entity::commute_session, *id)->data);
  REQUIRE(stored.ended_at.has_value());
  CHECK(*stored.ended_at == at("2026-12-07T22:59:59.999Z"));  // Monday 23:59:59.999 local
  CHECK(stored.cards_distributed == 5);
  CHECK(store.summary()->pending == pending_before + 1);  // the end is synced as any change
  CHECK(store.end_overdue_sessions().value().empty());   // done once

  SECTION("an ended session can still be corrected, within its day") {
    auto corrected = stored;
    corrected.cards_distributed = 7;
    REQUIRE(store.update(*id, corrected).ok());
    corrected.ended_at = at("2026-12-08T07:00:00Z");  // Tuesday: not its day
    const auto late = store.update(*id, corrected);
    REQUIRE_FALSE(late.ok());
    CHECK(late.error().field == "ended_at");
  }
  SECTION("today's session at the same station takes the taps") {
    auto today = open_session(now);
    today.cards_distributed = 1;
    REQUIRE(store.create(today).ok());
    CHECK(store.end_overdue_sessions().value().empty());
  }
}

TEST_CASE("only this device's own open sessions are ended", "[store][commute]") {
  test_support::TempDir dir;
  std::int64_t now = at("2026-12-07T09:00:00Z");
  field_client::StoreOptions options;
  options.wall_clock = [&now] { return now; };
  options.end_of_local_day = end_of_day_utc_plus_1;
  auto opened = Store::open(dir.file("tablet.db"), options);
  REQUIRE(opened.ok());
  auto& store = *opened;
  auto ended_session = open_session(at("2026-12-07T07:00:00Z"));
  ended_session.ended_at = at("2026-12-07T08:00:00Z");
  const auto ended_id = store->create(ended_session);
  const auto open_id = store->create(open_session(at("2026-12-07T08:30:00Z")));
  REQUIRE(ended_id.ok());
  REQUIRE(open_id.ok());
  now += 2 * kDay;
  const auto ended = store->end_overdue_sessions().value();
  REQUIRE(ended.size() == 1);
  CHECK(ended.front() == *open_id);
  const auto untouched = std::get<safer::CommuteSession>(*store->get(safer::Entity::commute_session, *ended_id)->data);
  CHECK(*untouched.ended_at == at("2026-12-07T08:00:00Z"));
}
