// Protocol messages must survive encode/decode unchanged, and decoding must split envelope
// problems (bad_message, nothing applied) from one change's problems (that change rejected).
#include <catch2/catch.hpp>

#include <string>
#include <variant>

#include "safer/protocol_json.h"
#include "safer/record_json.h"

using namespace safer;

namespace {

const std::string kId = "0192f5e4-7c1a-7d3e-9b2a-4c5d6e7f8a9b";
const std::string kOtherId = "0192f5e4-7c1a-7d3e-9b2a-4c5d6e7f8aa0";
const Hlc kHlc{1'764'149'400'000, 3};

Visit sample_visit() {
  Visit visit;
  visit.household_id = kId;
  visit.visited_at = 1'795'685'400'123;
  visit.status = VisitStatus::no_answer;
  visit.notes = "Card left \xE2\x80\x94 try again Friday";
  return visit;
}

Household sample_household() {
  Household household;
  household.address = "4 Fictional Row";
  household.postcode = "EN6 2AB";
  household.ward = "Shenley";
  household.assigned_to = std::optional<std::string>{};
  return household;
}

CommuteSession sample_session() {
  CommuteSession session;
  session.station = "Potters Bar";
  session.started_at = 1'795'680'000'000;
  session.cards_distributed = 75;
  session.messages = {CommuteMessage::home_security};
  return session;
}

Change upsert(Entity entity, const std::string& id, RecordData data) {
  return Change{entity, Op::upsert, id, kHlc, std::move(data)};
}

// A change object as a device writes it, with `data` as raw JSON (empty: no data field).
std::string change_json(std::int64_t seq, const std::string& entity, const std::string& op,
                        const std::string& id, const std::string& hlc, const std::string& data) {
  std::string out = "{\"seq\":" + std::to_string(seq) + ",\"entity\":\"" + entity + "\",\"op\":\"" +
                    op + "\",\"id\":\"" + id + "\",\"hlc\":\"" + hlc + "\"";
  if (!data.empty()) out += ",\"data\":" + data;
  return out + "}";
}

std::string good_change(std::int64_t seq) {
  return change_json(seq, "visit", "upsert", kId, kHlc.to_string(), to_json(sample_visit()));
}

// A push of a good change 1, `middle` as change 2 and a good change 3.
std::string push_around(const std::string& middle) {
  return "{\"type\":\"push\",\"changes\":[" + good_change(1) + "," + middle + "," + good_change(3) + "]}";
}

std::string push_of(std::size_t count) {
  Push push;
  for (std::size_t i = 0; i < count; ++i) {
    push.changes.push_back({static_cast<std::int64_t>(i + 1), Change{Entity::visit, Op::remove, kId, kHlc, {}}});
  }
  return to_json(push);
}

void require_bad_message(const std::string& text, bool server_side = true) {
  INFO(text.substr(0, 300));
  if (server_side) {
    const auto decoded = decode_client_message(text);
    REQUIRE_FALSE(decoded.ok());
    CHECK(decoded.error().code == "bad_message");
    CHECK_FALSE(decoded.error().message.empty());
  } else {
    const auto decoded = decode_server_message(text);
    REQUIRE_FALSE(decoded.ok());
    CHECK(decoded.error().code == "bad_message");
    CHECK_FALSE(decoded.error().message.empty());
  }
}

template <class Message>
Message client_round_trip(const std::string& text) {
  const auto decoded = decode_client_message(text);
  INFO(text);
  REQUIRE(decoded.ok());
  REQUIRE(std::holds_alternative<Message>(*decoded));
  return std::get<Message>(*decoded);
}

template <class Message>
Message server_round_trip(const std::string& text) {
  const auto decoded = decode_server_message(text);
  INFO(text);
  REQUIRE(decoded.ok());
  REQUIRE(std::holds_alternative<Message>(*decoded));
  return std::get<Message>(*decoded);
}

ReceivedPush decode_push(const std::string& text) { return client_round_trip<ReceivedPush>(text); }

void check_plain_json(const std::string& text) {
  for (const char* wrapper : {"value0", "ptr_wrapper", "nullopt", "polymorphic", "cereal"}) {
    CHECK_THAT(text, !Catch::Contains(wrapper));
  }
}

}  // namespace

