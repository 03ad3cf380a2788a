// The dates that drive work (protocol.md §5.2, §10): follow_up_due and rescheduled_for are
// required of a client that announced "work_dates", optional and kept for a protocol-1 client.
#include <catch2/catch.hpp>

#include "store_fixture.h"

using namespace store_test;

namespace {

using safer::Outcome;

Visit follow_up(const std::string& household_id, std::optional<std::string> due) {
  Visit record = visit(household_id);
  record.outcomes.insert(Outcome::follow_up_required);
  record.follow_up_due = std::move(due);
  return record;
}

Visit rescheduled(const std::string& household_id, std::optional<std::string> when) {
  Visit record = visit(household_id, VisitStatus::rescheduled);
  record.rescheduled_for = std::move(when);
  return record;
}

struct Team : TwoTablets {
  Team() : TwoTablets(safer::WriterRules::all()) {}
  Visit held(const std::string& id) { return stored_visit(fixture.store(), id); }
};

}  // namespace

TEST_CASE("a client that announced work_dates must date its follow-ups and reschedules", "[push][work_dates]") {
  Team team;
  const auto undated = team.write(team.current, uuid(11), follow_up(uuid(1), std::nullopt));
  REQUIRE(undated.rejected.size() == 1);
  CHECK(undated.rejected[0].code == "invalid");
  CHECK(undated.rejected[0].field == "follow_up_due");
  CHECK(server_records(team.fixture.store()).count("visit/" + uuid(11)) == 0);

  const auto unagreed = team.write(team.current, uuid(12), rescheduled(uuid(1), std::nullopt));
  REQUIRE(unagreed.rejected.size() == 1);
  CHECK(unagreed.rejected[0].field == "rescheduled_for");

  CHECK(team.write(team.current, uuid(11), follow_up(uuid(1), "2026-12-18")).rejected.empty());
  CHECK(team.held(uuid(11)).follow_up_due == "2026-12-18");
  CHECK(team.write(team.current, uuid(12), rescheduled(uuid(1), "2026-12-01T18:30")).rejected.empty());
  CHECK(team.held(uuid(12)).rescheduled_for == "2026-12-01T18:30");

  // Leaving a date out of an edit is refused and the date stays; removing the condition clears it.
  Visit edited = follow_up(uuid(1), std::nullopt);
  edited.notes = "edited";
  REQUIRE(team.write(team.current, uuid(11), edited).rejected.size() == 1);
  CHECK(team.held(uuid(11)).follow_up_due == "2026-12-18");
  CHECK(team.write(team.current, uuid(11), visit(uuid(1))).rejected.empty());
  CHECK_FALSE(team.held(uuid(11)).follow_up_due.has_value());

  // A date without its condition is refused from this client, and so is one that is not a date.
  const auto stray = team.write(team.current, uuid(13), [&] {
    Visit record = visit(uuid(1));
    record.follow_up_due = "2026-12-18";
    return record;
  }());
  REQUIRE(stray.rejected.size() == 1);
  CHECK(stray.rejected[0].field == "follow_up_due");
  const auto impossible = team.write(team.current, uuid(13), follow_up(uuid(1), "2026-02-29"));
  REQUIRE(impossible.rejected.size() == 1);
  CHECK(impossible.rejected[0].field == "follow_up_due");
}

TEST_CASE("a protocol-1 client's visit keeps the stored dates while their conditions hold", "[push][work_dates]") {
  Team team;
  REQUIRE(team.write(team.current, uuid(11), follow_up(uuid(1), "2026-12-18")).rejected.empty());
  REQUIRE(team.write(team.current, uuid(12), rescheduled(uuid(1), "2026-12-01T18:30")).rejected.empty());

  Visit edited = follow_up(uuid(1), std::nullopt);  // the old app knows nothing of the dates
  edited.notes = "Rang to confirm.";
  Visit moved = rescheduled(uuid(1), std::nullopt);
  moved.notes = "Resident asked for an evening.";
  SECTION("pushed as the store's tools do") {
    REQUIRE(team.write(team.older, uuid(11), edited).rejected.empty());
    REQUIRE(team.write(team.older, uuid(12), moved).rejected.empty());
  }
  SECTION("pushed as a connection does, with its JSON encoded ahead") {
    safer::ReceivedPush batch;
    batch.changes.push_back({team.older.next_seq++, upsert(uuid(11), edited, hlc(0, ++team.counter)), {}});
    batch.changes.push_back({team.older.next_seq++, upsert(uuid(12), moved, hlc(0, ++team.counter)), {}});
    auto& store = team.fixture.store();
    store.begin_group();
    const auto outcome = store.apply_push(team.older.identity, batch, ServerStore::prepare_push(batch));
    store.commit_group();
    REQUIRE(outcome.ack.has_value());
    REQUIRE(outcome.ack->rejected.empty());
  }
  CHECK(team.held(uuid(11)).notes == "Rang to confirm.");
  CHECK(team.held(uuid(11)).follow_up_due == "2026-12-18");
  CHECK(team.held(uuid(12)).notes == "Resident asked for an evening.");
  CHECK(team.held(uuid(12)).rescheduled_for == "2026-12-01T18:30");

  // The condition gone: a date passed through whole is dropped, not refused.
  Visit done = visit(uuid(1));
  done.follow_up_due = "2026-12-18";
  REQUIRE(team.write(team.older, uuid(11), done).rejected.empty());
  CHECK_FALSE(team.held(uuid(11)).follow_up_due.has_value());
  Visit answered = visit(uuid(1), VisitStatus::no_answer);
  answered.rescheduled_for = "2026-12-01T18:30";
  REQUIRE(team.write(team.older, uuid(12), answered).rejected.empty());
  CHECK_FALSE(team.held(uuid(12)).rescheduled_for.has_value());

  // The condition back from the old client: accepted undated (nothing stored to keep).
  REQUIRE(team.write(team.older, uuid(11), follow_up(uuid(1), std::nullopt)).rejected.empty());
  CHECK_FALSE(team.held(uuid(11)).follow_up_due.has_value());
  // It may still send a date, which must then be valid.
  REQUIRE(team.write(team.older, uuid(11), follow_up(uuid(1), "2027-01-04")).rejected.empty());
  CHECK(team.held(uuid(11)).follow_up_due == "2027-01-04");
  const auto bad = team.write(team.older, uuid(11), follow_up(uuid(1), "04/01/2027"));
  REQUIRE(bad.rejected.size() == 1);
  CHECK(bad.rejected[0].field == "follow_up_due");
  CHECK(team.held(uuid(11)).follow_up_due == "2027-01-04");
}

TEST_CASE("a new visit from a protocol-1 client takes nothing from a deleted one", "[push][work_dates]") {
  Team team;
  REQUIRE(team.write(team.current, uuid(11), follow_up(uuid(1), "2026-12-18")).rejected.empty());
  REQUIRE(team.fixture.push(team.current, remove(Entity::visit, uuid(11), hlc(0, ++team.counter))).rejected.empty());
  REQUIRE(team.write(team.older, uuid(11), follow_up(uuid(1), std::nullopt)).rejected.empty());
  CHECK_FALSE(team.held(uuid(11)).follow_up_due.has_value());
}
