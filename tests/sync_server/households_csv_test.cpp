// Households CSV (protocol.md §8, §9): RFC 4180 cells, CRLF and BOM, bad rows reported by line number, and all rows imported or none.
#include <catch2/catch.hpp>

#include <set>

#include "store_fixture.h"
#include "sync_server/households_csv.h"

using namespace store_test;
using sync_server::parse_households_csv;

namespace {

const std::string kHeader = "id,address,postcode,ward,target,assigned_to\n";

sync_server::ParsedHouseholds parse(const std::string& text) {
  return parse_households_csv(text, safer::ReferenceLists::defaults());
}

// The single problem of `text`, which must have exactly one.
sync_server::CsvProblem only_problem(const std::string& text) {
  const auto parsed = parse(text);
  INFO(text);
  REQUIRE(parsed.problems.size() == 1);
  return parsed.problems.front();
}

}  // namespace

TEST_CASE("households CSV cells follow RFC 4180", "[csv]") {
  const std::string text = "\xEF\xBB\xBF" "id,address,postcode,ward,target,assigned_to\r\n" +
                           uuid(1) + ",\"1 Example Road, Flat 2\",wd6 1wa,Elstree,1,officer.ann\r\n" +
                           ",\"The \"\"Old\"\" Mill\nExample Lane\",EN61AA,\"Bentley Heath & The Royds\",false,\r\n" +
                           ",3 Example Road,WD7 9HZ,Shenley,true,pcso.pat\r\n" +
                           ",4 Example Road,WD7 9HZ,Shenley,0,\r\n";
  const auto parsed = parse(text);
  INFO((parsed.problems.empty() ? "" : parsed.problems.front().message));
  REQUIRE(parsed.problems.empty());
  REQUIRE(parsed.rows.size() == 4);

  const auto& first = parsed.rows[0];
  CHECK(first.line == 2);
  CHECK(first.id == std::optional<std::string>(uuid(1)));
  CHECK(first.household.address == "1 Example Road, Flat 2");
  CHECK(first.household.postcode == "WD6 1WA");
  CHECK(first.household.ward == "Elstree");
  CHECK(first.household.target == true);
  CHECK(first.household.assignee() == std::optional<std::string>("officer.ann"));

  const auto& second = parsed.rows[1];
  CHECK(second.line == 3);
  CHECK_FALSE(second.id.has_value());
  CHECK(second.household.address == "The \"Old\" Mill\nExample Lane");
  CHECK(second.household.postcode == "EN6 1AA");
  CHECK(second.household.ward == "Bentley Heath & The Royds");
  CHECK(second.household.target == false);
  REQUIRE(second.household.assigned_to.has_value());  // set, to null
  CHECK_FALSE(second.household.assigned_to->has_value());

  CHECK(parsed.rows[2].line == 5);  // the quoted line break made row 3 start on line 5
  CHECK(parsed.rows[2].household.target == true);
  CHECK(parsed.rows[2].household.assignee() == std::optional<std::string>("pcso.pat"));
  CHECK(parsed.rows[3].line == 6);
  CHECK(parsed.rows[3].household.target == false);
}

TEST_CASE("a file with only the header and no final line break is valid", "[csv]") {
  CHECK(parse("id,address,postcode,ward,target,assigned_to").problems.empty());
  const auto parsed = parse(kHeader + ",1 Example Road,WD6 1WA,Elstree,0,");
  CHECK(parsed.problems.empty());
  CHECK(parsed.rows.size() == 1);
}

