// The dashboard's register at the store level, on both backends (docs/api.md "Register"): the
// list's filters, the household page, editing and erasing from it, bulk assignment, the
// officers known before they have a device, and the register export that imports again.
#include <catch2/catch.hpp>

#include <algorithm>

#include "audit_entries.h"
#include "json_checks.h"
#include "store_fixture.h"
#include "sync_server/audit.h"
#include "sync_server/dashboard.h"
#include "sync_server/households_csv.h"

using namespace store_test;
using sync_server::Actor;
using sync_server::Dashboard;

namespace {

const Actor kCat{"coord.cat", "dashboard", "192.0.2.30"};
const std::string kAddress = "17 Quillon Mews";  // fictional

// Households 1-4: 1 target in Elstree for Ann, 2 not target in Elstree for nobody, 3 target in
// Shenley for Bob, 4 not target in Shenley for Ann. Ann has a device; Bob has none.
struct Register {
  StoreFixture fixture;
  Device coordinator = fixture.enroll("coord-tablet", "coord.cat", Role::coordinator);
  Device ann = fixture.enroll("ann-tablet", "officer.ann", Role::officer);

  Register() {
    Household first = target_household("Elstree", true, "officer.ann");
    first.address = kAddress;
    REQUIRE(fixture.push(coordinator, {upsert(uuid(1), first, hlc(1)),
                                       upsert(uuid(2), target_household("Elstree", false, std::nullopt), hlc(2)),
                                       upsert(uuid(3), target_household("Shenley", true, "officer.bob"), hlc(3)),
                                       upsert(uuid(4), target_household("Shenley", false, "officer.ann"), hlc(4))})
                .rejected.empty());
  }

  Dashboard dashboard() { return Dashboard(fixture.store()); }

  std::vector<std::string> listed(const Dashboard::HouseholdFilter& filter, std::int64_t* total = nullptr) {
    const auto body = test_support::parse_object(dashboard().households_json(filter, std::nullopt, 100, 0));
    if (total) *total = body["total"].GetInt64();
    std::vector<std::string> ids;
    for (const auto& item : body["households"].GetArray()) ids.emplace_back(item["id"].GetString());
    std::sort(ids.begin(), ids.end());
    return ids;
  }

  rapidjson::Document page(const std::string& id = uuid(1)) {
    auto body = dashboard().household_json(id);
    INFO((body.ok() ? "" : body.error().message));
    REQUIRE(body.ok());
    return test_support::parse_object(*body);
  }

  // What a tablet of `user` holds of household `id` after a full pull, or nullopt.
  std::optional<Household> pulled(const std::string& user, const std::string& id) {
    const auto records = latest(pull_all(fixture.store(), DeviceIdentity{"any-" + user, user, Role::officer}).first);
    const auto found = records.find(key(Entity::household, id));
    if (found == records.end() || !found->second.change.data) return std::nullopt;
    return std::get<Household>(*found->second.change.data);
  }
};

using Ids = std::vector<std::string>;

}  // namespace

TEST_CASE("the register list filters by target, unassigned, officer and ward, combined", "[register][dashboard]") {
  // docs/api.md: a coordinator narrows thousands of households to the ones to act on.
  Register r;
  std::int64_t total = 0;
  CHECK(r.listed({}) == Ids{uuid(1), uuid(2), uuid(3), uuid(4)});
  CHECK(r.listed({std::nullopt, true, false, std::nullopt}, &total) == Ids{uuid(1), uuid(3)});
  CHECK(total == 2);
  CHECK(r.listed({std::nullopt, false, false, std::nullopt}) == Ids{uuid(2), uuid(4)});
  CHECK(r.listed({std::nullopt, std::nullopt, true, std::nullopt}) == Ids{uuid(2)});
  CHECK(r.listed({std::nullopt, std::nullopt, false, std::string("officer.ann")}) == Ids{uuid(1), uuid(4)});
  CHECK(r.listed({std::string("Shenley"), true, false, std::nullopt}) == Ids{uuid(3)});
  CHECK(r.listed({std::string("Shenley"), false, false, std::string("officer.ann")}, &total) == Ids{uuid(4)});
  CHECK(total == 1);
  CHECK(r.listed({std::string("Elstree"), true, true, std::nullopt}).empty());
  CHECK(r.listed({std::nullopt, std::nullopt, false, std::string("officer.nobody")}).empty());
}

