// Prints messages and records as the C++ code encodes them, one per line as
// "<schema file>\t<json>", for check_schemas.mjs to validate against schemas/.
#include <iostream>

#include "safer/protocol_json.h"
#include "safer/record_json.h"
#include "safer/reference_lists.h"
#include "safer/stats.h"

namespace {

using namespace safer;

void print(const char* schema, const std::string& json) { std::cout << schema << '\t' << json << '\n'; }

Household sample_household(bool server_owned) {
  Household household;
  household.address = "14 Example Close";
  household.postcode = "WD6 1WA";
  household.ward = "Elstree";
  household.vulnerability = {Vulnerability::elderly, Vulnerability::lives_alone};
  if (server_owned) {
    household.target = true;
    household.assigned_to = std::optional<std::string>("officer.ann");
  }
  return household;
}

Visit sample_visit(VisitStatus status) {
  Visit visit;
  visit.household_id = "0192f5e4-7c1a-7d3e-9b2a-4c5d6e7f8a9b";
  visit.visited_at = 1'764'149'400'123;
  visit.status = status;
  if (status == VisitStatus::completed) {
    visit.outcomes = {Outcome::fire_safety_check, Outcome::follow_up_required};
    visit.smoke_detectors_fitted = 2;
    visit.follow_up_due = "2026-12-18";
  }
  if (status == VisitStatus::rescheduled) visit.rescheduled_for = "2026-12-01T18:30";
  visit.referrals = {Referral::fire_service};
  if (status == VisitStatus::completed) visit.share_basis = ShareBasis::consent;  // and protocol 1's, without
  visit.notes = "Fictional \"quoted\" notes\nover two lines.";
  if (status != VisitStatus::declined) {
    visit.answers = {{"feels_safe", std::int64_t{4}}, {"feedback", std::string("Fictional \"kind\" feedback.")}};
  }
  return visit;
}

CommuteSession sample_session(bool ended) {
  CommuteSession session;
  session.station = "Elstree & Borehamwood";
  session.started_at = 1'764'140'000'000;
  if (ended) session.ended_at = 1'764'147'200'000;
  session.cards_distributed = 25;
  session.messages = {CommuteMessage::vehicle_security, CommuteMessage::garden_tools};
  return session;
}

Change change(Entity entity, Op op, const char* id, std::optional<RecordData> data) {
  return Change{entity, op, id, Hlc{1'764'149'400'000, 3}, std::move(data)};
}

}  // namespace

