// The lawful basis for sharing a visit's referrals (protocol.md §5.2, §7, §10): required of a
// client that announced "share_basis", optional and kept for a protocol-1 client, and counted.
#include <catch2/catch.hpp>

#include "safer/record_json.h"
#include "store_fixture.h"

using namespace store_test;

namespace {

using safer::Referral;
using safer::ShareBasis;

constexpr std::size_t kNotRecorded = 3;

Visit referred(const std::string& household_id, std::optional<ShareBasis> basis) {
  Visit record = visit(household_id);
  record.referrals = {Referral::fire_service, Referral::adult_social_care};
  record.share_basis = basis;
  return record;
}

struct Team : TwoTablets {
  Team() : TwoTablets(safer::WriterRules{.share_basis = true, .work_dates = false}) {}
  safer::Stats stats() { return checked_stats(fixture.store()); }
};

}  // namespace

TEST_CASE("a client that announced share_basis must give one with every referral", "[push][share_basis]") {
  Team team;
  const auto refused = team.write(team.current, uuid(11), referred(uuid(1), std::nullopt));
  REQUIRE(refused.rejected.size() == 1);
  CHECK(refused.rejected[0].code == "invalid");
  CHECK(refused.rejected[0].field == "share_basis");
  CHECK(refused.rejected[0].message ==
        "share_basis is required with a referral: one of consent, vital_interests or safeguarding");
  CHECK(server_records(team.fixture.store()).count("visit/" + uuid(11)) == 0);

  CHECK(team.write(team.current, uuid(11), referred(uuid(1), ShareBasis::safeguarding)).rejected.empty());
  CHECK(stored_visit(team.fixture.store(), uuid(11)).share_basis == ShareBasis::safeguarding);

  // A basis without a referral is refused from any client that sends it.
  Visit stray = visit(uuid(1));
  stray.share_basis = ShareBasis::consent;
  const auto stray_ack = team.write(team.current, uuid(12), stray);
  REQUIRE(stray_ack.rejected.size() == 1);
  CHECK(stray_ack.rejected[0].field == "share_basis");

  // Leaving it out of an edit is not how it is cleared: the edit is refused and the basis stays.
  Visit edited = referred(uuid(1), std::nullopt);
  edited.notes = "edited";
  REQUIRE(team.write(team.current, uuid(11), edited).rejected.size() == 1);
  CHECK(stored_visit(team.fixture.store(), uuid(11)).share_basis == ShareBasis::safeguarding);
  // Taking the referrals away takes it away.
  CHECK(team.write(team.current, uuid(11), visit(uuid(1))).rejected.empty());
  CHECK_FALSE(stored_visit(team.fixture.store(), uuid(11)).share_basis.has_value());
}