TEST_CASE("the household page shows details, every visit newest first, and the assignment history",
          "[register][dashboard]") {
  // docs/api.md GET /api/v1/households/{id}: everything a coordinator needs about one household.
  Register r;
  Visit noted = visit(uuid(1), VisitStatus::completed, at("2026-11-20T10:00:00Z"));
  noted.notes = "dog in the garden";
  noted.referrals = {safer::Referral::fire_service};
  noted.share_basis = safer::ShareBasis::consent;
  REQUIRE(r.fixture.push(r.ann, {upsert(uuid(11), noted, hlc(10)),
                                 upsert(uuid(12), visit(uuid(1), VisitStatus::no_answer, at("2026-11-24T10:00:00Z")), hlc(11))})
              .rejected.empty());
  REQUIRE(r.dashboard().assign_json(uuid(1), std::string("officer.bob"), kCat).ok());
  REQUIRE(r.dashboard().assign_json(uuid(1), std::nullopt, kCat).ok());

  const auto page = r.page();
  CHECK(std::string(page["address"].GetString()) == kAddress);
  CHECK(std::string(page["ward"].GetString()) == "Elstree");
  CHECK(page["target"].GetBool());
  CHECK(page["assigned_to"].IsNull());
  REQUIRE(page["visits"].Size() == 2);
  CHECK(std::string(page["visits"][0]["id"].GetString()) == uuid(12));  // newest first
  CHECK(std::string(page["visits"][1]["visit"]["notes"].GetString()) == "dog in the garden");
  CHECK(std::string(page["visits"][1]["visit"]["referrals"][0].GetString()) == "fire_service");
  CHECK(std::string(page["visits"][1]["recorded_by"].GetString()) == "officer.ann");
  const auto& assignments = page["assignments"];
  REQUIRE(assignments.Size() == 3);  // the coordinator tablet's first, then the dashboard's two
  CHECK(std::string(assignments[0]["assigned_to"].GetString()) == "officer.ann");
  CHECK(std::string(assignments[0]["by"].GetString()) == "coord.cat");
  CHECK(std::string(assignments[1]["assigned_to"].GetString()) == "officer.bob");
  CHECK(std::string(assignments[1]["via"].GetString()) == "dashboard");
  CHECK(assignments[2]["assigned_to"].IsNull());

  CHECK(r.dashboard().household_json(uuid(99)).error().code == "not_found");
}

TEST_CASE("editing a household is a coordinator's new version: validated, audited by field name, pulled by tablets",
          "[register][dashboard]") {
  // docs/api.md PUT /api/v1/households/{id}: the same rules as a pushed household, and the
  // officer's tablet gets the change at its next pull; setting and clearing target counts.
  Register r;
  const auto targets = [&] { return r.fixture.store().stats(std::nullopt, std::nullopt).households_target; };
  REQUIRE(targets() == 2);
  Household edited = household("Shenley");
  edited.address = "18 Quillon Mews";
  edited.postcode = "wd7 9aa";
  edited.vulnerability = {safer::Vulnerability::elderly, safer::Vulnerability::disability};
  edited.target = false;
  auto saved = r.dashboard().edit_household_json(uuid(1), edited, kCat);
  INFO((saved.ok() ? "" : saved.error().message));
  REQUIRE(saved.ok());
  const auto body = test_support::parse_object(*saved);
  CHECK(std::string(body["postcode"].GetString()) == "WD7 9AA");  // the stored form
  CHECK(std::string(body["assigned_to"].GetString()) == "officer.ann");  // kept
  CHECK(targets() == 1);

  const auto on_tablet = r.pulled("officer.ann", uuid(1));
  REQUIRE(on_tablet.has_value());
  CHECK(on_tablet->address == "18 Quillon Mews");
  CHECK(on_tablet->ward == "Shenley");
  CHECK(on_tablet->vulnerability.contains(safer::Vulnerability::disability));
  CHECK_FALSE(on_tablet->is_target());

  const auto edits = entries_of(r.fixture.store(), sync_server::kAuditHouseholdEdit);
  REQUIRE(edits.size() == 1);
  CHECK(edits[0].entry.household == uuid(1));
  CHECK(edits[0].entry.detail == "fields=address,postcode,ward,target,vulnerability");
  CHECK(edits[0].entry.actor.name == "coord.cat");

  SECTION("a household added in the field becomes a target") {
    Household field = household("Elstree");
    REQUIRE(r.fixture.push(r.ann, upsert(uuid(5), field, hlc(20))).rejected.empty());
    field.target = true;
    REQUIRE(r.dashboard().edit_household_json(uuid(5), field, kCat).ok());
    CHECK(targets() == 2);
    CHECK(r.pulled("officer.ann", uuid(5))->is_target());
    field.target = false;
    REQUIRE(r.dashboard().edit_household_json(uuid(5), field, kCat).ok());
    CHECK(targets() == 1);
  }
  SECTION("a bad field is refused naming it, and nothing is written") {
    Household bad = edited;
    bad.postcode = "NOT A POSTCODE";
    auto refused = r.dashboard().edit_household_json(uuid(1), bad, kCat);
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.error().code == "invalid");
    CHECK(refused.error().field == "postcode");
    bad = edited;
    bad.ward = "Atlantis";
    CHECK(r.dashboard().edit_household_json(uuid(1), bad, kCat).error().field == "ward");
    bad = edited;
    bad.address = "";
    CHECK(r.dashboard().edit_household_json(uuid(1), bad, kCat).error().field == "address");
    CHECK(r.pulled("officer.ann", uuid(1))->address == "18 Quillon Mews");
    CHECK(entries_of(r.fixture.store(), sync_server::kAuditHouseholdEdit).size() == 1);
    CHECK(r.dashboard().edit_household_json(uuid(99), edited, kCat).error().code == "not_found");
  }
  SECTION("an edit that changes nothing writes nothing") {
    REQUIRE(r.dashboard().edit_household_json(uuid(1), edited, kCat).ok());
    CHECK(entries_of(r.fixture.store(), sync_server::kAuditHouseholdEdit).size() == 1);
  }
}

