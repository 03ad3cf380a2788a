// Records travel as plain JSON objects (protocol.md §1, §5, §9): any field order, unknown fields
// ignored, optional fields defaulted, and every bad field reported by name.
#include <catch2/catch.hpp>

#include <string>
#include <utility>
#include <vector>

#include "only_error.h"
#include "safer/record_json.h"

using namespace safer;

namespace {

// A JSON object built from (name, raw JSON value) pairs, so tests can swap one field's value.
using Fields = std::vector<std::pair<std::string, std::string>>;

std::string object(const Fields& fields) {
  std::string out = "{";
  for (const auto& [name, value] : fields) {
    if (out.size() > 1) out += ",";
    out += "\"" + name + "\":" + value;
  }
  return out + "}";
}

Fields with(Fields fields, const std::string& name, const std::string& value) {
  for (auto& field : fields) {
    if (field.first == name) {
      field.second = value;
      return fields;
    }
  }
  fields.emplace_back(name, value);
  return fields;
}

Fields without(Fields fields, const std::string& name) {
  std::erase_if(fields, [&name](const auto& field) { return field.first == name; });
  return fields;
}

const Fields kHouseholdFields{{"address", "\"12 Example Close\""},
                              {"postcode", "\"WD6 1WA\""},
                              {"ward", "\"Elstree\""}};
const Fields kVisitFields{{"household_id", "\"0192f5e4-7c1a-7d3e-9b2a-4c5d6e7f8a9b\""},
                          {"visited_at", "\"2026-11-26T09:30:00Z\""},
                          {"status", "\"completed\""}};
const Fields kSessionFields{{"station", "\"Radlett\""},
                            {"started_at", "\"2026-11-26T07:00:00Z\""},
                            {"cards_distributed", "40"}};

constexpr UnixMillis kVisitedAt = 1'795'685'400'000;  // 2026-11-26T09:30:00Z

Household full_household() {
  Household household;
  household.address = "Flat 3, 7 Imaginary Road \"The Old Forge\"\nBorehamwood \xC3\xA9";
  household.postcode = "WD6 1WA";
  household.ward = "Bentley Heath & The Royds";
  household.vulnerability = {Vulnerability::elderly, Vulnerability::lives_alone};
  household.target = true;
  household.assigned_to = std::optional<std::string>{"pc.4821"};
  return household;
}

Visit full_visit() {
  Visit visit;
  visit.household_id = "0192f5e4-7c1a-7d3e-9b2a-4c5d6e7f8a9b";
  visit.visited_at = kVisitedAt + 123;
  visit.status = VisitStatus::completed;
  visit.outcomes = {Outcome::crime_prevention_advice, Outcome::fire_safety_check,
                    Outcome::follow_up_required};
  visit.smoke_detectors_fitted = 2;
  visit.referrals = {Referral::fire_service, Referral::other};
  visit.share_basis = ShareBasis::vital_interests;
  visit.notes = "Fitted two alarms; \\ back in \xF0\x9F\x8F\xA0 two weeks.\t\"ok\"";
  return visit;
}

CommuteSession full_session() {
  CommuteSession session;
  session.station = "Elstree & Borehamwood";
  session.started_at = kVisitedAt - 3'600'000;
  session.ended_at = kVisitedAt;
  session.cards_distributed = 5000;
  session.messages = {CommuteMessage::vehicle_security, CommuteMessage::personal_belongings};
  return session;
}

// `text` without any whitespace, so checks do not depend on the writer's layout.
std::string squeeze(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c != ' ' && c != '\n' && c != '\r' && c != '\t') out.push_back(c);
  }
  return out;
}

template <class Record>
FieldErrors decode(const std::string& text) {
  Record record;
  return from_json(text, record);
}

void check_plain_json(const std::string& text) {
  for (const char* wrapper : {"value0", "ptr_wrapper", "nullopt", "valid", "polymorphic", "cereal"}) {
    CHECK_THAT(text, !Catch::Contains(wrapper));
  }
}

}  // namespace

