// The visit form's questions on the server (protocol.md §5.8, §10): configured whole and
// audited, checked on every push, and kept when a protocol-1 client edits a visit it cannot
// know the answers of.
#include <catch2/catch.hpp>

#include "audit_entries.h"
#include "safer/record_json.h"
#include "store_fixture.h"

using namespace store_test;

namespace {

using safer::Question;
using safer::QuestionKind;

std::vector<Question> with_extras() {
  auto questions = safer::ReferenceLists::defaults().questions;
  questions.push_back({"owl_signup", QuestionKind::yes_no, "OWL sign-up", false});
  questions.push_back({"age_uk", QuestionKind::referral, "Age UK", false});
  return questions;
}

Visit answered(const std::string& household_id) {
  Visit record = visit(household_id);
  record.answers = {{"feels_safe", std::int64_t{4}}, {"feedback", std::string("Reassuring visit")}};
  return record;
}

// A tablet that announced "questions" (and "share_basis") beside a protocol-1 one.
struct Team : TwoTablets {
  Team() : TwoTablets(safer::WriterRules{.share_basis = true, .questions = true}) {}
};

}  // namespace

TEST_CASE("the questions are replaced whole, audited, and kept across a restart", "[questions][config]") {
  StoreFixture fixture;
  auto& store = fixture.store();
  CHECK(store.options().lists.questions == safer::ReferenceLists::defaults().questions);

  REQUIRE(store.set_questions(with_extras()));
  CHECK(store.options().lists.questions == with_extras());
  const auto entries = entries_of(store, sync_server::kAuditQuestionsChange);
  REQUIRE(entries.size() == 1);
  CHECK(entries[0].entry.detail == "questions=5 withdrawn=0");

  fixture.reopen();
  CHECK(fixture.store().options().lists.questions == with_extras());
}

TEST_CASE("a bad configuration is refused naming the entry and field, and nothing changes", "[questions][config]") {
  StoreFixture fixture;
  auto& store = fixture.store();
  REQUIRE(store.set_questions(with_extras()));

  SECTION("an id configured before cannot go") {
    auto without = with_extras();
    without.pop_back();
    const auto refused = store.set_questions(without);
    REQUIRE_FALSE(refused);
    CHECK(refused.error().code == "invalid");
    CHECK_THAT(refused.error().message, Catch::Contains("\"age_uk\"") && Catch::Contains("withdrawn"));
  }
  SECTION("a clash with a built-in name") {
    auto clash = with_extras();
    clash.push_back({"health", QuestionKind::referral, "Health", false});
    const auto refused = store.set_questions(clash);
    REQUIRE_FALSE(refused);
    CHECK(refused.error().field == "questions[5].id");
  }
  CHECK(store.options().lists.questions == with_extras());
  CHECK(entries_of(store, sync_server::kAuditQuestionsChange).size() == 1);
  fixture.reopen();
  CHECK(fixture.store().options().lists.questions == with_extras());
}

TEST_CASE("a withdrawn question's answers stay valid", "[questions][push]") {
  Team team;
  auto& store = team.fixture.store();
  REQUIRE(store.set_questions(with_extras()));
  REQUIRE(team.write(team.current, uuid(11), answered(uuid(1))).rejected.empty());
  auto withdrawn = with_extras();
  withdrawn[0].withdrawn = true;  // feels_safe
  REQUIRE(store.set_questions(withdrawn));
  Visit edited = answered(uuid(1));
  edited.notes = "edited after the question was withdrawn";
  CHECK(team.write(team.current, uuid(11), edited).rejected.empty());
  CHECK(stored_visit(store, uuid(11)).answers == edited.answers);
}

TEST_CASE("answers are checked against the server's questions", "[questions][push]") {
  Team team;
  Visit unknown = visit(uuid(1));
  unknown.answers = {{"owl_signup", true}};  // not configured on this server
  auto ack = team.write(team.current, uuid(11), unknown);
  REQUIRE(ack.rejected.size() == 1);
  CHECK(ack.rejected[0].code == "invalid");
  CHECK(ack.rejected[0].field == "answers.owl_signup");
  CHECK_THAT(ack.rejected[0].message, Catch::Contains("owl_signup"));

  Visit out_of_range = visit(uuid(1));
  out_of_range.answers = {{"satisfaction", std::int64_t{6}}};
  ack = team.write(team.older, uuid(12), out_of_range);
  REQUIRE(ack.rejected.size() == 1);
  CHECK(ack.rejected[0].field == "answers.satisfaction");
  CHECK(server_records(team.fixture.store()).count("visit/" + uuid(12)) == 0);

  // An extra partner is a referral: the client that announced share_basis must give one.
  REQUIRE(team.fixture.store().set_questions(with_extras()));
  Visit partner = visit(uuid(1), VisitStatus::declined);
  partner.answers = {{"age_uk", true}};
  ack = team.write(team.current, uuid(13), partner);
  REQUIRE(ack.rejected.size() == 1);
  CHECK(ack.rejected[0].field == "share_basis");
  partner.share_basis = safer::ShareBasis::consent;
  CHECK(team.write(team.current, uuid(13), partner).rejected.empty());
}

TEST_CASE("a protocol-1 client's edit keeps the stored answers", "[questions][push][compat]") {
  Team team;
  auto& store = team.fixture.store();
  REQUIRE(team.write(team.current, uuid(11), answered(uuid(1))).rejected.empty());

  Visit edited = visit(uuid(1));  // the old app knows nothing of answers
  edited.notes = "Called back later.";
  SECTION("pushed as the store's tools do") {
    REQUIRE(team.write(team.older, uuid(11), edited).rejected.empty());
  }
  SECTION("pushed as a connection does, with its JSON encoded ahead") {
    safer::ReceivedPush batch;
    batch.changes.push_back({team.older.next_seq++, upsert(uuid(11), edited, hlc(0, ++team.counter)), {}});
    store.begin_group();
    const auto outcome = store.apply_push(team.older.identity, batch, ServerStore::prepare_push(batch));
    store.commit_group();
    REQUIRE(outcome.ack.has_value());
    REQUIRE(outcome.ack->rejected.empty());
  }
  const auto held = stored_visit(store, uuid(11));
  CHECK(held.notes == "Called back later.");
  CHECK(held.answers == answered(uuid(1)).answers);
  // What every device pulls is what is stored, answers included.
  const auto [pulled, cursor] = pull_all(store, team.older.identity);
  bool found = false;
  for (const auto& change : pulled) {
    if (change.change.id != uuid(11)) continue;
    found = true;
    CHECK(std::get<Visit>(*change.change.data).answers == held.answers);
  }
  CHECK(found);
}

TEST_CASE("a client that announced questions clears answers by leaving them out", "[questions][push][compat]") {
  Team team;
  auto& store = team.fixture.store();
  REQUIRE(team.write(team.current, uuid(11), answered(uuid(1))).rejected.empty());
  Visit fewer = visit(uuid(1));
  fewer.answers = {{"feels_safe", std::int64_t{2}}};
  REQUIRE(team.write(team.current, uuid(11), fewer).rejected.empty());
  CHECK(stored_visit(store, uuid(11)).answers == fewer.answers);
  REQUIRE(team.write(team.current, uuid(11), visit(uuid(1))).rejected.empty());
  CHECK(stored_visit(store, uuid(11)).answers.empty());
  // And a protocol-1 client may pass answers through whole: they are taken as sent.
  REQUIRE(team.write(team.older, uuid(11), fewer).rejected.empty());
  CHECK(stored_visit(store, uuid(11)).answers == fewer.answers);
}