TEST_CASE("erasing from the household page is the erasure: visits go, stats follow, nothing brings it back",
          "[register][dashboard]") {
  // docs/data-protection.md §5 "Erasure": the dashboard's delete is the same erasure as a
  // coordinator tablet's, audited under the coordinator's login.
  Register r;
  REQUIRE(r.fixture.push(r.ann, {upsert(uuid(11), visit(uuid(1)), hlc(10)), upsert(uuid(12), visit(uuid(1)), hlc(11)),
                                 upsert(uuid(41), visit(uuid(4)), hlc(12))})
              .rejected.empty());
  REQUIRE(r.fixture.store().stats(std::nullopt, std::nullopt).visits_total == 3);

  const auto erased = r.dashboard().erase_household(uuid(1), kCat);
  REQUIRE(erased.ok());
  CHECK(*erased == 2);
  const auto stats = r.fixture.store().stats(std::nullopt, std::nullopt);
  CHECK(stats.visits_total == 1);
  CHECK(stats.households_target == 1);
  CHECK(r.dashboard().household_json(uuid(1)).error().code == "not_found");
  const auto records = server_records(r.fixture.store());
  CHECK_FALSE(records.at(key(Entity::visit, uuid(11))).change.data.has_value());
  CHECK(records.at(key(Entity::visit, uuid(41))).change.data.has_value());

  const auto entries = entries_of(r.fixture.store(), sync_server::kAuditErase);
  REQUIRE(entries.size() == 1);
  CHECK(entries[0].entry.actor.name == "coord.cat");
  CHECK(entries[0].entry.actor.via == "dashboard");
  CHECK(entries[0].entry.detail == "visits=2");

  // An officer's newer upsert cannot bring it back, nor a second erasure happen.
  Household again = household("Elstree");
  const auto ack = r.fixture.push(r.ann, upsert(uuid(1), again, hlc(100)));
  REQUIRE(ack.rejected.size() == 1);
  CHECK(ack.rejected[0].code == "erased");
  CHECK(r.dashboard().erase_household(uuid(1), kCat).error().code == "not_found");
}