TEST_CASE("a protocol-1 client's visit keeps the stored basis while it has referrals", "[push][share_basis]") {
  Team team;
  REQUIRE(team.write(team.current, uuid(11), referred(uuid(1), ShareBasis::vital_interests)).rejected.empty());

  Visit edited = referred(uuid(1), std::nullopt);  // the old app knows nothing of share_basis
  edited.notes = "Smoke alarm fitted in the hall.";
  SECTION("pushed as the store's tools do") {
    REQUIRE(team.write(team.older, uuid(11), edited).rejected.empty());
  }
  SECTION("pushed as a connection does, with its JSON encoded ahead") {
    safer::ReceivedPush batch;
    batch.changes.push_back({team.older.next_seq++, upsert(uuid(11), edited, hlc(0, ++team.counter)), {}});
    auto& store = team.fixture.store();
    store.begin_group();
    const auto outcome = store.apply_push(team.older.identity, batch, ServerStore::prepare_push(batch));
    store.commit_group();
    REQUIRE(outcome.ack.has_value());
    REQUIRE(outcome.ack->rejected.empty());
  }
  auto held = stored_visit(team.fixture.store(), uuid(11));
  CHECK(held.notes == "Smoke alarm fitted in the hall.");
  CHECK(held.share_basis == ShareBasis::vital_interests);
  CHECK(team.stats().referrals_by_basis[static_cast<std::size_t>(ShareBasis::vital_interests)] == 1);

  // Without referrals there is nothing to share: a basis passed through whole is dropped, not refused.
  Visit cleared = visit(uuid(1));
  cleared.share_basis = ShareBasis::vital_interests;
  REQUIRE(team.write(team.older, uuid(11), cleared).rejected.empty());
  CHECK_FALSE(stored_visit(team.fixture.store(), uuid(11)).share_basis.has_value());
  CHECK(team.stats().referred_visits == 0);

  // Referrals again from the old client: accepted, and "not recorded" (the basis went with them).
  REQUIRE(team.write(team.older, uuid(11), referred(uuid(1), std::nullopt)).rejected.empty());
  CHECK_FALSE(stored_visit(team.fixture.store(), uuid(11)).share_basis.has_value());
  const auto stats = team.stats();
  CHECK(stats.referred_visits == 1);
  CHECK(stats.referrals_by_basis[kNotRecorded] == 1);

  // A protocol-1 client may still send a basis it knows of.
  REQUIRE(team.write(team.older, uuid(11), referred(uuid(1), ShareBasis::consent)).rejected.empty());
  CHECK(stored_visit(team.fixture.store(), uuid(11)).share_basis == ShareBasis::consent);
}

TEST_CASE("referrals count by their basis, and follow edits, deletions and erasure", "[stats][share_basis]") {
  Team team;
  REQUIRE(team.fixture.push(team.current, upsert(uuid(2), household("Aldenham East"), hlc(0, ++team.counter)))
              .rejected.empty());
  team.write(team.current, uuid(11), referred(uuid(1), ShareBasis::consent));
  team.write(team.current, uuid(12), referred(uuid(1), ShareBasis::consent));
  team.write(team.current, uuid(13), referred(uuid(2), ShareBasis::safeguarding));
  team.write(team.older, uuid(14), referred(uuid(2), std::nullopt));
  team.write(team.current, uuid(15), visit(uuid(2)));  // no referral: not counted here
  Visit declined = referred(uuid(1), ShareBasis::vital_interests);
  declined.status = VisitStatus::declined;  // a referral may go with any status
  team.write(team.current, uuid(16), declined);

  auto stats = team.stats();
  CHECK(stats.visits_total == 6);
  CHECK(stats.referred_visits == 5);
  CHECK(stats.referrals_by_basis == std::array<std::int64_t, 4>{2, 1, 1, 1});
  auto json = safer::to_json(stats);
  std::erase(json, ' ');
  CHECK_THAT(json, Catch::Contains(R"("referrals":{"visits":5,"by_share_basis":{"consent":2,"vital_interests":1,)"
                                   R"("safeguarding":1,"not_recorded":1},"by_partner":{)"));

  // An edit moves a visit from one basis to another; a deletion takes it away.
  team.write(team.current, uuid(12), referred(uuid(1), ShareBasis::vital_interests));
  REQUIRE(team.fixture.push(team.current, remove(Entity::visit, uuid(16), hlc(0, ++team.counter))).rejected.empty());
  stats = team.stats();
  CHECK(stats.referred_visits == 4);
  CHECK(stats.referrals_by_basis == std::array<std::int64_t, 4>{1, 1, 1, 1});

  // Erasing a household takes its visits' referrals with them.
  REQUIRE(team.fixture.push(team.current, remove(Entity::household, uuid(2), hlc(0, ++team.counter))).rejected.empty());
  stats = team.stats();
  CHECK(stats.referred_visits == 2);
  CHECK(stats.referrals_by_basis == std::array<std::int64_t, 4>{1, 1, 0, 0});

  // One day's range sees the same, from the day totals rather than the month's.
  const auto day = team.fixture.store().stats(date("2026-11-25"), date("2026-11-25"));
  CHECK(day.referrals_by_basis == stats.referrals_by_basis);
  CHECK(team.fixture.store().stats(date("2026-11-26"), std::nullopt).referred_visits == 0);
}
