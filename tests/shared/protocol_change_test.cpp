// protocol.md §9.2: a problem inside one change of a push rejects that change alone, naming the
// field, while its neighbours decode; a server message with a bad part is bad_message.
#include <catch2/catch.hpp>

#include <string>
#include <variant>

#include "safer/protocol_json.h"
#include "safer/record_json.h"

using namespace safer;

namespace {

const std::string kId = "0192f5e4-7c1a-7d3e-9b2a-4c5d6e7f8a9b";
const std::string kHlc = "001764149400000-00003";

std::string visit_data(const std::string& smoke = "0") {
  return R"({"household_id":")" + kId +
         R"(","visited_at":"2026-11-26T09:30:00Z","status":"completed","smoke_detectors_fitted":)" +
         smoke + "}";
}

// A change object with `data` as raw JSON (empty: no data field) and any extra raw members.
std::string change_json(std::int64_t seq, const std::string& entity, const std::string& op,
                        const std::string& id, const std::string& hlc, const std::string& data,
                        const std::string& extra = "") {
  std::string out = "{\"seq\":" + std::to_string(seq) + ",\"entity\":\"" + entity + "\",\"op\":\"" +
                    op + "\",\"id\":\"" + id + "\",\"hlc\":\"" + hlc + "\"";
  if (!data.empty()) out += ",\"data\":" + data;
  return out + extra + "}";
}

std::string good_change(std::int64_t seq) { return change_json(seq, "visit", "upsert", kId, kHlc, visit_data()); }

ReceivedPush decode_push_around(const std::string& middle) {
  const std::string text =
      "{\"type\":\"push\",\"changes\":[" + good_change(1) + "," + middle + "," + good_change(3) + "]}";
  const auto decoded = decode_client_message(text);
  INFO(text);
  REQUIRE(decoded.ok());
  REQUIRE(std::holds_alternative<ReceivedPush>(*decoded));
  return std::get<ReceivedPush>(*decoded);
}

// Decodes a push whose change 2 is `middle`, expects it refused for `field` and its
// neighbours decoded; returns the refusal's message.
std::string refused_for(const std::string& middle, const std::string& field) {
  const ReceivedPush push = decode_push_around(middle);
  REQUIRE(push.changes.size() == 3);
  for (std::size_t i : {0u, 2u}) {
    CHECK(push.changes[i].change.has_value());
    CHECK(push.changes[i].error.field.empty());
  }
  const ReceivedChange& refused = push.changes[1];
  CHECK(refused.seq == 2);
  CHECK_FALSE(refused.change.has_value());
  CHECK(refused.error.field == field);
  CHECK_THAT(refused.error.message, Catch::Contains(field));
  return refused.error.message;
}

}  // namespace

TEST_CASE("an unknown entity or op refuses that change alone", "[protocol_json][change]") {
  const auto entity_message = refused_for(change_json(2, "person", "upsert", kId, kHlc, visit_data()), "entity");
  CHECK_THAT(entity_message, Catch::Contains("household, visit or commute_session"));
  refused_for(change_json(2, "Visit", "upsert", kId, kHlc, visit_data()), "entity");
  const auto op_message = refused_for(change_json(2, "visit", "remove", kId, kHlc, ""), "op");
  CHECK_THAT(op_message, Catch::Contains("upsert or delete"));
  refused_for(change_json(2, "visit", "UPSERT", kId, kHlc, visit_data()), "op");
  refused_for(R"({"seq":2,"op":"upsert","id":")" + kId + R"(","hlc":")" + kHlc + R"(","data":{}})", "entity");
  refused_for(R"({"seq":2,"entity":7,"op":"upsert","id":")" + kId + R"(","hlc":")" + kHlc + R"("})", "entity");
}

TEST_CASE("an id that is not a lowercase canonical UUID refuses that change", "[protocol_json][change]") {
  for (const std::string& id : {std::string("0192F5E4-7C1A-7D3E-9B2A-4C5D6E7F8A9B"), std::string(""),
                               std::string("0192f5e47c1a7d3e9b2a4c5d6e7f8a9b"), std::string("42")}) {
    INFO("'" << id << "'");
    refused_for(change_json(2, "visit", "upsert", id, kHlc, visit_data()), "id");
  }
  refused_for(R"({"seq":2,"entity":"visit","op":"delete","hlc":")" + kHlc + R"("})", "id");
}

