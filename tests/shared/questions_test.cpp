// The server's questions (protocol.md §5.8): a visit's answers are checked against them on the
// device and on the server alike, so each rule is tested at its edges here, with the field
// each error names (answers.<id>), the configuration rules of `sync-server questions`, and the
// JSON of answers and of welcome.questions.
#include <catch2/catch.hpp>

#include <string>

#include "only_error.h"
#include "safer/protocol_json.h"
#include "safer/question.h"
#include "safer/record_json.h"
#include "safer/validation.h"

using namespace safer;

namespace {

constexpr WriterRules kBasis{.share_basis = true};

const std::string kHouseholdId = "0192f5e4-7c1a-7d3e-9b2a-4c5d6e7f8a9b";

// The defaults, with an extra outcome, an extra partner and a withdrawn scale.
ReferenceLists configured() {
  ReferenceLists lists = ReferenceLists::defaults();
  lists.questions.push_back({"owl_signup", QuestionKind::yes_no, "OWL sign-up", false});
  lists.questions.push_back({"age_uk", QuestionKind::referral, "Age UK", false});
  lists.questions.push_back({"old_scale", QuestionKind::scale, "An old question", true});
  return lists;
}

Visit visit_with(const std::string& id, Answer answer, VisitStatus status = VisitStatus::completed) {
  Visit visit;
  visit.household_id = kHouseholdId;
  visit.visited_at = 1'795'685'400'000;
  visit.status = status;
  visit.answers.emplace(id, std::move(answer));
  return visit;
}

}  // namespace

TEST_CASE("a new server asks how safe and how satisfied the resident is, and for feedback", "[questions]") {
  const auto& questions = ReferenceLists::defaults().questions;
  REQUIRE(questions.size() == 3);
  CHECK(questions[0] == Question{"feels_safe", QuestionKind::scale, "How safe does the resident feel at home?", false});
  CHECK(questions[1] == Question{"satisfaction", QuestionKind::scale, "How satisfied was the resident with the visit?", false});
  CHECK(questions[2] == Question{"feedback", QuestionKind::text, "Resident's feedback", false});
  CHECK(check_questions(questions, {}).empty());
}

TEST_CASE("a scale takes an integer from 1 to 5", "[questions][validation]") {
  const auto lists = configured();
  for (const std::int64_t valid : {1, 3, 5}) CHECK(check_visit(visit_with("feels_safe", valid), lists).empty());
  for (const std::int64_t invalid : {0, 6, -1}) {
    const auto error = only_error(check_visit(visit_with("feels_safe", invalid), lists), "answers.feels_safe");
    CHECK(error.message == "answers.feels_safe must be an integer from 1 to 5");
  }
  only_error(check_visit(visit_with("satisfaction", std::string("5")), lists), "answers.satisfaction");
  only_error(check_visit(visit_with("satisfaction", true), lists), "answers.satisfaction");
  // Any status: feedback is not an outcome.
  CHECK(check_visit(visit_with("feels_safe", std::int64_t{2}, VisitStatus::declined), lists).empty());
}

TEST_CASE("a text answer is 1 to 500 code points of text", "[questions][validation]") {
  const auto lists = configured();
  const std::string e_acute = "\xC3\xA9";
  std::string longest;
  for (int i = 0; i < 500; ++i) longest += e_acute;
  CHECK(check_visit(visit_with("feedback", longest), lists).empty());
  CHECK(check_visit(visit_with("feedback", std::string("x")), lists).empty());
  const auto too_long = only_error(check_visit(visit_with("feedback", longest + "x"), lists), "answers.feedback");
  CHECK(too_long.message == "answers.feedback must be at most 500 characters (it has 501)");
  CHECK_THAT(too_long.message, !Catch::Contains(e_acute));  // never the text itself
  only_error(check_visit(visit_with("feedback", std::string("  ")), lists), "answers.feedback");
  only_error(check_visit(visit_with("feedback", std::string("\xC3")), lists), "answers.feedback");
  only_error(check_visit(visit_with("feedback", std::int64_t{3}), lists), "answers.feedback");
}

TEST_CASE("an extra outcome is true, and only with a completed visit", "[questions][validation]") {
  const auto lists = configured();
  CHECK(check_visit(visit_with("owl_signup", true), lists).empty());
  const auto no = only_error(check_visit(visit_with("owl_signup", false), lists), "answers.owl_signup");
  CHECK(no.message == "answers.owl_signup must be true, or left out");
  only_error(check_visit(visit_with("owl_signup", std::int64_t{1}), lists), "answers.owl_signup");
  const auto declined = only_error(check_visit(visit_with("owl_signup", true, VisitStatus::declined), lists),
                                   "answers.owl_signup");
  CHECK(declined.message == "answers.owl_signup must be left out when status is declined");
}

