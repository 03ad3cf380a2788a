// The record rules of protocol.md §5 run on the device and on the server alike: each boundary is
// tested on both sides, and each error must name its field so an app can show it beside it.
#include <catch2/catch.hpp>

#include <string>

#include "only_error.h"
#include "safer/validation.h"

using namespace safer;

namespace {

constexpr WriterRules kBasis{.share_basis = true, .work_dates = false};

const std::string kHouseholdId = "0192f5e4-7c1a-7d3e-9b2a-4c5d6e7f8a9b";
const std::string kE = "\xC3\xA9";        // é: 1 code point, 2 bytes
const std::string kHome = "\xF0\x9F\x8F\xA0";  // 1 code point, 4 bytes

std::string repeat(const std::string& piece, std::size_t times) {
  std::string out;
  for (std::size_t i = 0; i < times; ++i) out += piece;
  return out;
}

Household valid_household() {
  Household household;
  household.address = "12 Example Close, Borehamwood";
  household.postcode = "WD6 1WA";
  household.ward = "Borehamwood Hillside";
  return household;
}

Visit valid_visit() {
  Visit visit;
  visit.household_id = kHouseholdId;
  visit.visited_at = 1'795'685'400'000;
  visit.status = VisitStatus::completed;
  return visit;
}

CommuteSession valid_session() {
  CommuteSession session;
  session.station = "Radlett";
  session.started_at = 1'795'685'400'000;
  session.cards_distributed = 120;
  return session;
}

}  // namespace

TEST_CASE("valid records have no errors", "[validation]") {
  Household household = valid_household();
  CHECK(check_household(household, ReferenceLists::defaults()).empty());
  CHECK(check_visit(valid_visit(), ReferenceLists::defaults()).empty());
  CHECK(check_commute_session(valid_session(), ReferenceLists::defaults()).empty());
}

TEST_CASE("address is 1 to 200 code points of visible text", "[validation][household]") {
  Household household = valid_household();
  const auto& lists = ReferenceLists::defaults();
  SECTION("1 code point") {
    household.address = kHome;
    CHECK(check_household(household, lists).empty());
  }
  SECTION("200 code points of 2 bytes each (400 bytes)") {
    household.address = repeat(kE, 200);
    REQUIRE(household.address.size() == 400);
    CHECK(check_household(household, lists).empty());
  }
  SECTION("200 code points of 4 bytes each") {
    household.address = repeat(kHome, 200);
    CHECK(check_household(household, lists).empty());
  }
  SECTION("201 code points") {
    household.address = repeat(kE, 201);
    const auto error = only_error(check_household(household, lists), "address");
    CHECK_THAT(error.message, Catch::Contains("200"));
    CHECK_THAT(error.message, Catch::Contains("201"));
  }
  SECTION("201 ASCII characters") {
    household.address = repeat("a", 201);
    only_error(check_household(household, lists), "address");
  }
  SECTION("empty") {
    household.address = "";
    only_error(check_household(household, lists), "address");
  }
  SECTION("blank") {
    household.address = " \t\n ";
    only_error(check_household(household, lists), "address");
  }
}

TEST_CASE("postcode is normalised in place or refused", "[validation][household]") {
  Household household = valid_household();
  const auto& lists = ReferenceLists::defaults();
  SECTION("lower case without the space") {
    household.postcode = "wd61wa";
    CHECK(check_household(household, lists).empty());
    CHECK(household.postcode == "WD6 1WA");
  }
  SECTION("lower case with the space") {
    household.postcode = "en6 1aa";
    CHECK(check_household(household, lists).empty());
    CHECK(household.postcode == "EN6 1AA");
  }
  SECTION("not a postcode: left as given") {
    household.postcode = "WD6 1CA";
    const auto error = only_error(check_household(household, lists), "postcode");
    CHECK_THAT(error.message, Catch::Contains("UK postcode"));
    CHECK(household.postcode == "WD6 1CA");
  }
  SECTION("empty") {
    household.postcode = "";
    only_error(check_household(household, lists), "postcode");
  }
}

