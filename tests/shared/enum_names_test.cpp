// Wire names of the protocol's enumerations must be exact (protocol.md §3, §5): a misspelt name
// would make a device and the server disagree about a record.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "safer/record.h"

using namespace safer;

namespace {

// Every name of E maps back to its enumerator, and nothing else does.
template <class E>
void check_names_round_trip(const std::vector<std::string>& expected) {
  const auto& names = EnumNames<E>::names;
  REQUIRE(names.size() == expected.size());
  for (std::size_t i = 0; i < names.size(); ++i) {
    const auto value = static_cast<E>(i);
    CHECK(to_string(value) == expected[i]);
    CHECK(enum_from_string<E>(expected[i]) == value);
    std::string upper = expected[i];
    for (char& c : upper) c = static_cast<char>(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
    CHECK_FALSE(enum_from_string<E>(upper).has_value());  // case-sensitive
    CHECK_FALSE(enum_from_string<E>(expected[i] + " ").has_value());
  }
  CHECK_FALSE(enum_from_string<E>("").has_value());
}

}  // namespace

TEST_CASE("enumerations use the wire names of protocol.md", "[enum_names]") {
  check_names_round_trip<Entity>({"household", "visit", "commute_session"});
  check_names_round_trip<Op>({"upsert", "delete"});
  check_names_round_trip<Role>({"officer", "pcso", "coordinator"});
  check_names_round_trip<VisitStatus>({"completed", "no_answer", "declined", "rescheduled"});
  check_names_round_trip<Referral>({"fire_service", "victim_support", "adult_social_care", "health", "other"});
  check_names_round_trip<Vulnerability>({"elderly", "disability", "repeat_victim", "lives_alone", "other"});
  check_names_round_trip<CommuteMessage>({"vehicle_security", "home_security", "garden_tools", "personal_belongings"});
  check_names_round_trip<Outcome>({"crime_prevention_advice", "fire_safety_check", "healthy_lifestyle_advice",
                                   "community_involvement_info", "first_aid_training", "follow_up_required"});
  CHECK(to_string(Op::remove) == "delete");
  CHECK_FALSE(enum_from_string<Op>("remove").has_value());
}

TEST_CASE("allowed values read as a list for messages", "[enum_names]") {
  CHECK(allowed_values<Op>() == "upsert or delete");
  CHECK(allowed_values<Entity>() == "household, visit or commute_session");
  CHECK(allowed_values<VisitStatus>() == "completed, no_answer, declined or rescheduled");
}

TEST_CASE("an enum set holds each value once, in declaration order", "[enum_names]") {
  EnumSet<Referral> set;
  CHECK(set.empty());
  CHECK(set.bits() == 0u);
  set.insert(Referral::other);
  set.insert(Referral::fire_service);
  set.insert(Referral::other);
  CHECK_FALSE(set.empty());
  CHECK(set.contains(Referral::other));
  CHECK(set.contains(Referral::fire_service));
  CHECK_FALSE(set.contains(Referral::health));
  CHECK(set.values() == std::vector<Referral>{Referral::fire_service, Referral::other});
  CHECK(set.names() == std::vector<std::string>{"fire_service", "other"});
  CHECK(set == EnumSet<Referral>{Referral::other, Referral::fire_service});
  CHECK_FALSE(set == EnumSet<Referral>{Referral::other});
  set.erase(Referral::other);
  set.erase(Referral::health);  // erasing an absent value changes nothing
  CHECK(set == EnumSet<Referral>{Referral::fire_service});
  CHECK(set.bits() == 1u);
  set.erase(Referral::fire_service);
  CHECK(set.empty());
}

TEST_CASE("a change's data kind follows the entity order", "[enum_names]") {
  CHECK(entity_of(RecordData{Household{}}) == Entity::household);
  CHECK(entity_of(RecordData{Visit{}}) == Entity::visit);
  CHECK(entity_of(RecordData{CommuteSession{}}) == Entity::commute_session);
}
