// Referrals per partner (protocol.md §7) and "referrals to pass on" (docs/api.md): counted per
// partner, listed with what the partner needs, marked as sent, and kept exact through edits,
// deletes, ward changes, erasure and the migration that fills the table.
#include <catch2/catch.hpp>

#include <algorithm>

#include "safer/pg.h"
#include "safer/sqlite.h"
#include "store_fixture.h"
#include "sync_server/audit.h"
#include "sync_server/dashboard.h"
#include "sync_server/subject_access.h"
#include "test_database.h"

using namespace store_test;

namespace {

using safer::Referral;
using safer::ShareBasis;
using sync_server::Dashboard;

Visit referred(const std::string& household_id, std::initializer_list<Referral> partners, std::optional<ShareBasis> basis,
               UnixMillis visited_at = at("2026-11-25T10:00:00Z")) {
  Visit record = visit(household_id, VisitStatus::completed, visited_at);
  for (auto partner : partners) record.referrals.insert(partner);
  record.share_basis = basis;
  record.notes = "Resident mentioned a private matter";
  return record;
}

struct Office {
  StoreFixture fixture;
  Device coordinator = fixture.enroll("coord-tablet", "coord.cat", Role::coordinator);
  std::uint32_t counter = 0;

  Office() {
    Household home = household("Elstree");
    home.vulnerability = {safer::Vulnerability::elderly, safer::Vulnerability::lives_alone};
    write(uuid(1), home);
    write(uuid(2), household("Shenley"));
  }
  void write(const std::string& id, safer::RecordData data) {
    REQUIRE(fixture.push(coordinator, upsert(id, std::move(data), hlc(0, ++counter))).rejected.empty());
  }
  void remove_record(Entity entity, const std::string& id) {
    REQUIRE(fixture.push(coordinator, remove(entity, id, hlc(0, ++counter))).rejected.empty());
  }
  safer::Stats stats() { return checked_stats(fixture.store()); }
  std::int64_t partner(const char* name) { return stats().referrals_by_partner.at(name); }
  std::int64_t sent(const char* name) { return stats().referrals_sent_by_partner.at(name); }
  std::int64_t mark(const char* partner, std::optional<std::vector<std::string>> ids, bool include_not_recorded = false) {
    Dashboard::ReferralFilter filter;
    filter.partner = partner;
    filter.include_not_recorded = include_not_recorded;
    auto marked = Dashboard(fixture.store()).mark_referrals_sent(filter, ids, sync_server::Actor{"coord.cat", "dashboard", "127.0.0.1"});
    REQUIRE(marked.ok());
    return *marked;
  }
  std::string list(const char* partner, Dashboard::ReferralState state = Dashboard::ReferralState::all) {
    Dashboard::ReferralFilter filter;
    filter.partner = partner;
    filter.state = state;
    return Dashboard(fixture.store()).referrals_json(filter);
  }
};

}  // namespace

TEST_CASE("referrals are counted per partner, every partner shown, exact under edits and deletes", "[referrals][stats]") {
  Office office;
  auto none = office.stats();
  CHECK(none.referrals_by_partner == std::map<std::string, std::int64_t>{
                                         {"adult_social_care", 0}, {"fire_service", 0}, {"health", 0}, {"other", 0}, {"victim_support", 0}});
  auto json = safer::to_json(none);
  json.erase(std::remove(json.begin(), json.end(), ' '), json.end());
  CHECK_THAT(json, Catch::Contains(R"("by_partner":{"adult_social_care":0,"fire_service":0,"health":0,"other":0,"victim_support":0},"sent_by_partner":{)"));

  office.write(uuid(11), referred(uuid(1), {Referral::fire_service, Referral::health}, ShareBasis::consent));
  office.write(uuid(12), referred(uuid(2), {Referral::fire_service}, std::nullopt));
  CHECK(office.partner("fire_service") == 2);
  CHECK(office.partner("health") == 1);
  CHECK(office.partner("victim_support") == 0);

  // By the visit's local day, like every other figure.
  const auto day = office.fixture.store().stats(date("2026-11-25"), date("2026-11-25"));
  CHECK(day.referrals_by_partner.at("fire_service") == 2);
  CHECK(office.fixture.store().stats(date("2026-11-26"), std::nullopt).referrals_by_partner.at("fire_service") == 0);

  // An edit that drops a partner and adds another.
  office.write(uuid(11), referred(uuid(1), {Referral::fire_service, Referral::victim_support}, ShareBasis::consent));
  CHECK(office.partner("health") == 0);
  CHECK(office.partner("victim_support") == 1);
  office.remove_record(Entity::visit, uuid(12));
  CHECK(office.partner("fire_service") == 1);
}