TEST_CASE("hello, push and pull round trip", "[protocol_json]") {
  SECTION("hello") {
    const Hello hello{1, "tablet-07", "0.3.1"};
    const std::string text = to_json(hello);
    check_plain_json(text);
    const auto decoded = client_round_trip<Hello>(text);
    CHECK(decoded.protocol == 1);
    CHECK(decoded.device_id == "tablet-07");
    CHECK(decoded.app_version == "0.3.1");
  }
  SECTION("push") {
    Push push;
    push.changes.push_back({18, upsert(Entity::household, kId, sample_household())});
    push.changes.push_back({19, upsert(Entity::visit, kOtherId, sample_visit())});
    push.changes.push_back({20, upsert(Entity::commute_session, kOtherId, sample_session())});
    push.changes.push_back({9'007'199'254'740'993, Change{Entity::visit, Op::remove, kId, Hlc{5, 99'999}, {}}});
    const std::string text = to_json(push);
    check_plain_json(text);
    const auto decoded = decode_push(text);
    REQUIRE(decoded.changes.size() == push.changes.size());
    for (std::size_t i = 0; i < push.changes.size(); ++i) {
      INFO("change " << i);
      CHECK(decoded.changes[i].seq == push.changes[i].seq);
      REQUIRE(decoded.changes[i].change.has_value());
      CHECK(*decoded.changes[i].change == push.changes[i].change);
      CHECK(decoded.changes[i].error.field.empty());
      CHECK(decoded.changes[i].error.message.empty());
    }
  }
  SECTION("pull") {
    const auto decoded = client_round_trip<Pull>(to_json(Pull{"opaque:cursor/42", 250}));
    CHECK(decoded.cursor == "opaque:cursor/42");
    CHECK(decoded.limit == 250);
  }
}

