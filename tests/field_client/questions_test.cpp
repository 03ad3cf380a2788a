// The server's questions on the tablet (protocol.md §5.8): kept from welcome as the wards are,
// checked offline by the same rules as the server's, and answered from the command line with
// --answer ID=VALUE.
#include <catch2/catch.hpp>

#include <cereal/archives/json.hpp>  // RapidJSON, configured as cereal configures it

#include "field_client/store.h"
#include "json_checks.h"
#include "process.h"
#include "safer/reference_lists.h"
#include "temp_dir.h"

namespace {

using field_client::Store;

std::vector<safer::Question> configured() {
  auto questions = safer::ReferenceLists::defaults().questions;
  questions.push_back({"owl_signup", safer::QuestionKind::yes_no, "OWL sign-up", false});
  questions.push_back({"age_uk", safer::QuestionKind::referral, "Age UK", false});
  return questions;
}

void welcome_with(Store& store, std::vector<safer::Question> questions) {
  safer::Welcome welcome;
  welcome.device_id = store.device()->device_id;
  welcome.user_id = "officer.ann";
  welcome.wards = safer::ReferenceLists::defaults().wards;
  welcome.stations = safer::ReferenceLists::defaults().stations;
  welcome.questions = std::move(questions);
  REQUIRE(store.apply_welcome(welcome, 0).ok());
}

safer::Household household() {
  safer::Household record;
  record.address = "3 Fictional Row";
  record.postcode = "WD6 1WA";
  record.ward = "Elstree";
  return record;
}

safer::Visit visit(const std::string& household_id, std::map<std::string, safer::Answer> answers) {
  safer::Visit record;
  record.household_id = household_id;
  record.visited_at = 1'764'149'400'000;
  record.answers = std::move(answers);
  return record;
}

struct CliResult {
  int exit_code;
  std::string out, err;
};

CliResult cli(const std::string& store, std::vector<std::string> args) {
  args.insert(args.begin(), {FIELD_CLIENT_BINARY, "--store", store});
  auto result = test_support::run_process(args);
  REQUIRE_FALSE(result.timed_out);
  return {result.exit_code, result.out, result.err};
}

}  // namespace

TEST_CASE("the questions of welcome are kept, and answers are checked against them offline", "[store][questions]") {
  test_support::TempDir dir;
  auto store = Store::open(dir.file("tablet.db")).value();
  CHECK(store->reference_lists()->questions == safer::ReferenceLists::defaults().questions);  // before any sync
  const auto household_id = store->create(household()).value();

  welcome_with(*store, configured());
  CHECK(store->reference_lists()->questions == configured());

  const auto saved = store->create(visit(household_id, {{"owl_signup", true}, {"feels_safe", std::int64_t{5}}}));
  REQUIRE(saved.ok());
  const auto queued = store->outbox().value();
  REQUIRE(queued.back().change.data.has_value());
  CHECK(std::get<safer::Visit>(*queued.back().change.data).answers.size() == 2);

  const auto out_of_range = store->create(visit(household_id, {{"satisfaction", std::int64_t{0}}}));
  REQUIRE_FALSE(out_of_range.ok());
  CHECK(out_of_range.error().field == "answers.satisfaction");

  // An extra partner is a referral: this client gives its basis.
  const auto partner = store->create(visit(household_id, {{"age_uk", true}}));
  REQUIRE_FALSE(partner.ok());
  CHECK(partner.error().field == "share_basis");

  // A server that predates questions sends none: nothing may be answered then.
  welcome_with(*store, {});
  CHECK(store->reference_lists()->questions.empty());
  const auto unknown = store->create(visit(household_id, {{"feels_safe", std::int64_t{3}}}));
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.error().field == "answers.feels_safe");
}

TEST_CASE("visit record --answer answers the server's questions - questions lists them", "[cli][questions]") {
  test_support::TempDir dir;
  const std::string store = dir.file("tablet.db");
  {
    auto opened = Store::open(store).value();
    welcome_with(*opened, configured());
  }
  const auto added = cli(store, {"--json", "household", "add", "--address", "3 Fictional Row", "--postcode", "WD6 1WA",
                                 "--ward", "Elstree"});
  REQUIRE(added.exit_code == 0);
  const std::string household_id = test_support::parse_json(added.out)["id"].GetString();

  const auto listed = cli(store, {"questions"});
  CHECK(listed.exit_code == 0);
  CHECK(listed.out.find("owl_signup  yes_no  OWL sign-up") != std::string::npos);
  CHECK(test_support::parse_json(cli(store, {"--json", "questions"}).out).Size() == 5);

  const auto recorded = cli(store, {"--json", "visit", "record", "--household", household_id, "--status", "completed",
                                    "--answer", "feels_safe=4", "--answer", "feedback=Very helpful",
                                    "--answer", "owl_signup=true"});
  INFO(recorded.err);
  REQUIRE(recorded.exit_code == 0);
  const auto pending = test_support::parse_json(cli(store, {"--json", "pending"}).out);
  const auto& answers = pending[pending.Size() - 1]["data"]["answers"];
  CHECK(answers["feels_safe"].GetInt() == 4);
  CHECK(std::string(answers["feedback"].GetString()) == "Very helpful");
  CHECK(answers["owl_signup"].GetBool());

  const auto refused = cli(store, {"visit", "record", "--household", household_id, "--status", "declined",
                                   "--answer", "owl_signup=true"});
  CHECK(refused.exit_code == 2);
  CHECK(refused.err.find("answers.owl_signup must be left out when status is declined") != std::string::npos);
  CHECK(refused.err.find("[--answer]") != std::string::npos);
  const auto malformed = cli(store, {"visit", "record", "--household", household_id, "--status", "completed",
                                     "--answer", "feels_safe"});
  CHECK(malformed.exit_code == 2);
  CHECK(malformed.err.find("--answer ID=VALUE") != std::string::npos);
}