TEST_CASE("ward must be one of the reference list's wards", "[validation][household]") {
  Household household = valid_household();
  SECTION("every default ward is accepted") {
    REQUIRE(ReferenceLists::defaults().wards.size() == 16);
    for (const auto& ward : ReferenceLists::defaults().wards) {
      household.ward = ward;
      INFO(ward);
      CHECK(check_household(household, ReferenceLists::defaults()).empty());
    }
  }
  SECTION("a ward not in the list, and near misses") {
    for (const char* ward : {"Watford Central", "", "elstree", "Elstree ", "Bushey  Heath"}) {
      household.ward = ward;
      INFO("'" << ward << "'");
      const auto error = only_error(check_household(household, ReferenceLists::defaults()), "ward");
      CHECK_THAT(error.message, Catch::Contains("Aldenham East") && Catch::Contains("Shenley"));
    }
  }
  SECTION("a server's own list replaces the defaults") {
    const ReferenceLists custom{{"Northfield", "Southgate Park"}, {"Central"}};
    household.ward = "Southgate Park";
    CHECK(check_household(household, custom).empty());
    household.ward = "Elstree";
    const auto error = only_error(check_household(household, custom), "ward");
    CHECK_THAT(error.message, Catch::Contains("Northfield or Southgate Park"));
  }
}

TEST_CASE("assigned_to is null or a user id", "[validation][household]") {
  Household household = valid_household();
  const auto& lists = ReferenceLists::defaults();
  SECTION("omitted") {
    household.assigned_to.reset();
    CHECK(check_household(household, lists).empty());
  }
  SECTION("null") {
    household.assigned_to = std::optional<std::string>{};
    CHECK(check_household(household, lists).empty());
  }
  SECTION("valid user ids") {
    for (const std::string& user : {std::string("pc.1234"), std::string("a"),
                                   std::string("j_doe@example.org"), std::string("x-9"),
                                   repeat("u", 64)}) {
      household.assigned_to = std::optional<std::string>{user};
      INFO(user);
      CHECK(check_household(household, lists).empty());
    }
  }
  SECTION("invalid user ids") {
    for (const std::string& user : {std::string(""), repeat("u", 65), std::string("pc 1234"),
                                   std::string("pc/1234"), std::string("caf") + kE}) {
      household.assigned_to = std::optional<std::string>{user};
      INFO("'" << user << "'");
      only_error(check_household(household, lists), "assigned_to");
    }
  }
  CHECK(is_valid_user_id("Officer.7_@-"));
  CHECK_FALSE(is_valid_user_id("officer:7"));
}

TEST_CASE("household errors come one per field, in field order", "[validation][household]") {
  Household household;
  household.address = "";
  household.postcode = "nope";
  household.ward = "Nowhere";
  household.assigned_to = std::optional<std::string>{"bad id"};
  const auto errors = check_household(household, ReferenceLists::defaults());
  REQUIRE(errors.size() == 4);
  CHECK(errors[0].field == "address");
  CHECK(errors[1].field == "postcode");
  CHECK(errors[2].field == "ward");
  CHECK(errors[3].field == "assigned_to");
}

TEST_CASE("smoke_detectors_fitted is 0 to 10", "[validation][visit]") {
  Visit visit = valid_visit();
  const auto& lists = ReferenceLists::defaults();
  visit.smoke_detectors_fitted = 0;
  CHECK(check_visit(visit, lists).empty());
  visit.smoke_detectors_fitted = 10;
  CHECK(check_visit(visit, lists).empty());
  visit.smoke_detectors_fitted = -1;
  auto error = only_error(check_visit(visit, lists), "smoke_detectors_fitted");
  CHECK_THAT(error.message, Catch::Contains("0 to 10"));
  visit.smoke_detectors_fitted = 11;
  error = only_error(check_visit(visit, lists), "smoke_detectors_fitted");
  CHECK_THAT(error.message, Catch::Contains("0 to 10"));
}

TEST_CASE("a visit not completed has no outcomes and no smoke detectors", "[validation][visit]") {
  const auto& lists = ReferenceLists::defaults();
  for (const auto status : {VisitStatus::no_answer, VisitStatus::declined, VisitStatus::rescheduled}) {
    const std::string status_name(to_string(status));
    Visit visit = valid_visit();
    visit.status = status;
    INFO(status_name);
    CHECK(check_visit(visit, lists).empty());
    for (const auto outcome_name : EnumNames<Outcome>::names) {
      const Outcome outcome = *enum_from_string<Outcome>(outcome_name);
      Visit with_outcome = visit;
      with_outcome.outcomes.insert(outcome);
      INFO(outcome_name);
      const auto error = only_error(check_visit(with_outcome, lists), std::string(outcome_name));
      CHECK(error.message ==
            std::string(outcome_name) + " must be false when status is " + status_name);
    }
    Visit all_outcomes = visit;
    for (const auto name : EnumNames<Outcome>::names) all_outcomes.outcomes.insert(*enum_from_string<Outcome>(name));
    CHECK(check_visit(all_outcomes, lists).size() == 6);

    Visit with_smoke = visit;
    with_smoke.smoke_detectors_fitted = 1;
    const auto error = only_error(check_visit(with_smoke, lists), "smoke_detectors_fitted");
    CHECK(error.message == "smoke_detectors_fitted must be 0 when status is " + status_name);
  }
  Visit no_answer = valid_visit();
  no_answer.status = VisitStatus::no_answer;
  no_answer.smoke_detectors_fitted = 1;
  const auto errors = check_visit(no_answer, lists);
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].message == "smoke_detectors_fitted must be 0 when status is no_answer");
}