TEST_CASE("a bad row is reported by the line it starts on", "[csv]") {
  const std::string before = kHeader + ",\"1 Example Road\nFlat 2\",WD6 1WA,Elstree,0,\n";  // lines 2 and 3
  SECTION("a ward not on the list") {
    const auto problem = only_problem(before + ",2 Example Road,WD6 1WA,Atlantis,0,\n");
    CHECK(problem.line == 4);
    CHECK_THAT(problem.message, Catch::Contains("ward"));
  }
  SECTION("a target that is not 1 0 true or false") {
    const auto problem = only_problem(before + ",2 Example Road,WD6 1WA,Elstree,yes,\n");
    CHECK(problem.line == 4);
    CHECK_THAT(problem.message, Catch::Contains("target"));
  }
  SECTION("a bad postcode") {
    const auto problem = only_problem(before + ",2 Example Road,NOWHERE,Elstree,0,\n");
    CHECK(problem.line == 4);
    CHECK_THAT(problem.message, Catch::Contains("postcode"));
  }
  SECTION("an id that is not a lowercase UUID") {
    const auto problem = only_problem(before + ",2 Example Road,WD6 1WA,Elstree,0,\n" + "00000000-0000-4000-8000-00000000000A,3 Example Road,WD6 1WA,Elstree,0,\n");
    CHECK(problem.line == 5);
    CHECK_THAT(problem.message, Catch::Contains("id"));
  }
  SECTION("an assignee that is not a user id") {
    const auto problem = only_problem(before + ",2 Example Road,WD6 1WA,Elstree,0,officer ann\n");
    CHECK(problem.line == 4);
    CHECK_THAT(problem.message, Catch::Contains("assigned_to"));
  }
  SECTION("too few cells") {
    const auto problem = only_problem(before + ",2 Example Road,WD6 1WA,Elstree,0\n");
    CHECK(problem.line == 4);
    CHECK_THAT(problem.message, Catch::Contains("cells"));
  }
  SECTION("too many cells") {
    const auto problem = only_problem(before + ",2 Example Road,WD6 1WA,Elstree,0,,extra\n");
    CHECK(problem.line == 4);
  }
  SECTION("an id given twice") {
    const auto problem = only_problem(kHeader + uuid(1) + ",1 Example Road,WD6 1WA,Elstree,0,\n\n" + uuid(1) +
                                      ",1 Example Road,WD6 1WA,Elstree,1,\n");
    CHECK(problem.line == 4);  // the blank line 3 still counts
  }
  SECTION("text that is not UTF-8") {
    const auto problem = only_problem(before + ",2 Example Road \xC3\x28,WD6 1WA,Elstree,0,\n");
    CHECK(problem.line == 4);
    CHECK_THAT(problem.message, Catch::Contains("UTF-8"));
  }
  SECTION("a quote that is never closed") {
    const auto problem = only_problem(before + ",\"2 Example Road,WD6 1WA,Elstree,0,\n");
    CHECK(problem.line == 4);
  }
  SECTION("text after a closing quote") {
    const auto problem = only_problem(before + ",\"2 Example\" Road,WD6 1WA,Elstree,0,\n");
    CHECK(problem.line == 4);
  }
}

TEST_CASE("every bad row is reported, each with its own line", "[csv]") {
  const auto parsed = parse(kHeader + ",1 Example Road,WD6 1WA,Atlantis,0,\n" + ",2 Example Road,WD6 1WA,Elstree,0,\n" +
                            ",,WD6 1WA,Elstree,2,\n");
  REQUIRE(parsed.problems.size() == 3);
  CHECK(parsed.problems[0].line == 2);
  CHECK(parsed.problems[1].line == 4);
  CHECK(parsed.problems[2].line == 4);
}

TEST_CASE("a missing or wrong header is reported on line 1", "[csv]") {
  std::string text;
  SECTION("empty file") { text = ""; }
  SECTION("columns in another order") { text = "id,postcode,address,ward,target,assigned_to\n"; }
  SECTION("a column missing") { text = "id,address,postcode,ward,target\n"; }
  SECTION("no header at all") { text = ",1 Example Road,WD6 1WA,Elstree,0,\n"; }
  SECTION("header in capitals") { text = "ID,ADDRESS,POSTCODE,WARD,TARGET,ASSIGNED_TO\n"; }
  const auto problem = only_problem(text);
  CHECK(problem.line == 1);
  CHECK_THAT(problem.message, Catch::Contains("header"));
}

TEST_CASE("import_households imports every row or none", "[csv][import]") {
  StoreFixture fixture;
  const DeviceIdentity coordinator{"coord-tablet", "coord.cat", Role::coordinator};
  const std::string bad = kHeader + uuid(1) + ",1 Example Road,WD6 1WA,Elstree,1,officer.ann\n" +
                          ",\"2 Example Road\nFlat 3\",WD6 1WA,Elstree,1,\n" + ",4 Example Road,WD6 1WA,Elstree,maybe,\n";
  const auto failed = fixture.store().import_households(bad);
  REQUIRE_FALSE(failed.ok());
  CHECK(failed.error().code == "invalid");
  CHECK_THAT(failed.error().message, Catch::Contains("line 5"));
  CHECK(pull_all(fixture.store(), coordinator).first.empty());
  CHECK(fixture.store().stats(std::nullopt, std::nullopt).households_target == 0);

  const auto wrong_header = fixture.store().import_households("id,address\n");
  REQUIRE_FALSE(wrong_header.ok());
  CHECK_THAT(wrong_header.error().message, Catch::Contains("line 1"));
  CHECK(pull_all(fixture.store(), coordinator).first.empty());
}