TEST_CASE("bulk assignment assigns every household or none, each audited", "[register][dashboard]") {
  // docs/api.md POST /api/v1/households/assignment: one list, all or nothing.
  Register r;
  SECTION("every one") {
    auto assigned = r.dashboard().assign_many_json({uuid(1), uuid(2), uuid(3)}, std::string("officer.dee"), kCat);
    REQUIRE(assigned.ok());
    CHECK(r.listed({std::nullopt, std::nullopt, false, std::string("officer.dee")}) == Ids{uuid(1), uuid(2), uuid(3)});
    const auto entries = entries_of(r.fixture.store(), sync_server::kAuditAssign);
    CHECK(std::count_if(entries.begin(), entries.end(), [](const auto& e) { return e.entry.username == "officer.dee"; }) == 3);
    CHECK(r.pulled("officer.dee", uuid(2)).has_value());  // picked up by a tablet enrolled later
  }
  SECTION("none when one is missing or erased") {
    REQUIRE(r.dashboard().erase_household(uuid(4), kCat).ok());
    const auto before = entries_of(r.fixture.store(), sync_server::kAuditAssign).size();
    for (const auto& missing : {uuid(99), uuid(4)}) {
      auto refused = r.dashboard().assign_many_json({uuid(1), uuid(2), missing}, std::string("officer.dee"), kCat);
      REQUIRE_FALSE(refused.ok());
      CHECK(refused.error().code == "not_found");
    }
    CHECK(r.listed({std::nullopt, std::nullopt, false, std::string("officer.dee")}).empty());
    CHECK(entries_of(r.fixture.store(), sync_server::kAuditAssign).size() == before);
  }
  SECTION("a bounded list and a well-formed user id") {
    CHECK(r.dashboard().assign_many_json({}, std::string("officer.dee"), kCat).error().field == "ids");
    std::vector<std::string> too_many(Dashboard::kMaxBulkAssign + 1, uuid(1));
    CHECK(r.dashboard().assign_many_json(too_many, std::string("officer.dee"), kCat).error().field == "ids");
    CHECK(r.dashboard().assign_many_json({uuid(1)}, std::string("officer dee"), kCat).error().field == "assigned_to");
  }
}

TEST_CASE("officers known to the server: those named on the dashboard and every enrolled user", "[register][dashboard]") {
  // docs/api.md "Officers": households can go to an officer before their tablet is enrolled,
  // and the tablet enrolled later for that name pulls them.
  Register r;
  REQUIRE(r.dashboard().add_officer("officer.eve", kCat).ok());
  REQUIRE(r.dashboard().add_officer("officer.eve", kCat).ok());  // again: no change
  CHECK(r.dashboard().add_officer("officer eve", kCat).error().field == "user_id");
  const auto listed = test_support::parse_object(r.dashboard().officers_json());
  std::vector<std::string> names;
  for (const auto& officer : listed["officers"].GetArray()) names.emplace_back(officer["user_id"].GetString());
  CHECK(names == Ids{"coord.cat", "officer.ann", "officer.eve"});
  const auto& eve = listed["officers"][2];
  CHECK(eve["listed"].GetBool());
  CHECK(eve["devices"].GetInt64() == 0);
  CHECK(eve["role"].IsNull());
  CHECK(listed["officers"][1]["households"].GetInt64() == 2);
  CHECK(entries_of(r.fixture.store(), sync_server::kAuditOfficerAdd).size() == 1);

  REQUIRE(r.dashboard().assign_many_json({uuid(2), uuid(3)}, std::string("officer.eve"), kCat).ok());
  auto eve_tablet = r.fixture.enroll("eve-tablet", "officer.eve", Role::officer);
  const auto records = latest(pull_all(r.fixture.store(), eve_tablet.identity).first);
  CHECK(records.count(key(Entity::household, uuid(2))) == 1);
  CHECK(records.count(key(Entity::household, uuid(3))) == 1);
  CHECK(records.count(key(Entity::household, uuid(1))) == 0);

  REQUIRE(r.dashboard().remove_officer("officer.eve", kCat).ok());
  CHECK(r.dashboard().remove_officer("officer.eve", kCat).error().code == "not_found");
  // Still known by the device; the assignments stay.
  CHECK(r.dashboard().officers_json().find("\"officer.eve\"") != std::string::npos);
  CHECK(r.listed({std::nullopt, std::nullopt, false, std::string("officer.eve")}) == Ids{uuid(2), uuid(3)});
}