TEST_CASE("a malformed hlc refuses that change", "[protocol_json][change]") {
  for (const std::string& hlc : {std::string("1764149400000-3"), std::string("001764149400000-0003"),
                                std::string("001764149400000:00003"), std::string("")}) {
    INFO("'" << hlc << "'");
    refused_for(change_json(2, "visit", "upsert", kId, hlc, visit_data()), "hlc");
  }
  refused_for(R"({"seq":2,"entity":"visit","op":"delete","id":")" + kId + R"(","hlc":1764149400000})", "hlc");
}

TEST_CASE("an upsert needs its data as an object, a delete needs none", "[protocol_json][change]") {
  refused_for(change_json(2, "visit", "upsert", kId, kHlc, ""), "data");
  refused_for(change_json(2, "visit", "upsert", kId, kHlc, "null"), "data");
  refused_for(change_json(2, "visit", "upsert", kId, kHlc, "[]"), "data");
  refused_for(change_json(2, "visit", "upsert", kId, kHlc, "\"{}\""), "data");

  const ReceivedPush push = decode_push_around(change_json(2, "commute_session", "delete", kId, kHlc, ""));
  REQUIRE(push.changes[1].change.has_value());
  const Change& deleted = *push.changes[1].change;
  CHECK(deleted.entity == Entity::commute_session);
  CHECK(deleted.op == Op::remove);
  CHECK(deleted.id == kId);
  CHECK(deleted.hlc == Hlc{1'764'149'400'000, 3});
  CHECK_FALSE(deleted.data.has_value());
  CHECK(push.changes[1].error.field.empty());

  // Data sent with a delete is ignored: a tombstone carries no record.
  const ReceivedPush with_data = decode_push_around(change_json(2, "visit", "delete", kId, kHlc, visit_data("\"x\"")));
  REQUIRE(with_data.changes[1].change.has_value());
  CHECK_FALSE(with_data.changes[1].change->data.has_value());
}

TEST_CASE("a bad field inside data refuses that change, naming the field", "[protocol_json][change]") {
  refused_for(change_json(2, "visit", "upsert", kId, kHlc, visit_data("\"3\"")), "smoke_detectors_fitted");
  refused_for(change_json(2, "visit", "upsert", kId, kHlc, visit_data("3.5")), "smoke_detectors_fitted");
  refused_for(change_json(2, "visit", "upsert", kId, kHlc, visit_data("null")), "smoke_detectors_fitted");
  refused_for(change_json(2, "household", "upsert", kId, kHlc, R"({"postcode":"WD6 1WA","ward":"Elstree"})"),
              "address");
  refused_for(change_json(2, "commute_session", "upsert", kId, kHlc,
                          R"({"station":"Radlett","started_at":"2026-11-26T07:00:00Z","cards_distributed":true})"),
              "cards_distributed");
  // Data of another entity's shape: its required fields are missing.
  refused_for(change_json(2, "household", "upsert", kId, kHlc, visit_data()), "address");
  // Several problems: the first field is named, every message is kept.
  const auto message = refused_for(
      change_json(2, "visit", "upsert", kId, kHlc, R"({"status":"done","notes":5})"), "household_id");
  CHECK_THAT(message, Catch::Contains("status") && Catch::Contains("notes") && Catch::Contains("visited_at"));
}

TEST_CASE("out-of-range values decode and are left for validation to reject", "[protocol_json][change]") {
  const ReceivedPush push = decode_push_around(change_json(2, "visit", "upsert", kId, kHlc, visit_data("11")));
  REQUIRE(push.changes[1].change.has_value());
  REQUIRE(push.changes[1].change->data.has_value());
  CHECK(std::get<Visit>(*push.changes[1].change->data).smoke_detectors_fitted == 11);
}

TEST_CASE("decoded changes keep entity, data kind and unknown fields out", "[protocol_json][change]") {
  const std::string household = R"({"address":"1 Test Lane","postcode":"wd61wa","ward":"Elstree","recorded_by":"x"})";
  const ReceivedPush push = decode_push_around(
      change_json(2, "household", "upsert", kId, kHlc, household, R"(,"future":{"a":[1,{"b":null}]})"));
  REQUIRE(push.changes[1].change.has_value());
  const Change& change = *push.changes[1].change;
  CHECK(change.entity == Entity::household);
  REQUIRE(change.data.has_value());
  CHECK(entity_of(*change.data) == Entity::household);
  // Decoding does not normalise: that is validation's job.
  CHECK(std::get<Household>(*change.data).postcode == "wd61wa");
  CHECK(push.changes[0].change->entity == Entity::visit);
  CHECK(std::holds_alternative<Visit>(*push.changes[0].change->data));
}