TEST_CASE("records with every field set round trip through JSON", "[record_json]") {
  SECTION("household") {
    const Household original = full_household();
    const std::string text = to_json(original);
    check_plain_json(text);
    Household decoded;
    CHECK(from_json(text, decoded).empty());
    CHECK(decoded == original);
  }
  SECTION("visit") {
    const Visit original = full_visit();
    const std::string text = to_json(original);
    check_plain_json(text);
    CHECK_THAT(text, Catch::Contains("\"2026-11-26T09:30:00.123Z\""));
    Visit decoded;
    CHECK(from_json(text, decoded).empty());
    CHECK(decoded == original);
  }
  SECTION("commute session") {
    const CommuteSession original = full_session();
    const std::string text = to_json(original);
    check_plain_json(text);
    CommuteSession decoded;
    CHECK(from_json(text, decoded).empty());
    CHECK(decoded == original);
  }
  SECTION("through RecordData") {
    for (const RecordData& original :
         {RecordData{full_household()}, RecordData{full_visit()}, RecordData{full_session()}}) {
      const std::string text = to_json(original);
      check_plain_json(text);
      RecordData decoded;
      CHECK(from_json(text, entity_of(original), decoded).empty());
      CHECK(decoded == original);
    }
  }
}

TEST_CASE("minimal records round trip and take the defaults", "[record_json]") {
  SECTION("household") {
    Household decoded;
    REQUIRE(from_json(object(kHouseholdFields), decoded).empty());
    CHECK(decoded.address == "12 Example Close");
    CHECK(decoded.vulnerability.empty());
    CHECK_FALSE(decoded.target.has_value());
    CHECK_FALSE(decoded.assigned_to.has_value());
    CHECK_FALSE(decoded.is_target());
    Household again;
    CHECK((from_json(to_json(decoded), again).empty() && again == decoded));
  }
  SECTION("visit") {
    Visit decoded;
    decoded.notes = "left over";
    REQUIRE(from_json(object(kVisitFields), decoded).empty());
    CHECK(decoded.visited_at == kVisitedAt);
    CHECK(decoded.status == VisitStatus::completed);
    CHECK(decoded.outcomes.empty());
    CHECK(decoded.smoke_detectors_fitted == 0);
    CHECK(decoded.referrals.empty());
    CHECK(decoded.notes.empty());  // the whole record is replaced, defaults included
    Visit again;
    CHECK((from_json(to_json(decoded), again).empty() && again == decoded));
  }
  SECTION("commute session") {
    CommuteSession decoded;
    REQUIRE(from_json(object(kSessionFields), decoded).empty());
    CHECK(decoded.cards_distributed == 40);
    CHECK_FALSE(decoded.ended_at.has_value());
    CHECK(decoded.messages.empty());
    const std::string text = to_json(decoded);
    CHECK_THAT(text, !Catch::Contains("ended_at"));
    CommuteSession again;
    CHECK(from_json(text, again).empty());
    CHECK(again == decoded);
  }
}

TEST_CASE("fields may come in any order", "[record_json]") {
  Fields reversed(kVisitFields.rbegin(), kVisitFields.rend());
  reversed.insert(reversed.begin(), {"notes", "\"first\""});
  Visit forwards;
  Visit backwards;
  REQUIRE(from_json(object(with(kVisitFields, "notes", "\"first\"")), forwards).empty());
  REQUIRE(from_json(object(reversed), backwards).empty());
  CHECK(forwards == backwards);
  CHECK(backwards.notes == "first");
}

TEST_CASE("unknown fields are ignored, nested ones included", "[record_json]") {
  Fields fields = with(kHouseholdFields, "future_flag", "true");
  fields = with(fields, "extra", R"({"nested":{"deep":[1,2,{"x":null}]},"list":["a"]})");
  fields = with(fields, "tags", R"([[1],[2,3],{"a":"b"}])");
  fields = with(fields, "recorded_by", "\"someone.else\"");
  fields = with(fields, "n", "null");
  Household decoded;
  CHECK(from_json(object(fields), decoded).empty());
  CHECK(decoded.ward == "Elstree");
}