int main() {
  Household unassigned = sample_household(true);
  unassigned.assigned_to = std::optional<std::string>();
  for (const auto& household : {sample_household(false), sample_household(true), unassigned}) {
    print("household.schema.json", to_json(household));
  }
  for (auto status : {VisitStatus::completed, VisitStatus::no_answer, VisitStatus::declined}) {
    print("visit.schema.json", to_json(sample_visit(status)));
  }
  print("commute_session.schema.json", to_json(sample_session(false)));
  print("commute_session.schema.json", to_json(sample_session(true)));

  print("hello.schema.json", to_json(Hello{kProtocolVersion, "0192f5e4-7c1a-7d3e-9b2a-000000000001", "0.1.0", {}}));
  print("hello.schema.json",
        to_json(Hello{kProtocolVersion, "0192f5e4-7c1a-7d3e-9b2a-000000000001", "0.2.0", {"evict"}}));
  Push push;
  push.changes.push_back({1, change(Entity::household, Op::upsert, "0192f5e4-7c1a-7d3e-9b2a-4c5d6e7f8a9b",
                                    sample_household(false))});
  push.changes.push_back({2, change(Entity::visit, Op::upsert, "0192f5e4-7c1b-7000-8000-000000000001",
                                    sample_visit(VisitStatus::completed))});
  push.changes.push_back({3, change(Entity::commute_session, Op::upsert,
                                    "0192f5e4-7c1c-7000-8000-000000000002", sample_session(true))});
  push.changes.push_back({4, change(Entity::visit, Op::remove, "0192f5e4-7c1b-7000-8000-000000000001", std::nullopt)});
  print("push.schema.json", to_json(push));
  print("pull.schema.json", to_json(Pull{"", 500}));
  print("pull.schema.json", to_json(Pull{"c1.42", 1}));

  print("welcome.schema.json",
        to_json(Welcome{kProtocolVersion, "0192f5e4-7c1a-7d3e-9b2a-000000000001", "officer.ann", Role::officer, 17,
                        1'764'149'400'123, ReferenceLists::defaults().wards, ReferenceLists::defaults().stations,
                        {"evict"}}));
  print("welcome.schema.json",
        to_json(Welcome{kProtocolVersion, "0192f5e4-7c1a-7d3e-9b2a-000000000001", "officer.ann", Role::officer, 17,
                        1'764'149'400'123, ReferenceLists::defaults().wards, ReferenceLists::defaults().stations,
                        {"evict", "share_basis", "work_dates", "questions", "pull_progress"}, ReferenceLists::defaults().questions}));
  print("ack.schema.json", to_json(Ack{20, {}}));
  print("ack.schema.json",
        to_json(Ack{20,
                    {{19, "invalid", "smoke_detectors_fitted must be 0 when status is no_answer", "smoke_detectors_fitted"},
                     {20, "forbidden", "the household is out of this user's scope", ""}}}));
  ChangesPage page;
  page.changes.push_back({change(Entity::visit, Op::upsert, "0192f5e4-7c1b-7000-8000-000000000001",
                                 sample_visit(VisitStatus::no_answer)),
                          "0192f5e4-7c1a-7d3e-9b2a-000000000001", false});
  page.changes.push_back({change(Entity::household, Op::remove, "0192f5e4-7c1a-7d3e-9b2a-4c5d6e7f8a9b", std::nullopt),
                          "0192f5e4-7c1a-7d3e-9b2a-000000000002", false});
  page.changes.push_back({change(Entity::household, Op::remove, "0192f5e4-7c1a-7d3e-9b2a-4c5d6e7f8a9b", std::nullopt),
                          "", true});  // an eviction (protocol.md §4.6)
  page.cursor = "c1.2";
  page.has_more = true;
  print("changes.schema.json", to_json(page));
  page.remaining = 59'500;  // to a client that announced pull_progress (protocol.md §4.2)
  print("changes.schema.json", to_json(page));
  print("changes.schema.json", to_json(ChangesPage{{}, "c1.2", false}));
  print("changes.schema.json", to_json(ChangesPage{{}, "c1.2", false, 0}));
  print("error.schema.json", to_json(ErrorMessage{"seq_gap", "expected seq 18", false, 18}));
  print("error.schema.json", to_json(ErrorMessage{"device_mismatch", "device_id is not this token's device", true, std::nullopt}));
  Stats stats;
  stats.from = CivilDate{2026, 4, 1};
  stats.to = CivilDate{2027, 3, 31};
  stats.visits_total = 3;
  stats.visits_by_status = {2, 1, 0, 0};
  stats.visits_by_ward = {{"Bushey North", 3}, {"Elstree", 0}};
  stats.outcomes = {2, 1, 0, 0, 1, 1};
  stats.smoke_detectors_fitted = 4;
  stats.referred_visits = 2;
  stats.referrals_by_basis = {1, 0, 0, 1};
  add_known_partners(stats);
  stats.referrals_by_partner["fire_service"] = 2;
  stats.referrals_by_partner["health"] = 1;
  stats.referrals_sent_by_partner["fire_service"] = 1;
  stats.households_target = 3;
  stats.households_visited = 2;
  stats.households_reached = 5;
  stats.by_vulnerability[0] = {2, 3};
  stats.by_vulnerability.back() = {3, 3};
  stats.commute_sessions = 1;
  stats.cards_distributed = 25;
  stats.cards_by_station = {{"Potters Bar", 25}, {"Radlett", 0}};
  stats.messages[0] = {1, 25};
  stats.messages_by_station["Potters Bar"][0] = {1, 25};
  stats.messages_by_station["Radlett"] = {};
  auto questions = ReferenceLists::defaults().questions;
  questions.push_back({"owl_signup", QuestionKind::yes_no, "OWL sign-up", false});
  questions.push_back({"age_uk", QuestionKind::referral, "Age UK", false});
  add_known_questions(stats, questions);
  count_answer(stats, "feels_safe", "Bushey North", 4, 2);
  count_answer(stats, "feels_safe", "Bushey North", 5, 1);
  count_answer(stats, "feedback", "Bushey North", 0, 1);
  count_answer(stats, "owl_signup", "Bushey North", 0, 1);
  print("stats.schema.json", to_json(stats));
  Stats nothing;
  add_known_partners(nothing);  // as a server lists every partner, with 0 where there is none
  add_known_questions(nothing, ReferenceLists::defaults().questions);
  print("stats.schema.json", to_json(nothing));
  return 0;
}