TEST_CASE("welcome, ack, changes and error round trip", "[protocol_json]") {
  SECTION("welcome") {
    Welcome welcome;
    welcome.device_id = "tablet-07";
    welcome.user_id = "pc.4821";
    welcome.role = Role::pcso;
    welcome.acked_seq = 17;
    welcome.server_time = 1'795'685'400'123;
    welcome.wards = {"Elstree", "Bentley Heath & The Royds"};
    welcome.stations = {"Radlett"};
    const std::string text = to_json(welcome);
    check_plain_json(text);
    CHECK_THAT(text, Catch::Contains("2026-11-26T09:30:00.123Z"));
    const auto decoded = server_round_trip<Welcome>(text);
    CHECK(decoded.protocol == 1);
    CHECK(decoded.device_id == welcome.device_id);
    CHECK(decoded.user_id == welcome.user_id);
    CHECK(decoded.role == Role::pcso);
    CHECK(decoded.acked_seq == 17);
    CHECK(decoded.server_time == welcome.server_time);
    CHECK(decoded.wards == welcome.wards);
    CHECK(decoded.stations == welcome.stations);
  }
  SECTION("ack") {
    Ack ack;
    ack.acked_seq = 20;
    ack.rejected = {{19, "invalid", "smoke_detectors_fitted must be 0 when status is no_answer",
                     "smoke_detectors_fitted"},
                    {20, "forbidden", "the household is not in your scope", ""}};
    const std::string text = to_json(ack);
    check_plain_json(text);
    // The field of a rejection is left out when no single field is at fault.
    CHECK(text.find("\"field\"") == text.rfind("\"field\""));
    const auto decoded = server_round_trip<Ack>(text);
    CHECK(decoded.acked_seq == 20);
    CHECK(decoded.rejected == ack.rejected);
    CHECK(server_round_trip<Ack>(to_json(Ack{7, {}})).rejected.empty());
    CHECK(server_round_trip<Ack>(R"({"type":"ack","acked_seq":7})").acked_seq == 7);
  }
  SECTION("changes") {
    ChangesPage page;
    page.changes.push_back({upsert(Entity::household, kId, sample_household()), "tablet-01"});
    page.changes.push_back({Change{Entity::visit, Op::remove, kOtherId, kHlc, {}}, "tablet-02"});
    page.changes.push_back({upsert(Entity::commute_session, kOtherId, sample_session()), "tablet-03"});
    page.cursor = "c:991";
    page.has_more = true;
    const std::string text = to_json(page);
    check_plain_json(text);
    const auto decoded = server_round_trip<ChangesPage>(text);
    REQUIRE(decoded.changes.size() == 3);
    for (std::size_t i = 0; i < 3; ++i) {
      CHECK(decoded.changes[i].change == page.changes[i].change);
      CHECK(decoded.changes[i].device_id == page.changes[i].device_id);
    }
    CHECK(decoded.cursor == "c:991");
    CHECK(decoded.has_more);
    const auto empty = server_round_trip<ChangesPage>(to_json(ChangesPage{{}, "c:1", false}));
    CHECK(empty.changes.empty());
    CHECK_FALSE(empty.has_more);
  }
  SECTION("error") {
    const auto gap = server_round_trip<ErrorMessage>(to_json(ErrorMessage{"seq_gap", "expected seq 18", false, 18}));
    CHECK(gap.code == "seq_gap");
    CHECK(gap.message == "expected seq 18");
    CHECK_FALSE(gap.fatal);
    CHECK(gap.expected == std::optional<std::int64_t>{18});
    const std::string fatal_text = to_json(ErrorMessage{"device_mismatch", "wrong device", true, std::nullopt});
    CHECK_THAT(fatal_text, !Catch::Contains("expected"));
    const auto fatal = server_round_trip<ErrorMessage>(fatal_text);
    CHECK(fatal.fatal);
    CHECK_FALSE(fatal.expected.has_value());
  }
}

TEST_CASE("frames that are not a JSON object with a known type are bad_message", "[protocol_json]") {
  for (const std::string& text : {std::string(""), std::string("not json"), std::string("{"),
                                 std::string("[]"), std::string("[{\"type\":\"hello\"}]"),
                                 std::string("\"hello\""), std::string("null"), std::string("{}"),
                                 std::string(R"({"type":null})"), std::string(R"({"type":1})"),
                                 std::string(R"({"type":"Hello","protocol":1,"device_id":"d"})"),
                                 std::string(R"({"type":"welcome"})"), std::string(R"({"type":"goodbye"})"),
                                 std::string("{\"type\":\"hello\",\"protocol\":1,\"device_id\":\"\xC3\"}"),
                                 std::string(R"({"type":"hello","protocol":1,"device_id":"d"} x)")}) {
    require_bad_message(text);
  }
  for (const std::string& text : {std::string("[]"), std::string(R"({"type":"hello"})"),
                                 std::string(R"({"type":"push","changes":[]})")}) {
    require_bad_message(text, false);
  }
}

TEST_CASE("hello fields of the wrong type are bad_message naming the field", "[protocol_json]") {
  for (const auto& [text, field] : std::initializer_list<std::pair<const char*, const char*>>{
           {R"({"type":"hello","device_id":"d"})", "protocol"},
           {R"({"type":"hello","protocol":"1","device_id":"d"})", "protocol"},
           {R"({"type":"hello","protocol":1})", "device_id"},
           {R"({"type":"hello","protocol":1,"device_id":7})", "device_id"},
           {R"({"type":"hello","protocol":1,"device_id":"d","app_version":null})", "app_version"}}) {
    const auto decoded = decode_client_message(text);
    INFO(text);
    REQUIRE_FALSE(decoded.ok());
    CHECK(decoded.error().code == "bad_message");
    CHECK(decoded.error().field == field);
    CHECK_THAT(decoded.error().message, Catch::Contains(field));
  }
  // Another protocol version still decodes: the server answers unsupported_protocol.
  CHECK(client_round_trip<Hello>(R"({"type":"hello","protocol":2,"device_id":"d"})").protocol == 2);
  CHECK(client_round_trip<Hello>(R"({"app_version":"x","device_id":"d","protocol":1,"type":"hello"})").device_id == "d");
}