TEST_CASE("a missing required field is named as required", "[record_json]") {
  for (const auto& [name, value] : kHouseholdFields) {
    const auto error = only_error(decode<Household>(object(without(kHouseholdFields, name))), name);
    CHECK(error.message == name + " is required");
  }
  for (const auto& [name, value] : kVisitFields) {
    const auto error = only_error(decode<Visit>(object(without(kVisitFields, name))), name);
    CHECK(error.message == name + " is required");
  }
  for (const auto& [name, value] : kSessionFields) {
    const auto error = only_error(decode<CommuteSession>(object(without(kSessionFields, name))), name);
    CHECK(error.message == name + " is required");
  }
  // Every problem is listed, not only the first.
  CHECK(decode<Visit>("{}").size() == 3);
}

TEST_CASE("a field of the wrong type is named", "[record_json]") {
  SECTION("string where an integer belongs") {
    only_error(decode<Visit>(object(with(kVisitFields, "smoke_detectors_fitted", "\"2\""))),
               "smoke_detectors_fitted");
    only_error(decode<CommuteSession>(object(with(kSessionFields, "cards_distributed", "\"40\""))),
               "cards_distributed");
  }
  SECTION("a fraction where an integer belongs") {
    const auto error = only_error(
        decode<Visit>(object(with(kVisitFields, "smoke_detectors_fitted", "3.5"))), "smoke_detectors_fitted");
    CHECK_THAT(error.message, Catch::Contains("integer"));
    only_error(decode<CommuteSession>(object(with(kSessionFields, "cards_distributed", "0.1"))),
               "cards_distributed");
  }
  SECTION("null or a number where a boolean belongs") {
    for (const char* flag : {"crime_prevention_advice", "fire_safety_check", "healthy_lifestyle_advice",
                             "community_involvement_info", "first_aid_training", "follow_up_required"}) {
      only_error(decode<Visit>(object(with(kVisitFields, flag, "null"))), flag);
      only_error(decode<Visit>(object(with(kVisitFields, flag, "1"))), flag);
      only_error(decode<Visit>(object(with(kVisitFields, flag, "\"true\""))), flag);
    }
    only_error(decode<Household>(object(with(kHouseholdFields, "target", "null"))), "target");
    only_error(decode<Household>(object(with(kHouseholdFields, "target", "0"))), "target");
  }
  SECTION("a number, null or an object where a string belongs") {
    for (const auto& [name, value] : kHouseholdFields) {
      only_error(decode<Household>(object(with(kHouseholdFields, name, "42"))), name);
      only_error(decode<Household>(object(with(kHouseholdFields, name, "null"))), name);
      only_error(decode<Household>(object(with(kHouseholdFields, name, "{}"))), name);
    }
    only_error(decode<Visit>(object(with(kVisitFields, "notes", "7"))), "notes");
    only_error(decode<Visit>(object(with(kVisitFields, "household_id", "[]"))), "household_id");
    only_error(decode<CommuteSession>(object(with(kSessionFields, "station", "true"))), "station");
    only_error(decode<Household>(object(with(kHouseholdFields, "assigned_to", "7"))), "assigned_to");
  }
  SECTION("times that are not RFC 3339") {
    only_error(decode<Visit>(object(with(kVisitFields, "visited_at", "\"2026-11-26 09:30\""))), "visited_at");
    only_error(decode<Visit>(object(with(kVisitFields, "visited_at", "1795685400000"))), "visited_at");
    only_error(decode<CommuteSession>(object(with(kSessionFields, "started_at", "\"yesterday\""))), "started_at");
    only_error(decode<CommuteSession>(object(with(kSessionFields, "ended_at", "\"2026-02-30T00:00:00Z\""))),
               "ended_at");
  }
  SECTION("an array field that is not an array") {
    only_error(decode<Visit>(object(with(kVisitFields, "referrals", "\"health\""))), "referrals");
    only_error(decode<Household>(object(with(kHouseholdFields, "vulnerability", "null"))), "vulnerability");
    only_error(decode<CommuteSession>(object(with(kSessionFields, "messages", "{}"))), "messages");
  }
}