TEST_CASE("imported households reach coordinators and their assignees and count as targets", "[csv][import]") {
  StoreFixture fixture;
  const std::string text = kHeader + uuid(1) + ",1 Example Road,WD6 1WA,Elstree,1,officer.ann\n" +
                           ",2 Example Road,wd6 1wa,Shenley,true,\n" + ",3 Example Road,WD6 1WA,Shenley,0,officer.bob\n";
  const auto imported = fixture.store().import_households(text);
  REQUIRE(imported.ok());
  CHECK(*imported == 3);

  const auto everything = pull_all(fixture.store(), {"coord-tablet", "coord.cat", Role::coordinator}).first;
  REQUIRE(everything.size() == 3);
  std::set<std::string> ids;
  for (const auto& change : everything) {
    CHECK(change.change.entity == Entity::household);
    CHECK(change.change.op == Op::upsert);
    CHECK(change.change.hlc.millis >= kNow);  // stamped by the server's clock
    CHECK(change.change.hlc.millis <= kNow + kHour);
    CHECK_FALSE(change.device_id.empty());
    ids.insert(change.change.id);
  }
  CHECK(ids.size() == 3);
  CHECK(ids.count(uuid(1)) == 1);
  CHECK(fixture.store().stats(std::nullopt, std::nullopt).households_target == 2);

  const auto ann = pull_all(fixture.store(), {"ann-tablet", "officer.ann", Role::officer}).first;
  REQUIRE(ann.size() == 1);
  CHECK(ann[0].change.id == uuid(1));
  const auto& household_ann = std::get<Household>(*ann[0].change.data);
  CHECK(household_ann.target == true);
  CHECK(household_ann.assignee() == std::optional<std::string>("officer.ann"));
  CHECK(pull_all(fixture.store(), {"bob-tablet", "officer.bob", Role::officer}).first.size() == 1);

  // Ann may record visits to her imported household.
  auto tablet = fixture.enroll("ann-tablet", "officer.ann", Role::officer);
  CHECK(fixture.push(tablet, upsert(uuid(11), visit(uuid(1)), hlc(1))).rejected.empty());
  CHECK(fixture.store().stats(std::nullopt, std::nullopt).households_visited == 1);
}

TEST_CASE("re-importing an id updates the household over earlier versions", "[csv][import]") {
  StoreFixture fixture;
  auto coordinator = fixture.enroll("coord-tablet", "coord.cat", Role::coordinator);
  Household known = target_household("Elstree", false, std::nullopt);
  known.vulnerability = {safer::Vulnerability::elderly};
  // A version stamped 50 minutes ahead of the server's clock: allowed, and later than now.
  REQUIRE(fixture.push(coordinator, {upsert(uuid(1), known, Hlc{kNow + 50 * 60'000, 7}),
                                     upsert(uuid(11), visit(uuid(1)), hlc(1))})
              .rejected.empty());
  REQUIRE(fixture.store().stats(std::nullopt, std::nullopt).visits_by_ward.at("Elstree") == 1);

  const auto imported =
      fixture.store().import_households(kHeader + uuid(1) + ",1 Example Road,WD6 1WA,Shenley,1,officer.ann\n");
  REQUIRE(imported.ok());
  const auto records = server_records(fixture.store());
  const auto& stored = records.at(key(Entity::household, uuid(1)));
  CHECK(stored.change.hlc > (Hlc{kNow + 50 * 60'000, 7}));
  const auto& household_now = std::get<Household>(*stored.change.data);
  CHECK(household_now.ward == "Shenley");
  CHECK(household_now.target == true);
  CHECK(household_now.assignee() == std::optional<std::string>("officer.ann"));
  CHECK(household_now.vulnerability == known.vulnerability);  // the CSV has no such column

  const auto stats = fixture.store().stats(std::nullopt, std::nullopt);
  CHECK(stats.households_target == 1);
  CHECK(stats.households_visited == 1);
  CHECK(stats.visits_by_ward.at("Elstree") == 0);
  CHECK(stats.visits_by_ward.at("Shenley") == 1);
  CHECK(stats == fixture.store().recompute_stats(std::nullopt, std::nullopt));
  // Ann now receives the household and its earlier visit.
  CHECK(pull_all(fixture.store(), {"ann-tablet", "officer.ann", Role::officer}).first.size() == 2);
}