TEST_CASE("a referral keeps its sent state while its visit still refers to that partner", "[referrals][stats]") {
  Office office;
  office.write(uuid(11), referred(uuid(1), {Referral::fire_service, Referral::health}, ShareBasis::consent));
  CHECK(office.mark("fire_service", std::vector<std::string>{uuid(11), uuid(99)}) == 1);
  CHECK(office.mark("fire_service", std::vector<std::string>{uuid(11)}) == 0);  // already sent: who and when stay
  CHECK(office.sent("fire_service") == 1);
  CHECK(office.sent("health") == 0);

  // Edits that keep the partner (another date, another basis, health dropped) keep it sent.
  office.write(uuid(11), referred(uuid(1), {Referral::fire_service}, ShareBasis::vital_interests, at("2026-11-20T10:00:00Z")));
  CHECK(office.sent("fire_service") == 1);
  CHECK(office.partner("health") == 0);
  CHECK_THAT(office.list("fire_service"), Catch::Contains(R"("sent_by":"coord.cat")"));
  CHECK_THAT(office.list("fire_service"), Catch::Contains(R"("local_date":"2026-11-20")"));

  // Dropped and referred again: a new referral, not yet sent.
  office.write(uuid(11), referred(uuid(1), {Referral::health}, ShareBasis::consent));
  office.write(uuid(11), referred(uuid(1), {Referral::fire_service}, ShareBasis::consent));
  CHECK(office.sent("fire_service") == 0);
  CHECK(office.partner("fire_service") == 1);

  // The audit trail has who marked what, with ids and counts only.
  const auto entries = sync_server::AuditLog(office.fixture.store()).list({});
  REQUIRE(entries.ok());
  bool found = false;
  for (const auto& record : *entries) {
    const auto& entry = record.entry;
    if (entry.action != "referrals_sent") continue;
    found = true;
    CHECK(entry.actor.name == "coord.cat");
    CHECK(entry.kind == "referrals");
    CHECK_THAT(entry.detail, Catch::StartsWith("partner=fire_service from= to= selected="));
  }
  CHECK(found);
}

TEST_CASE("mark all as sent leaves out referrals with no recorded basis unless included", "[referrals]") {
  Office office;
  office.write(uuid(11), referred(uuid(1), {Referral::fire_service}, ShareBasis::consent));
  office.write(uuid(12), referred(uuid(2), {Referral::fire_service}, std::nullopt));
  CHECK(office.mark("fire_service", std::nullopt) == 1);
  CHECK(office.sent("fire_service") == 1);
  const auto unsent = office.list("fire_service", Dashboard::ReferralState::unsent);
  CHECK_THAT(unsent, Catch::Contains(uuid(12)));
  CHECK_THAT(unsent, Catch::Contains(R"("basis_not_recorded":true)"));
  CHECK_THAT(unsent, Catch::Contains(R"("counts":{"total":2,"unsent":1,"sent":1,"not_recorded":1})"));
  CHECK(office.mark("fire_service", std::nullopt, true) == 1);
  CHECK(office.sent("fire_service") == 2);
}

TEST_CASE("the work list and the partner's CSV hold what the partner needs, never the notes", "[referrals]") {
  Office office;
  office.write(uuid(11), referred(uuid(1), {Referral::adult_social_care}, ShareBasis::safeguarding));
  office.write(uuid(12), referred(uuid(2), {Referral::adult_social_care}, std::nullopt));
  const auto listed = office.list("adult_social_care");
  CHECK_THAT(listed, Catch::Contains(R"("address":"1 Example Road","postcode":"WD6 1WA","ward":"Elstree")"));
  CHECK_THAT(listed, Catch::Contains(R"("vulnerability":["elderly","lives_alone"])"));
  CHECK_THAT(listed, Catch::Contains(R"("share_basis":"safeguarding","basis_not_recorded":false,"officer":"coord.cat")"));
  CHECK_THAT(listed, Catch::Contains(R"("matched":2)"));
  CHECK_THAT(listed, !Catch::Contains("private matter"));

  Dashboard::ReferralFilter filter;
  filter.partner = "adult_social_care";
  filter.include_not_recorded = false;
  const auto csv = Dashboard(office.fixture.store()).referrals_csv(filter);
  CHECK_THAT(csv, Catch::StartsWith("partner,visit_id,visited_at,local_date,status,address,postcode,ward,vulnerability,"
                                    "share_basis,officer,household_id,sent_at,sent_by\r\n"));
  CHECK_THAT(csv, Catch::Contains("adult_social_care," + uuid(11) + ",2026-11-25T10:00:00.000Z,2026-11-25,completed,"
                                  "1 Example Road,WD6 1WA,Elstree,elderly;lives_alone,safeguarding,coord.cat,"));
  CHECK_THAT(csv, !Catch::Contains(uuid(12)));
  CHECK_THAT(csv, !Catch::Contains("private matter"));
  filter.include_not_recorded = true;
  CHECK_THAT(Dashboard(office.fixture.store()).referrals_csv(filter), Catch::Contains(",not_recorded,"));

  // Paged: one at a time, oldest first.
  filter.state = Dashboard::ReferralState::all;
  filter.limit = 1;
  filter.offset = 1;
  Dashboard::Listed shown;
  const auto page = Dashboard(office.fixture.store()).referrals_json(filter, &shown);
  CHECK(shown.rows == 1);
  CHECK(shown.total == 2);
}