TEST_CASE("an extra partner is a referral: any status, and the share_basis rules apply", "[questions][validation]") {
  const auto lists = configured();
  Visit visit = visit_with("age_uk", true, VisitStatus::no_answer);
  CHECK(has_referral(visit, lists));
  CHECK(check_visit(visit, lists, WriterRules::protocol1()).empty());  // a protocol-1 writer's: not recorded
  only_error(check_visit(visit, lists, kBasis), "share_basis");
  visit.share_basis = ShareBasis::consent;
  CHECK(check_visit(visit, lists, kBasis).empty());
  // A scale answer is no referral: a basis with it alone is refused.
  Visit scale_only = visit_with("feels_safe", std::int64_t{4});
  scale_only.share_basis = ShareBasis::consent;
  CHECK_FALSE(has_referral(scale_only, lists));
  only_error(check_visit(scale_only, lists), "share_basis");
  only_error(check_visit(visit_with("age_uk", false), lists), "answers.age_uk");
}

TEST_CASE("an answer names one of the server's questions - a withdrawn one stays valid", "[questions][validation]") {
  const auto lists = configured();
  CHECK(check_visit(visit_with("old_scale", std::int64_t{5}), lists).empty());
  const auto unknown = only_error(check_visit(visit_with("bogus_caller", true), lists), "answers.bogus_caller");
  CHECK(unknown.message == "answers.bogus_caller does not answer any of the server's questions");
  // A key that is not an id is not echoed: it could be anything a client sent.
  const auto odd = check_visit(visit_with("Mrs Smith, 12 High St", true), lists);
  REQUIRE(odd.size() == 1);
  CHECK(odd[0].field == "answers");
  CHECK_THAT(odd[0].message, !Catch::Contains("Smith"));
  // The defaults know none of the configured extras.
  only_error(check_visit(visit_with("owl_signup", true), ReferenceLists::defaults()), "answers.owl_signup");
}

TEST_CASE("answers travel as a JSON object and are left out when there are none", "[questions][json]") {
  Visit visit = visit_with("feels_safe", std::int64_t{4});
  visit.answers.emplace("feedback", std::string("Very \"kind\" officer"));
  visit.answers.emplace("owl_signup", true);
  const std::string text = to_json(visit);
  CHECK_THAT(text, Catch::Contains(R"("answers":{"feedback":"Very \"kind\" officer","feels_safe":4,"owl_signup":true})"));
  Visit back;
  REQUIRE(from_json(text, back).empty());
  CHECK(back == visit);

  visit.answers.clear();
  CHECK_THAT(to_json(visit), !Catch::Contains("answers"));

  const std::string base = R"({"household_id":")" + kHouseholdId + R"(","visited_at":"2026-11-26T09:30:00Z","status":"completed",)";
  SECTION("3.0 is the integer 3") {
    REQUIRE(from_json(base + R"("answers":{"feels_safe":3.0}})", back).empty());
    CHECK(std::get<std::int64_t>(back.answers.at("feels_safe")) == 3);
  }
  SECTION("a fraction, null, an array or a non-object is refused by field") {
    auto errors = from_json(base + R"("answers":{"feels_safe":3.5}})", back);
    REQUIRE(errors.size() == 1);
    CHECK(errors[0].field == "answers.feels_safe");
    errors = from_json(base + R"("answers":{"feedback":null}})", back);
    REQUIRE(errors.size() == 1);
    CHECK(errors[0].field == "answers.feedback");
    errors = from_json(base + R"("answers":{"feedback":["x"]}})", back);
    REQUIRE(errors.size() == 1);
    CHECK(errors[0].field == "answers.feedback");
    errors = from_json(base + R"("answers":[1]})", back);
    REQUIRE(errors.size() == 1);
    CHECK(errors[0].field == "answers");
  }
  SECTION("a repeated id is refused") {
    const auto errors = from_json(base + R"("answers":{"feels_safe":3,"feels_safe":4}})", back);
    REQUIRE(errors.size() == 1);
    CHECK(errors[0].field == "answers");
  }
}