TEST_CASE("push envelopes out of bounds are bad_message", "[protocol_json]") {
  require_bad_message(R"({"type":"push"})");
  require_bad_message(R"({"type":"push","changes":[]})");
  require_bad_message(R"({"type":"push","changes":{}})");
  require_bad_message(R"({"type":"push","changes":"x"})");
  require_bad_message(R"({"type":"push","changes":null})");
  require_bad_message("{\"type\":\"push\",\"changes\":[" + good_change(1) + ",5]}");
  require_bad_message("{\"type\":\"push\",\"changes\":[" + good_change(1) + ",[]]}");
  require_bad_message(push_of(1001));
  CHECK(decode_push(push_of(1000)).changes.size() == 1000);
  CHECK(decode_push(push_of(1)).changes.size() == 1);
}

TEST_CASE("a seq that is not a positive integer is bad_message", "[protocol_json]") {
  for (const char* seq : {"0", "-1", "\"5\"", "1.5", "null", "true"}) {
    std::string change = good_change(2);
    change.replace(change.find("\"seq\":2"), 7, std::string("\"seq\":") + seq);
    INFO(change);
    require_bad_message(push_around(change));
    const auto decoded = decode_client_message(push_around(change));
    REQUIRE_FALSE(decoded.ok());
    CHECK(decoded.error().field == "seq");
  }
  std::string no_seq = good_change(2);
  no_seq.erase(no_seq.find("\"seq\":2,"), 8);
  require_bad_message(push_around(no_seq));
  // A whole number written as a decimal is still an integer.
  std::string decimal = good_change(2);
  decimal.replace(decimal.find("\"seq\":2"), 7, "\"seq\":2.0");
  CHECK(decode_push(push_around(decimal)).changes[1].seq == 2);
}

TEST_CASE("pull cursor and limit are checked", "[protocol_json]") {
  const auto defaults = client_round_trip<Pull>(R"({"type":"pull"})");
  CHECK(defaults.cursor.empty());
  CHECK(defaults.limit == 500);
  CHECK(client_round_trip<Pull>(R"({"type":"pull","cursor":"","limit":1})").limit == 1);
  CHECK(client_round_trip<Pull>(R"({"type":"pull","cursor":"","limit":1000})").limit == 1000);
  CHECK(client_round_trip<Pull>(R"({"type":"pull","limit":3.0})").limit == 3);
  for (const auto& [text, field] : std::initializer_list<std::pair<const char*, const char*>>{
           {R"({"type":"pull","cursor":5})", "cursor"},
           {R"({"type":"pull","cursor":null})", "cursor"},
           {R"({"type":"pull","cursor":["a"]})", "cursor"},
           {R"({"type":"pull","limit":0})", "limit"},
           {R"({"type":"pull","limit":-1})", "limit"},
           {R"({"type":"pull","limit":1001})", "limit"},
           {R"({"type":"pull","limit":"x"})", "limit"},
           {R"({"type":"pull","limit":"500"})", "limit"},
           {R"({"type":"pull","limit":2.5})", "limit"},
           {R"({"type":"pull","limit":1e12})", "limit"}}) {
    const auto decoded = decode_client_message(text);
    INFO(text);
    REQUIRE_FALSE(decoded.ok());
    CHECK(decoded.error().code == "bad_message");
    CHECK(decoded.error().field == field);
  }
}