TEST_CASE("a partner the server adds is a referral: counted, listed, passed on, and gone with its answer",
          "[referrals][questions]") {
  Office office;
  auto questions = safer::ReferenceLists::defaults().questions;
  questions.push_back({"owl_signup", safer::QuestionKind::yes_no, "OWL sign-up", false});
  questions.push_back({"age_uk", safer::QuestionKind::referral, "Age UK", false});
  REQUIRE(office.fixture.store().set_questions(questions).ok());
  const Dashboard dashboard(office.fixture.store());
  CHECK(dashboard.is_partner("age_uk"));
  CHECK_FALSE(dashboard.is_partner("owl_signup"));  // an extra outcome, not a partner
  CHECK_FALSE(dashboard.is_partner("feels_safe"));
  CHECK_FALSE(dashboard.is_partner("age_uk_x"));
  CHECK(dashboard.partner_names() == "fire_service, victim_support, adult_social_care, health, other or age_uk");

  // Only the extra partner: the visit counts as referred, on its basis, and to that partner.
  Visit only_extra = referred(uuid(1), {}, ShareBasis::consent);
  only_extra.answers = {{"age_uk", true}, {"owl_signup", true}, {"feels_safe", std::int64_t{4}}};
  office.write(uuid(11), only_extra);
  Visit both = referred(uuid(2), {Referral::health}, std::nullopt);
  both.answers = {{"age_uk", true}};
  office.write(uuid(12), both);
  auto stats = office.stats();
  CHECK(stats.referred_visits == 2);
  CHECK(stats.referrals_by_basis == std::array<std::int64_t, 4>{1, 0, 0, 1});
  CHECK(stats.referrals_by_partner.at("age_uk") == 2);
  CHECK(stats.referrals_by_partner.at("health") == 1);
  CHECK(stats.partner_labels == std::map<std::string, std::string>{{"age_uk", "Age UK"}});
  CHECK(stats.answers.count("age_uk") == 0);  // a referral, not an answer's distribution
  CHECK(stats.answers.at("owl_signup").all.answered == 1);
  CHECK_THAT(safer::to_json(stats), Catch::Contains(R"("partner_labels":{"age_uk":"Age UK"})"));

  // Listed and exported for the partner as the built-in partners are.
  const auto listed = office.list("age_uk");
  CHECK_THAT(listed, Catch::Contains(R"("partner":"age_uk")"));
  CHECK_THAT(listed, Catch::Contains(R"("counts":{"total":2,"unsent":2,"sent":0,"not_recorded":1})"));
  Dashboard::ReferralFilter filter;
  filter.partner = "age_uk";
  filter.include_not_recorded = false;
  const auto csv = Dashboard(office.fixture.store()).referrals_csv(filter);
  CHECK_THAT(csv, Catch::Contains("age_uk," + uuid(11) + ",2026-11-25T10:00:00.000Z,2026-11-25,completed,1 Example Road,"));
  CHECK_THAT(csv, !Catch::Contains(uuid(12)));  // no basis recorded: left out unless asked
  CHECK_THAT(csv, !Catch::Contains("private matter"));

  // In the household's subject access export, as a disclosure once passed on.
  CHECK(office.mark("age_uk", std::nullopt) == 1);
  CHECK(office.sent("age_uk") == 1);
  const auto file = sync_server::SubjectAccess(office.fixture.store())
                        .export_household(uuid(1), sync_server::SubjectAccessFormat::json, sync_server::Actor{"dpo", "cli", "local"});
  REQUIRE(file.ok());
  CHECK_THAT(file->body, Catch::Contains(R"("partner":"age_uk","share_basis":"consent")"));

  // An edit that keeps the answer keeps it passed on; one without it ends the referral.
  only_extra.visited_at = at("2026-11-24T10:00:00Z");
  office.write(uuid(11), only_extra);
  CHECK(office.sent("age_uk") == 1);
  only_extra.answers = {{"feels_safe", std::int64_t{4}}};
  office.write(uuid(11), only_extra);
  stats = office.stats();
  CHECK(stats.referrals_by_partner.at("age_uk") == 1);
  CHECK(stats.referrals_sent_by_partner.at("age_uk") == 0);
  CHECK(stats.referred_visits == 1);
  CHECK_THAT(office.list("age_uk"), !Catch::Contains(uuid(11)));

  // Withdrawn: no longer offered, still a partner with its referrals.
  questions.back().withdrawn = true;
  REQUIRE(office.fixture.store().set_questions(questions).ok());
  CHECK(Dashboard(office.fixture.store()).is_partner("age_uk"));
  CHECK(office.partner("age_uk") == 1);
}