TEST_CASE("a completed visit may have every outcome", "[validation][visit]") {
  Visit visit = valid_visit();
  for (const auto name : EnumNames<Outcome>::names) visit.outcomes.insert(*enum_from_string<Outcome>(name));
  visit.smoke_detectors_fitted = 3;
  visit.referrals = {Referral::fire_service, Referral::health};
  CHECK(check_visit(visit, ReferenceLists::defaults()).empty());
}

TEST_CASE("share_basis goes with referrals, and is required of writers that announced it", "[validation][visit]") {
  const auto& lists = ReferenceLists::defaults();
  Visit visit = valid_visit();
  for (const auto status : {VisitStatus::completed, VisitStatus::declined}) {
    visit.status = status;
    INFO(to_string(status));
    // No referral: no basis, under either rule.
    CHECK(check_visit(visit, lists, kBasis).empty());
    visit.share_basis = ShareBasis::consent;
    for (const auto rule : {WriterRules::protocol1(), kBasis}) {
      const auto error = only_error(check_visit(visit, lists, rule), "share_basis");
      CHECK(error.message == "share_basis must be left out when there is no referral");
    }
    // A referral with a basis: valid under either rule.
    visit.referrals = {Referral::adult_social_care};
    for (const auto name : EnumNames<ShareBasis>::names) {
      visit.share_basis = enum_from_string<ShareBasis>(name);
      CHECK(check_visit(visit, lists, kBasis).empty());
      CHECK(check_visit(visit, lists, WriterRules::protocol1()).empty());
    }
    // A referral without one: "not recorded" from a protocol-1 writer, refused from the others.
    visit.share_basis.reset();
    CHECK(check_visit(visit, lists, WriterRules::protocol1()).empty());
    CHECK(check_visit(visit, lists).empty());
    const auto error = only_error(check_visit(visit, lists, kBasis), "share_basis");
    CHECK(error.message == "share_basis is required with a referral: one of consent, vital_interests or safeguarding");
    RecordData data = visit;
    CHECK(check_record(data, lists, kBasis).size() == 1);
    CHECK(check_record(data, lists).empty());
    visit.referrals = {};
  }
}

TEST_CASE("notes are at most 2000 code points", "[validation][visit]") {
  Visit visit = valid_visit();
  const auto& lists = ReferenceLists::defaults();
  visit.notes = "";
  CHECK(check_visit(visit, lists).empty());
  visit.notes = repeat(kHome, 2000);  // 8000 bytes
  CHECK(check_visit(visit, lists).empty());
  visit.notes = repeat(kE, 2001);
  const auto error = only_error(check_visit(visit, lists), "notes");
  CHECK_THAT(error.message, Catch::Contains("2000") && Catch::Contains("2001"));
  visit.notes = repeat("n", 2001);
  only_error(check_visit(visit, lists), "notes");
}

TEST_CASE("household_id must be a canonical UUID", "[validation][visit]") {
  Visit visit = valid_visit();
  for (const std::string& id : {std::string(""), std::string("not-a-uuid"),
                               std::string("0192F5E4-7C1A-7D3E-9B2A-4C5D6E7F8A9B"),
                               std::string("0192f5e47c1a7d3e9b2a4c5d6e7f8a9b")}) {
    visit.household_id = id;
    INFO("'" << id << "'");
    only_error(check_visit(visit, ReferenceLists::defaults()), "household_id");
  }
}

TEST_CASE("station must be one of the reference list's stations", "[validation][commute]") {
  CommuteSession session = valid_session();
  for (const char* station : {"Potters Bar", "Elstree & Borehamwood", "Radlett"}) {
    session.station = station;
    CHECK(check_commute_session(session, ReferenceLists::defaults()).empty());
  }
  for (const char* station : {"Watford Junction", "", "radlett", "Elstree and Borehamwood"}) {
    session.station = station;
    INFO("'" << station << "'");
    const auto error = only_error(check_commute_session(session, ReferenceLists::defaults()), "station");
    CHECK_THAT(error.message, Catch::Contains("Potters Bar, Elstree & Borehamwood or Radlett"));
  }
  const ReferenceLists custom{{"Northfield"}, {"Central"}};
  session.station = "Central";
  CHECK(check_commute_session(session, custom).empty());
  session.station = "Radlett";
  only_error(check_commute_session(session, custom), "station");
}