// Why: capabilities and the evict op are a compatible addition (protocol.md §10 rules 1, 3,
// 4): absent lists decode as empty and are not written, so a protocol-1 peer sees nothing new.
TEST_CASE("capabilities and evictions round trip, and stay out of protocol-1 messages", "[protocol_json][evict]") {
  const Hello plain{1, "tablet-07", "0.3.1"};
  CHECK_THAT(to_json(plain), !Catch::Contains("capabilities"));
  CHECK(client_round_trip<Hello>(to_json(plain)).capabilities.empty());
  const Hello announcing{1, "tablet-07", "0.3.1", {"evict", "later-thing"}};
  const auto hello = client_round_trip<Hello>(to_json(announcing));
  CHECK(hello.capabilities == std::vector<std::string>{"evict", "later-thing"});
  CHECK(hello.announces(safer::capabilities::kEvict));
  CHECK_FALSE(plain.announces(safer::capabilities::kEvict));
  CHECK_FALSE(decode_client_message(R"({"type":"hello","protocol":1,"device_id":"t","capabilities":"evict"})").ok());

  Welcome welcome;
  welcome.device_id = "tablet-07";
  welcome.user_id = "pc.4821";
  CHECK_THAT(to_json(welcome), !Catch::Contains("capabilities"));
  welcome.capabilities = {"evict"};
  CHECK(server_round_trip<Welcome>(to_json(welcome)).capabilities == std::vector<std::string>{"evict"});

  ChangesPage page;
  page.changes.push_back({upsert(Entity::household, kId, sample_household()), "tablet-01"});
  safer::PulledChange eviction;
  eviction.evict = true;
  eviction.change.entity = Entity::household;
  eviction.change.id = kOtherId;
  page.changes.push_back(eviction);
  page.cursor = "c:2";
  const std::string text = to_json(page);
  CHECK_THAT(text, Catch::Contains(std::string(R"({"entity":"household","op":"evict","id":")") + kOtherId + R"("})"));
  const auto decoded = server_round_trip<ChangesPage>(text);
  REQUIRE(decoded.changes.size() == 2);
  CHECK_FALSE(decoded.changes[0].evict);
  CHECK(decoded.changes[1].evict);
  CHECK(decoded.changes[1].change.id == kOtherId);
  // Only a household can be evicted, by a canonical id.
  for (const char* bad : {R"({"type":"changes","changes":[{"entity":"visit","op":"evict","id":"0192f5e4-7c1a-7d3e-9b2a-4c5d6e7f8a9b"}],"cursor":"c","has_more":false})",
                          R"({"type":"changes","changes":[{"entity":"household","op":"evict","id":"X"}],"cursor":"c","has_more":false})"}) {
    INFO(bad);
    CHECK_FALSE(decode_server_message(bad).ok());
  }
}

TEST_CASE("a page's remaining estimate round trips, stays out when unset, and a bad one is ignored", "[protocol_json][pull_progress]") {
  ChangesPage page{{}, "c:3", true};
  CHECK_THAT(to_json(page), !Catch::Contains("remaining"));
  CHECK_FALSE(server_round_trip<ChangesPage>(to_json(page)).remaining.has_value());
  for (const std::int64_t remaining : {std::int64_t{0}, std::int64_t{1}, std::int64_t{59'500}}) {
    page.remaining = remaining;
    CHECK(server_round_trip<ChangesPage>(to_json(page)).remaining == std::optional(remaining));
  }
  // An estimate is only for a progress bar: one that is not a count leaves the page readable.
  for (const char* remaining : {"-1", "1.5", "\"12\"", "null", "true"}) {
    INFO(remaining);
    const auto decoded = server_round_trip<ChangesPage>(std::string(R"({"type":"changes","changes":[],"cursor":"c","has_more":true,"remaining":)") +
                                                        remaining + "}");
    CHECK_FALSE(decoded.remaining.has_value());
    CHECK(decoded.has_more);
  }
}