TEST_CASE("the register export imports again unchanged, vulnerability and a formula-like address included",
          "[register][dashboard][csv]") {
  // docs/api.md GET /api/v1/exports/households.csv: the columns of the import and vulnerability,
  // text neutralised against CSV injection, and export → import a round trip.
  Register r;
  Household odd = target_household("Elstree", false, std::nullopt);
  odd.address = "=1+2 Formula Row, \"The Annexe\"";
  odd.vulnerability = {safer::Vulnerability::lives_alone, safer::Vulnerability::repeat_victim};
  REQUIRE(r.fixture.push(r.coordinator, upsert(uuid(5), odd, hlc(30))).rejected.empty());
  const auto before = server_records(r.fixture.store());
  const auto csv = r.dashboard().households_csv();
  CHECK(csv.rfind("id,address,postcode,ward,target,assigned_to,vulnerability\r\n", 0) == 0);
  CHECK(csv.find("\"'=1+2 Formula Row, \"\"The Annexe\"\"\"") != std::string::npos);
  CHECK(csv.find("repeat_victim;lives_alone") != std::string::npos);
  CHECK(csv.find(kAddress) != std::string::npos);

  SECTION("importing it again changes no household") {
    REQUIRE(r.fixture.store().import_households(csv, kCat).ok());
    const auto after = server_records(r.fixture.store());
    for (int id : {1, 2, 3, 4, 5}) {
      INFO(id);
      const auto& was = std::get<Household>(*before.at(key(Entity::household, uuid(id))).change.data);
      const auto& now = std::get<Household>(*after.at(key(Entity::household, uuid(id))).change.data);
      CHECK(now == was);
    }
  }
  SECTION("an import with the column sets vulnerability; without it keeps it") {
    const std::string header = "id,address,postcode,ward,target,assigned_to";
    REQUIRE(r.fixture.store().import_households(header + ",vulnerability\r\n" + uuid(5) + ",5 Row,WD6 1WA,Elstree,0,,elderly; disability\r\n", kCat).ok());
    auto held = std::get<Household>(*server_records(r.fixture.store()).at(key(Entity::household, uuid(5))).change.data);
    CHECK(held.vulnerability == safer::EnumSet<safer::Vulnerability>{safer::Vulnerability::elderly, safer::Vulnerability::disability});
    REQUIRE(r.fixture.store().import_households(header + "\r\n" + uuid(5) + ",5 Row,WD6 1WA,Elstree,0,\r\n", kCat).ok());
    held = std::get<Household>(*server_records(r.fixture.store()).at(key(Entity::household, uuid(5))).change.data);
    CHECK(held.vulnerability.contains(safer::Vulnerability::elderly));
    REQUIRE(r.fixture.store().import_households(header + ",vulnerability\r\n" + uuid(5) + ",5 Row,WD6 1WA,Elstree,0,,\r\n", kCat).ok());
    held = std::get<Household>(*server_records(r.fixture.store()).at(key(Entity::household, uuid(5))).change.data);
    CHECK(held.vulnerability.names().empty());
    const auto refused = r.fixture.store().import_households(header + ",vulnerability\r\n,6 Row,WD6 1WA,Elstree,0,,frail\r\n", kCat);
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.error().message.find("line 2: vulnerability must be") != std::string::npos);
    CHECK(refused.error().message.find("frail") == std::string::npos);
  }
}

TEST_CASE("an import warns of near duplicates by line number, never by address, and imports them all the same",
          "[register][csv]") {
  // Issue 15: the same postcode and house number as another row of the file or a household on
  // the register is probably the same home typed twice; the coordinator is told which lines.
  Register r;  // household 1: "17 Quillon Mews", WD6 1WA; 2-4: "1 Example Road", WD6 1WA
  const std::string csv =
      "id,address,postcode,ward,target,assigned_to\r\n"
      ",17 Quillon Mews,wd6 1wa,Elstree,0,\r\n"             // line 2: as household 1
      ",Flat 2 11 Tarn Row,WD6 2AB,Elstree,0,\r\n"          // line 3
      ",\"Flat 2, 11 Tarn Row\",WD6 2AB,Elstree,1,\r\n"     // line 4: as line 3
      ",Flat 3 11 Tarn Row,WD6 2AB,Elstree,0,\r\n"          // line 5: another flat
      ",Tarn Cottage,WD6 2AB,Elstree,0,\r\n"                // line 6: no number, never a duplicate
      ",Tarn Cottage,WD6 2AB,Elstree,0,\r\n" +              // line 7
      uuid(1) + ",17 Quillon Mews,WD6 1WA,Elstree,1,\r\n";  // line 8: household 1 itself
  std::vector<sync_server::CsvProblem> warnings;
  const auto imported = r.fixture.store().import_households(csv, kCat, &warnings);
  REQUIRE(imported.ok());
  CHECK(*imported == 7);
  REQUIRE(warnings.size() == 3);
  CHECK(warnings[0].line == 2);
  CHECK(warnings[0].message == "same postcode and house number as household " + uuid(1));
  CHECK(warnings[1].line == 4);
  CHECK(warnings[1].message == "same postcode and house number as line 3");
  CHECK(warnings[2].line == 8);  // line 2 of the file came first with household 1's key
  CHECK(warnings[2].message == "same postcode and house number as line 2");
  for (const auto& warning : warnings) CHECK(warning.message.find("Quillon") == std::string::npos);
  CHECK(safer::near_duplicate_key(household()) == "WD6 1WA|1");
}