TEST_CASE("whole numbers written as 3.0 are integers", "[record_json]") {
  Visit visit;
  REQUIRE(from_json(object(with(kVisitFields, "smoke_detectors_fitted", "3.0")), visit).empty());
  CHECK(visit.smoke_detectors_fitted == 3);
  CommuteSession session;
  REQUIRE(from_json(object(with(kSessionFields, "cards_distributed", "5e3")), session).empty());
  CHECK(session.cards_distributed == 5000);
  // Out of range is for validation, not decoding: the value is kept, and kept out of range.
  REQUIRE(from_json(object(with(kVisitFields, "smoke_detectors_fitted", "-4")), visit).empty());
  CHECK(visit.smoke_detectors_fitted == -4);
  REQUIRE(from_json(object(with(kVisitFields, "smoke_detectors_fitted", "18446744073709551615")), visit).empty());
  CHECK(visit.smoke_detectors_fitted > Visit::kMaxSmokeDetectors);
}

TEST_CASE("enumerations accept only their wire names", "[record_json]") {
  const auto status_error = only_error(decode<Visit>(object(with(kVisitFields, "status", "\"done\""))), "status");
  CHECK_THAT(status_error.message, Catch::Contains("completed, no_answer, declined or rescheduled"));
  only_error(decode<Visit>(object(with(kVisitFields, "status", "\"Completed\""))), "status");
  only_error(decode<Visit>(object(with(kVisitFields, "status", "\"\""))), "status");

  const auto referral_error =
      only_error(decode<Visit>(object(with(kVisitFields, "referrals", "[\"police\"]"))), "referrals");
  CHECK_THAT(referral_error.message, Catch::Contains("fire_service") && Catch::Contains("other"));
  only_error(decode<Visit>(object(with(kVisitFields, "referrals", "[\"health\",\"health\"]"))), "referrals");
  only_error(decode<Visit>(object(with(kVisitFields, "referrals", "[1]"))), "referrals");
  only_error(decode<Household>(object(with(kHouseholdFields, "vulnerability", "[\"ELDERLY\"]"))),
             "vulnerability");
  only_error(decode<Household>(object(with(kHouseholdFields, "vulnerability", "[\"other\",\"elderly\",\"other\"]"))),
             "vulnerability");
  only_error(decode<CommuteSession>(object(with(kSessionFields, "messages", "[\"bikes\"]"))), "messages");
  only_error(decode<CommuteSession>(object(with(kSessionFields, "messages", "[null]"))), "messages");

  // A subset in any order is the same set, written back in declaration order.
  Visit visit;
  REQUIRE(from_json(object(with(kVisitFields, "referrals", "[\"other\",\"fire_service\",\"health\"]")), visit).empty());
  CHECK(visit.referrals == EnumSet<Referral>{Referral::fire_service, Referral::health, Referral::other});
  CHECK_THAT(squeeze(to_json(visit)), Catch::Contains("\"referrals\":[\"fire_service\",\"health\",\"other\"]"));
}

TEST_CASE("share_basis is absent, or one of its wire names", "[record_json]") {
  Visit absent;
  REQUIRE(from_json(object(kVisitFields), absent).empty());
  CHECK_FALSE(absent.share_basis.has_value());
  CHECK_THAT(squeeze(to_json(absent)), !Catch::Contains("share_basis"));

  for (const auto name : EnumNames<ShareBasis>::names) {
    Visit visit;
    REQUIRE(from_json(object(with(kVisitFields, "share_basis", "\"" + std::string(name) + "\"")), visit).empty());
    REQUIRE(visit.share_basis.has_value());
    CHECK(to_string(*visit.share_basis) == name);
    CHECK_THAT(squeeze(to_json(visit)), Catch::Contains("\"share_basis\":\"" + std::string(name) + "\""));
  }
  const auto error = only_error(decode<Visit>(object(with(kVisitFields, "share_basis", "\"Consent\""))), "share_basis");
  CHECK_THAT(error.message, Catch::Contains("consent, vital_interests or safeguarding"));
  only_error(decode<Visit>(object(with(kVisitFields, "share_basis", "null"))), "share_basis");
  only_error(decode<Visit>(object(with(kVisitFields, "share_basis", "[\"consent\"]"))), "share_basis");
  only_error(decode<Visit>(object(with(kVisitFields, "share_basis", "\"\""))), "share_basis");
}

