// Regression tests for defects the first review of the shared library found; each test is
// named after its bug.
#include <catch2/catch.hpp>

#include <limits>

#include "safer/hlc.h"
#include "safer/protocol_json.h"
#include "safer/record_json.h"
#include "safer/sqlite.h"
#include "safer/text.h"
#include "safer/time.h"
#include "safer/validation.h"

using namespace safer;

TEST_CASE("bug: an offset could carry a time outside the years UTC can be written in", "[regression][time]") {
  CHECK_FALSE(parse_rfc3339("0000-01-01T00:00:00+01:00"));
  CHECK_FALSE(parse_rfc3339("9999-12-31T23:59:59-01:00"));
  const auto first = parse_rfc3339("0000-01-01T00:00:00Z");
  REQUIRE(first);
  CHECK(parse_rfc3339(format_rfc3339(*first)) == first);
  const auto last = parse_rfc3339("9999-12-31T23:59:59.999Z");
  REQUIRE(last);
  CHECK(format_rfc3339(*last) == "9999-12-31T23:59:59.999Z");
}

TEST_CASE("bug: text fields were not checked for valid UTF-8", "[regression][validation]") {
  Visit visit;
  visit.household_id = "0192f5e4-7c1a-7d3e-9b2a-4c5d6e7f8a9b";
  visit.notes = "bad \xC3 byte";
  auto errors = check_visit(visit, ReferenceLists::defaults());
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].field == "notes");

  Household household;
  household.address = "1 Example \xFF Road";
  household.postcode = "WD6 1WA";
  household.ward = "Elstree";
  errors = check_household(household, ReferenceLists::defaults());
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].field == "address");
}

TEST_CASE("bug: a NUL byte ended the JSON document early", "[regression][json]") {
  const std::string text("{\"type\":\"pull\"}\0junk", 20);
  const auto decoded = decode_client_message(text);
  REQUIRE_FALSE(decoded.ok());
  CHECK(decoded.error().code == "bad_message");
  CommuteSession session;
  CHECK_FALSE(from_json(std::string("{\"station\":\"Radlett\"}\0{", 23), session).empty());
}

TEST_CASE("bug: the HLC could go backwards or overflow at the top of its range", "[regression][hlc]") {
  HlcClock past_the_end([] { return Hlc::kMaxMillis + 5; }, Hlc{Hlc::kMaxMillis, 7});
  CHECK(past_the_end.tick() == Hlc{Hlc::kMaxMillis, 8});

  HlcClock saturated([] { return std::int64_t{0}; }, Hlc{Hlc::kMaxMillis, Hlc::kMaxCounter});
  const Hlc top = saturated.tick();
  CHECK(top == Hlc{Hlc::kMaxMillis, Hlc::kMaxCounter});
  CHECK(Hlc::parse(top.to_string()) == top);
}

TEST_CASE("bug: an empty string_view was bound as NULL", "[regression][sqlite]") {
  sqlite::Database db(":memory:");
  auto statement = db.cached("SELECT typeof(?)");
  statement->bind(1, std::string_view{});
  REQUIRE(statement->step());
  CHECK(statement->column_text(0) == "text");
}

TEST_CASE("bug: welcome's protocol was narrowed without clamping", "[regression][protocol]") {
  const auto decoded = decode_server_message(
      R"({"type":"welcome","protocol":4294967297,"device_id":"d","user_id":"u","role":"officer",)"
      R"("acked_seq":0,"server_time":"2026-11-26T09:30:00Z","wards":[],"stations":[]})");
  REQUIRE(decoded.ok());
  CHECK(std::get<Welcome>(*decoded).protocol != kProtocolVersion);
}

TEST_CASE("bug: huge whole numbers were called fractions", "[regression][json]") {
  Visit visit;
  const auto errors = from_json(
      R"({"household_id":"0192f5e4-7c1a-7d3e-9b2a-4c5d6e7f8a9b","visited_at":"2026-11-26T09:30:00Z",)"
      R"("status":"completed","smoke_detectors_fitted":1e300})",
      visit);
  REQUIRE(errors.empty());
  CHECK(visit.smoke_detectors_fitted == std::numeric_limits<std::int64_t>::max());
  CHECK(check_visit(visit, ReferenceLists::defaults()).front().field == "smoke_detectors_fitted");
}

TEST_CASE("repeated keys are refused rather than read one way here and another in JavaScript", "[regression][json]") {
  const auto envelope = decode_client_message(R"({"type":"pull","limit":500,"limit":0})");
  REQUIRE_FALSE(envelope.ok());
  CHECK(envelope.error().code == "bad_message");

  const auto push = decode_client_message(
      R"({"type":"push","changes":[{"seq":1,"entity":"visit","op":"delete","id":"0192f5e4-7c1a-7d3e-9b2a-4c5d6e7f8a9b",)"
      R"("hlc":"001764149400000-00000","op":"upsert"}]})");
  REQUIRE(push.ok());
  const auto& change = std::get<ReceivedPush>(*push).changes.at(0);
  CHECK_FALSE(change.change.has_value());
  CHECK(change.error.field == "op");

  Visit visit;
  const auto errors = from_json(
      R"({"household_id":"0192f5e4-7c1a-7d3e-9b2a-4c5d6e7f8a9b","visited_at":"2026-11-26T09:30:00Z",)"
      R"("status":"completed","notes":"a","notes":"b"})",
      visit);
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].field == "notes");
}

TEST_CASE("bug: case-insensitive search folded ASCII letters only", "[regression][text]") {
  CHECK(fold_case("CAFÉ Row, WD6 1AA") == "café row, wd6 1aa");
  CHECK(fold_case("ŴYTH ŶNYS ĹAŇ ŸVES") == "ŵyth ŷnys ĺaň ÿves");
  CHECK(fold_case("already lower, 123 × ß") == "already lower, 123 × ß");
}