TEST_CASE("server messages with a bad part are bad_message", "[protocol_json]") {
  const std::string welcome_fields =
      R"("protocol":1,"device_id":"t1","user_id":"u1","role":"officer","acked_seq":0,"server_time":"2026-11-26T09:30:00.123Z")";
  const std::string good_welcome = "{\"type\":\"welcome\"," + welcome_fields + R"(,"wards":["Elstree"],"stations":[]})";
  REQUIRE(decode_server_message(good_welcome).ok());
  const std::string pulled = R"({"entity":"visit","op":"delete","id":")" + kId + R"(","hlc":")" + kHlc + R"(","device_id":"t2"})";
  REQUIRE(decode_server_message(R"({"type":"changes","changes":[)" + pulled + R"(],"cursor":"c","has_more":false})").ok());

  for (const auto& [text, field] : std::initializer_list<std::pair<std::string, std::string>>{
           {"{\"type\":\"welcome\"," + welcome_fields + R"(,"stations":[]})", "wards"},
           {"{\"type\":\"welcome\"," + welcome_fields + R"(,"wards":[1],"stations":[]})", "wards"},
           {"{\"type\":\"welcome\"," + welcome_fields + R"(,"wards":[],"stations":"Radlett"})", "stations"},
           {R"({"type":"welcome","protocol":1,"device_id":"t1","user_id":"u1","role":"chief","acked_seq":0,"server_time":"2026-11-26T09:30:00Z","wards":[],"stations":[]})", "role"},
           {R"({"type":"welcome","protocol":1,"device_id":"t1","user_id":"u1","role":"pcso","acked_seq":"0","server_time":"2026-11-26T09:30:00Z","wards":[],"stations":[]})", "acked_seq"},
           {R"({"type":"welcome","protocol":1,"device_id":"t1","user_id":"u1","role":"pcso","acked_seq":0,"server_time":"now","wards":[],"stations":[]})", "server_time"},
           {R"({"type":"ack"})", "acked_seq"},
           {R"({"type":"ack","acked_seq":1,"rejected":[{"seq":1,"code":"invalid"}]})", "message"},
           {R"({"type":"changes","changes":[],"has_more":false})", "cursor"},
           {R"({"type":"changes","changes":[],"cursor":"c"})", "has_more"},
           {R"({"type":"changes","changes":[],"cursor":"c","has_more":"no"})", "has_more"},
           {R"({"type":"changes","changes":[{"entity":"visit","op":"delete","id":"X","hlc":")" + kHlc + R"(","device_id":"t"}],"cursor":"c","has_more":false})", "id"},
           {R"({"type":"changes","changes":[)" + pulled.substr(0, pulled.find(",\"device_id\"")) + R"(}],"cursor":"c","has_more":false})", "device_id"},
           {R"({"type":"error","message":"m","fatal":false})", "code"},
           {R"({"type":"error","code":"seq_gap","fatal":"yes"})", "fatal"},
           {R"({"type":"error","code":"seq_gap","expected":"18"})", "expected"}}) {
    const auto decoded = decode_server_message(text);
    INFO(text);
    REQUIRE_FALSE(decoded.ok());
    CHECK(decoded.error().code == "bad_message");
    CHECK(decoded.error().field == field);
    CHECK_THAT(decoded.error().message, Catch::Contains(field));
  }
  for (const std::string& text : {std::string(R"({"type":"ack","acked_seq":1,"rejected":{}})"),
                                 std::string(R"({"type":"ack","acked_seq":1,"rejected":[1]})"),
                                 std::string(R"({"type":"changes","changes":{},"cursor":"c","has_more":false})"),
                                 std::string(R"({"type":"changes","changes":[1],"cursor":"c","has_more":false})"),
                                 std::string(R"({"type":"hello","protocol":1,"device_id":"d"})"),
                                 std::string(R"({"type":"pull"})")}) {
    const auto decoded = decode_server_message(text);
    INFO(text);
    REQUIRE_FALSE(decoded.ok());
    CHECK(decoded.error().code == "bad_message");
  }
}