TEST_CASE("a configuration's ids are unique, well formed and not built-in names", "[questions][config]") {
  const auto& defaults = ReferenceLists::defaults().questions;
  auto questions = defaults;
  questions.push_back({"owl_signup", QuestionKind::yes_no, "OWL sign-up", false});
  CHECK(check_questions(questions, defaults).empty());

  const auto error_for = [&](Question extra) {
    auto list = defaults;
    list.push_back(std::move(extra));
    return check_questions(list, defaults);
  };
  CHECK(only_error(error_for({"Owl", QuestionKind::yes_no, "x", false}), "questions[3].id").message ==
        "questions[3].id must be 1 to 40 characters of a-z, 0-9 and '_'");
  CHECK(check_questions({{std::string(40, 'a'), QuestionKind::text, "x", false}}, {}).empty());
  only_error(check_questions({{std::string(41, 'a'), QuestionKind::text, "x", false}}, {}), "questions[0].id");
  only_error(error_for({"", QuestionKind::yes_no, "x", false}), "questions[3].id");
  CHECK_THAT(only_error(error_for({"fire_service", QuestionKind::referral, "x", false}), "questions[3].id").message,
             Catch::Contains("built-in"));
  only_error(error_for({"notes", QuestionKind::text, "x", false}), "questions[3].id");
  only_error(error_for({"follow_up_required", QuestionKind::yes_no, "x", false}), "questions[3].id");
  CHECK_THAT(only_error(error_for({"feedback", QuestionKind::text, "x", false}), "questions[3].id").message,
             Catch::Contains("more than once"));
  only_error(error_for({"blank", QuestionKind::text, " ", false}), "questions[3].label");
  only_error(error_for({"long", QuestionKind::text, std::string(201, 'x'), false}), "questions[3].label");
  CHECK(error_for({"long", QuestionKind::text, std::string(200, 'x'), false}).empty());
}

TEST_CASE("a question configured before is withdrawn, never removed, and keeps its kind", "[questions][config]") {
  const auto& defaults = ReferenceLists::defaults().questions;
  auto withdrawn = defaults;
  withdrawn[2].withdrawn = true;
  withdrawn[2].label = "Feedback (old)";
  CHECK(check_questions(withdrawn, defaults).empty());

  const auto dropped = only_error(check_questions({defaults[0], defaults[1]}, defaults), "questions");
  CHECK_THAT(dropped.message, Catch::Contains("\"feedback\"") && Catch::Contains("withdrawn"));

  auto changed = defaults;
  changed[0].kind = QuestionKind::text;
  CHECK_THAT(only_error(check_questions(changed, defaults), "questions[0].kind").message,
             Catch::Contains("feels_safe") && Catch::Contains("scale"));
}

TEST_CASE("a questions file decodes with errors naming the entry and field", "[questions][config]") {
  const auto good = questions_from_json(
      R"([{"id":"owl_signup","kind":"yes_no","label":"OWL sign-up"},{"id":"x","kind":"scale","label":"X","withdrawn":true}])");
  REQUIRE(good);
  REQUIRE(good->size() == 2);
  CHECK((*good)[0] == Question{"owl_signup", QuestionKind::yes_no, "OWL sign-up", false});
  CHECK((*good)[1].withdrawn);
  CHECK(questions_from_json(questions_to_json(*good)).value() == *good);
  CHECK(questions_to_json({}) == "[]");

  const auto failing = [](std::string_view text) {
    const auto result = questions_from_json(text);
    REQUIRE_FALSE(result);
    CHECK(result.error().code == "invalid");
    return result.error();
  };
  CHECK(failing("[").field == "questions");
  CHECK(failing(R"({"id":"x"})").field == "questions");
  CHECK(failing(R"([1])").field == "questions[0]");
  const auto kind = failing(R"([{"id":"a","kind":"scale","label":"A"},{"id":"b","kind":"stars","label":"B"}])");
  CHECK(kind.field == "questions[1].kind");
  CHECK(kind.message == "questions[1].kind must be one of scale, text, yes_no or referral");
  CHECK(failing(R"([{"kind":"scale","label":"A"}])").message == "questions[0].id is required");
  CHECK(failing(R"([{"id":"a","kind":"scale","label":"A","withdrawn":"no"}])").field == "questions[0].withdrawn");
}

TEST_CASE("welcome carries the questions - a client skips kinds it does not know", "[questions][protocol]") {
  Welcome welcome;
  welcome.device_id = "tablet-ann";
  welcome.user_id = "officer.ann";
  welcome.wards = {"Elstree"};
  welcome.stations = {"Radlett"};
  welcome.questions = configured().questions;
  const std::string text = to_json(welcome);
  CHECK_THAT(text, Catch::Contains(R"("questions":[{"id":"feels_safe","kind":"scale",)"));
  const auto decoded = decode_server_message(text);
  REQUIRE(decoded);
  CHECK(std::get<Welcome>(*decoded).questions == welcome.questions);

  // An older server's welcome has none; a later one's may have a kind this client lacks.
  std::string older = text.substr(0, text.find(R"(,"questions")")) + "}";
  REQUIRE(decode_server_message(older));
  CHECK(std::get<Welcome>(*decode_server_message(older)).questions.empty());
  std::string later = text;
  later.replace(later.find(R"("kind":"text")"), 13, R"("kind":"stars")");
  const auto skipped = decode_server_message(later);
  REQUIRE(skipped);
  CHECK(std::get<Welcome>(*skipped).questions.size() == welcome.questions.size() - 1);
}