TEST_CASE("referrals follow their household's ward and go with an erased household", "[referrals][erasure]") {
  Office office;
  office.write(uuid(11), referred(uuid(1), {Referral::health}, ShareBasis::consent));
  office.write(uuid(12), referred(uuid(2), {Referral::health}, ShareBasis::consent));
  CHECK(office.mark("health", std::nullopt) == 2);
  Household moved = household("Bushey North");
  office.write(uuid(1), moved);
  CHECK_THAT(office.list("health"), Catch::Contains(R"("ward":"Bushey North")"));

  office.remove_record(Entity::household, uuid(1));  // a coordinator's delete: an erasure
  const auto after = office.list("health");
  CHECK_THAT(after, !Catch::Contains(uuid(11)));
  CHECK_THAT(after, !Catch::Contains("Bushey North"));
  CHECK(office.partner("health") == 1);
  CHECK(office.sent("health") == 1);
}

TEST_CASE("the migration fills the referrals from the stored visits", "[referrals][migration]") {
  Office office;
  office.write(uuid(11), referred(uuid(1), {Referral::fire_service, Referral::other}, ShareBasis::consent));
  office.write(uuid(12), referred(uuid(2), {Referral::fire_service}, std::nullopt));
  office.write(uuid(13), visit(uuid(2)));
  const auto before = office.stats();
  office.fixture.reopen();
  if (test_support::testing_postgresql()) {
    safer::pg::Connection connection(office.fixture.path());
    // The store reruns the migrations past the highest number done: back to before 9, with
    // what 10 to 13 added taken away too (they cannot add it twice).
    std::string later = "DROP TABLE referrals; DROP TABLE baseline_years; DROP TABLE officers;"
                        " ALTER TABLE accounts DROP COLUMN disabled_at;";
    for (const char* message : {"vehicle_security", "home_security", "garden_tools", "personal_belongings"}) {
      for (const char* count : {"sessions", "cards"}) {
        later += std::string(" ALTER TABLE commute_totals DROP COLUMN msg_") + message + "_" + count + ";";
      }
    }
    connection.exec(later + " DELETE FROM schema_version WHERE number >= 9");
  } else {
    safer::sqlite::Database raw(office.fixture.path());
    // Migrations 13 and 16 add columns, which they cannot do twice: those go too.
    std::string later = "DROP TABLE referrals; ALTER TABLE accounts DROP COLUMN disabled_at;";
    for (const char* message : {"vehicle_security", "home_security", "garden_tools", "personal_belongings"}) {
      for (const char* count : {"sessions", "cards"}) {
        later += std::string(" ALTER TABLE commute_totals DROP COLUMN msg_") + message + "_" + count + ";";
      }
    }
    raw.exec(later + " PRAGMA user_version = 11;");
  }
  office.fixture.reopen();
  const auto after = office.stats();
  CHECK(after == before);
  CHECK(after.referrals_by_partner.at("fire_service") == 2);
  CHECK(after.referrals_by_partner.at("other") == 1);
  CHECK_THAT(office.list("fire_service"), Catch::Contains(R"("basis_not_recorded":true)"));
}

TEST_CASE("mark as sent refuses malformed or too many ids and changes nothing", "[referrals]") {
  Office office;
  office.write(uuid(11), referred(uuid(1), {Referral::fire_service}, ShareBasis::consent));
  Dashboard::ReferralFilter filter;
  filter.partner = "fire_service";
  Dashboard dashboard(office.fixture.store());
  const auto bad = dashboard.mark_referrals_sent(filter, std::vector<std::string>{uuid(11), "1 Example Road"}, {});
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().field == "visit_ids");
  CHECK(bad.error().message.find("Example") == std::string::npos);
  const auto many = dashboard.mark_referrals_sent(filter, std::vector<std::string>(501, uuid(11)), {});
  REQUIRE_FALSE(many.ok());
  CHECK(office.sent("fire_service") == 0);
}