TEST_CASE("ended_at is not before started_at", "[validation][commute]") {
  CommuteSession session = valid_session();
  const auto& lists = ReferenceLists::defaults();
  session.ended_at.reset();
  CHECK(check_commute_session(session, lists).empty());
  session.ended_at = session.started_at;
  CHECK(check_commute_session(session, lists).empty());
  session.ended_at = session.started_at + 1;
  CHECK(check_commute_session(session, lists).empty());
  session.ended_at = session.started_at - 1;
  const auto error = only_error(check_commute_session(session, lists), "ended_at");
  CHECK_THAT(error.message, Catch::Contains("started_at"));
}

TEST_CASE("cards_distributed is 0 to 5000", "[validation][commute]") {
  CommuteSession session = valid_session();
  const auto& lists = ReferenceLists::defaults();
  session.cards_distributed = 0;
  CHECK(check_commute_session(session, lists).empty());
  session.cards_distributed = 5000;
  CHECK(check_commute_session(session, lists).empty());
  session.cards_distributed = -1;
  auto error = only_error(check_commute_session(session, lists), "cards_distributed");
  CHECK_THAT(error.message, Catch::Contains("0 to 5000"));
  session.cards_distributed = 5001;
  error = only_error(check_commute_session(session, lists), "cards_distributed");
  CHECK_THAT(error.message, Catch::Contains("0 to 5000"));
}

TEST_CASE("check_record dispatches on the record's kind", "[validation]") {
  RecordData household = valid_household();
  std::get<Household>(household).postcode = "wd61wa";
  CHECK(check_record(household, ReferenceLists::defaults()).empty());
  CHECK(std::get<Household>(household).postcode == "WD6 1WA");  // rewritten through the variant

  Visit bad_visit = valid_visit();
  bad_visit.smoke_detectors_fitted = 11;
  RecordData visit = bad_visit;
  only_error(check_record(visit, ReferenceLists::defaults()), "smoke_detectors_fitted");

  CommuteSession bad_session = valid_session();
  bad_session.station = "Nowhere";
  RecordData session = bad_session;
  only_error(check_record(session, ReferenceLists::defaults()), "station");
}

TEST_CASE("default reference lists are those of protocol.md section 5.5", "[validation]") {
  const auto& lists = ReferenceLists::defaults();
  CHECK(lists.has_ward("Bentley Heath & The Royds"));
  CHECK(lists.has_ward("Potters Bar Furzefield"));
  CHECK_FALSE(lists.has_ward("Potters Bar"));  // a station, not a ward
  CHECK(lists.stations == std::vector<std::string>{"Potters Bar", "Elstree & Borehamwood", "Radlett"});
  CHECK(lists.has_station("Elstree & Borehamwood"));
  CHECK_FALSE(lists.has_station("Elstree"));
}

TEST_CASE("messages never repeat an address, a note or a user id", "[validation]") {
  const auto& lists = ReferenceLists::defaults();
  Household household = valid_household();
  household.address = "Flat 9 Fictional Mansions " + repeat("x", 200);
  household.assigned_to = std::optional<std::string>{"secret person"};
  const auto household_errors = check_household(household, lists);
  REQUIRE(household_errors.size() == 2);  // address too long, assigned_to not a user id
  for (const auto& error : household_errors) {
    CHECK_THAT(error.message, !Catch::Contains("Fictional") && !Catch::Contains("secret person"));
  }
  Visit visit = valid_visit();
  visit.notes = "Resident mentioned a private matter " + repeat("y", 2000);
  const auto errors = check_visit(visit, lists);
  REQUIRE(errors.size() == 1);
  CHECK_THAT(errors[0].message, !Catch::Contains("private matter"));
}

TEST_CASE("an unknown ward is echoed cut short", "[validation][household]") {
  Household household = valid_household();
  household.ward = repeat("w", 40) + "Z" + repeat("w", 59);
  const auto error = only_error(check_household(household, ReferenceLists::defaults()), "ward");
  CHECK_THAT(error.message, Catch::Contains("\"" + repeat("w", 40) + "\xE2\x80\xA6\""));
  CHECK_THAT(error.message, !Catch::Contains("Z"));
}