TEST_CASE("household target and assigned_to keep absent, null and value apart", "[record_json]") {
  Household decoded;
  SECTION("absent") {
    REQUIRE(from_json(object(kHouseholdFields), decoded).empty());
    CHECK_FALSE(decoded.target.has_value());
    CHECK_FALSE(decoded.assigned_to.has_value());
    const std::string text = to_json(decoded);
    CHECK_THAT(text, !Catch::Contains("target") && !Catch::Contains("assigned_to"));
  }
  SECTION("null assignee and false target") {
    REQUIRE(from_json(object(with(with(kHouseholdFields, "assigned_to", "null"), "target", "false")), decoded).empty());
    REQUIRE(decoded.target.has_value());
    CHECK_FALSE(*decoded.target);
    REQUIRE(decoded.assigned_to.has_value());
    CHECK_FALSE(decoded.assigned_to->has_value());
    CHECK_FALSE(decoded.assignee().has_value());
    const std::string text = squeeze(to_json(decoded));
    CHECK_THAT(text, Catch::Contains("\"assigned_to\":null") && Catch::Contains("\"target\":false"));
    Household again;
    REQUIRE(from_json(to_json(decoded), again).empty());
    CHECK(again == decoded);
    CHECK(again.assigned_to.has_value());
  }
  SECTION("a value") {
    REQUIRE(from_json(object(with(with(kHouseholdFields, "assigned_to", "\"pc.77\""), "target", "true")), decoded).empty());
    CHECK(decoded.target == std::optional<bool>{true});
    CHECK(decoded.assignee() == std::optional<std::string>{"pc.77"});
    Household again;
    REQUIRE(from_json(to_json(decoded), again).empty());
    CHECK(again == decoded);
  }
}

TEST_CASE("text that is not a JSON object is refused without a field", "[record_json]") {
  for (const char* text : {"", "not json", "{", "{\"address\":}", "[]", "[{}]", "\"a string\"",
                           "42", "null", "true", "{\"address\":\"x\"} trailing", "{'address':'x'}",
                           "{\"smoke_detectors_fitted\":NaN}"}) {
    INFO("'" << text << "'");
    for (Entity entity : {Entity::household, Entity::visit, Entity::commute_session}) {
      RecordData out;
      const auto errors = from_json(text, entity, out);
      REQUIRE(errors.size() == 1);
      CHECK(errors[0].field.empty());
      CHECK_FALSE(errors[0].message.empty());
    }
  }
}

TEST_CASE("invalid UTF-8 inside a record is refused", "[record_json]") {
  for (const char* bad : {"\xC3", "\xC0\xAF", "\xED\xA0\x80", "\xF4\x90\x80\x80", "\x80"}) {
    const std::string text = object(with(kHouseholdFields, "address", std::string("\"12 ") + bad + " Road\""));
    const auto errors = decode<Household>(text);
    REQUIRE(errors.size() == 1);
    CHECK(errors[0].field.empty());
  }
  // Escaped code points are fine, and decoded.
  Household household;
  REQUIRE(from_json(object(with(kHouseholdFields, "address", "\"caf\\u00e9 \\ud83c\\udfe0\"")), household).empty());
  CHECK(household.address == "caf\xC3\xA9 \xF0\x9F\x8F\xA0");
}

TEST_CASE("a record that fails to decode leaves the output untouched", "[record_json]") {
  Visit visit = full_visit();
  const Visit before = visit;
  CHECK_FALSE(from_json(object(with(kVisitFields, "status", "\"gone\"")), visit).empty());
  CHECK(visit == before);
  RecordData data = full_session();
  CHECK_FALSE(from_json(object(kVisitFields), Entity::commute_session, data).empty());
  CHECK(data == RecordData{full_session()});
}

TEST_CASE("visit JSON writes every outcome flag", "[record_json]") {
  Visit visit = full_visit();
  visit.outcomes = {Outcome::first_aid_training};
  const std::string text = squeeze(to_json(visit));
  for (const auto name : EnumNames<Outcome>::names) CHECK_THAT(text, Catch::Contains("\"" + std::string(name) + "\":"));
  CHECK_THAT(text, Catch::Contains("\"first_aid_training\":true") && Catch::Contains("\"fire_safety_check\":false"));
  CHECK_THAT(text, Catch::Contains("\"smoke_detectors_fitted\":2") && Catch::Contains("\"notes\":\""));
}
