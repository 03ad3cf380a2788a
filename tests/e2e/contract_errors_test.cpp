// protocol.md §6 and §9 "envelope versus record", and §1 "plain JSON", over the wire against the
// real sync-server: malformed frames get bad_message, change nothing, and leave the
// connection usable; well-formed frames in any field order with unknown fields are accepted.
#include "contract_support.h"

#include <catch2/catch.hpp>

#include <chrono>
#include <string>
#include <vector>

namespace {

using namespace std::chrono_literals;
using namespace contract_test;

std::size_t array_size(const rapidjson::Value& object, const char* name) {
  const auto member = object.FindMember(name);
  return member != object.MemberEnd() && member->value.IsArray() ? member->value.Size() : 999999;
}

// One valid household change with `seq`, as JSON.
std::string household_change(const std::string& seq, int n) {
  return R"({"seq":)" + seq + R"(,"entity":"household","op":"upsert","id":")" + uuid(n) + R"(","hlc":")" +
         hlc_now() + R"(","data":{"address":")" + std::to_string(n) +
         R"( Example Road","postcode":"WD6 1WA","ward":"Elstree"}})";
}

const std::string kPull = R"({"type":"pull","cursor":"","limit":100})";

// A coordinator's session after hello.
struct Session {
  ServerProcess server;
  WsTestClient client;
  Session() {
    server.start();
    REQUIRE(client.connect(server.port(), server.enroll("tab-cat-1", "coord.cat", "coordinator")).ok);
    REQUIRE(str(parse(client.request(R"({"type":"hello","protocol":1,"device_id":"tab-cat-1"})")), "type") ==
            "welcome");
  }
};

}  // namespace

TEST_CASE("malformed frames get bad_message, not fatal, and the connection stays usable", "[e2e][contract][errors]") {
  // protocol.md §6: a bad frame must not cost the device its connection nor change anything.
  Session session;
  const std::vector<std::string> frames = {
      "this is not JSON",
      R"({"type":"pull","cursor":"")",  // truncated
      R"([{"type":"pull","cursor":"","limit":10}])",
      R"("pull")",
      "42",
      "null",
      R"({"type":"subscribe"})",
      R"({"cursor":"","limit":10})",  // no type
      R"({"type":7})",
  };
  for (const auto& frame : frames) {
    INFO(frame);
    const auto error = parse(session.client.request(frame));
    CHECK(str(error, "type") == "error");
    CHECK(str(error, "code") == "bad_message");
    CHECK(flag(error, "fatal") == false);
    CHECK_FALSE(str(error, "message").empty());
    const auto page = parse(session.client.request(kPull));
    CHECK(str(page, "type") == "changes");
  }
}

TEST_CASE("envelope fields of the wrong type or out of range get bad_message and change nothing", "[e2e][contract][errors]") {
  // protocol.md §6 and §9: envelope problems refuse the whole message, so nothing of it may be applied.
  Session session;
  const std::vector<std::string> frames = {
      R"({"type":"pull","cursor":5,"limit":10})",
      R"({"type":"pull","cursor":"","limit":"10"})",
      R"({"type":"pull","cursor":"","limit":0})",
      R"({"type":"pull","cursor":"","limit":1001})",
      R"({"type":"push","changes":"none"})",
      R"({"type":"push","changes":{}})",
      R"({"type":"push","changes":[]})",
      R"({"type":"push"})",
      R"({"type":"push","changes":[)" + household_change("1", 1) + R"(,7]})",
      R"({"type":"push","changes":[)" + household_change("\"1\"", 1) + "]}",
      R"({"type":"push","changes":[)" + household_change("0", 1) + "]}",
      R"({"type":"push","changes":[)" + household_change("-1", 1) + "]}",
      R"({"type":"push","changes":[)" + household_change("1.5", 1) + "]}",
      R"({"type":"push","changes":[)" + household_change("1", 1) + "," + household_change("null", 2) + "]}",
      R"({"type":"hello","protocol":"1","device_id":"tab-cat-1"})",
  };
  for (const auto& frame : frames) {
    INFO(frame.substr(0, 200));
    const auto error = parse(session.client.request(frame));
    CHECK(str(error, "type") == "error");
    CHECK(str(error, "code") == "bad_message");
    CHECK(flag(error, "fatal") == false);
  }
  const auto page = parse(session.client.request(kPull));
  CHECK(array_size(page, "changes") == 0);  // not one of those households was applied
  const auto ack = parse(session.client.request(R"({"type":"push","changes":[)" + household_change("1", 3) + "]}"));
  CHECK(str(ack, "type") == "ack");
  CHECK(num(ack, "acked_seq") == 1);  // seq 1 was still free
}

TEST_CASE("a push of 1000 changes is accepted and one of 1001 is bad_message", "[e2e][contract][errors]") {
  // protocol.md §3.1 and §9.2: a batch holds 1 to 1000 changes; the bound is exact on both sides.
  Session session;
  const auto batch = [](int first_seq, int count) {
    std::string text = R"({"type":"push","changes":[)";
    for (int i = 0; i < count; ++i) {
      text += (i ? "," : "") + household_change(std::to_string(first_seq + i), first_seq + i);
    }
    return text + "]}";
  };
  const auto too_many = parse(session.client.request(batch(1, 1001)));
  CHECK(str(too_many, "code") == "bad_message");
  CHECK(flag(too_many, "fatal") == false);
  const auto ack = parse(session.client.request(batch(1, 1000)));
  CHECK(str(ack, "type") == "ack");
  CHECK(num(ack, "acked_seq") == 1000);
  CHECK(array_size(ack, "rejected") == 0);
}

TEST_CASE("messages with fields in any order, unknown fields and optional fields left out are accepted", "[e2e][contract][errors]") {
  // protocol.md §1: plain JSON with forward compatibility, so a newer client still syncs.
  ServerProcess server;
  server.start();
  WsTestClient client;
  REQUIRE(client.connect(server.port(), server.enroll("tab-cat-1", "coord.cat", "coordinator")).ok);
  const auto welcome = parse(client.request(
      R"({"device_id":"tab-cat-1","future_field":{"nested":[1,2]},"protocol":1,"type":"hello"})"));  // no app_version
  CHECK(str(welcome, "type") == "welcome");

  const auto ack = parse(client.request(
      R"({"changes":[{"data":{"ward":"Elstree","postcode":"wd6 1wa","address":"1 Example Road","colour":"blue"},)"
      R"("hlc":")" + hlc_now() + R"(","id":")" + uuid(1) + R"(","op":"upsert","entity":"household","seq":1,"x":true}],)"
      R"("type":"push","trace":"abc"})"));
  CHECK(str(ack, "type") == "ack");
  CHECK(num(ack, "acked_seq") == 1);
  CHECK(array_size(ack, "rejected") == 0);

  const auto page = parse(client.request(R"({"type":"pull","extra":null})"));  // cursor and limit left out
  CHECK(str(page, "type") == "changes");
  REQUIRE(array_size(page, "changes") == 1);
  CHECK(str(page["changes"][0], "id") == uuid(1));
  const std::string text = *client.request(kPull);  // no serializer wrappers on the wire
  for (const char* wrapper : {"value0", "nullopt", "ptr_wrapper", "polymorphic_id"}) {
    CHECK(text.find(wrapper) == std::string::npos);
  }
}

// The server (Boost.Beast's RFC 6455 UTF-8 check on text frames) fails the connection with
// close code 1007 instead of answering bad_message, as protocol.md §1.3 and §9.14 specify.
TEST_CASE("a text frame that is not valid UTF-8 closes the connection with 1007", "[e2e][contract][errors]") {
  // RFC 6455 §8.1 requires failing the connection on invalid UTF-8 in a text frame, before
  // the message reaches the protocol; docs/protocol.md (§6, closing) records this exception
  // to bad_message. Nothing is applied, and a fresh connection works.
  Session session;
  const auto answer = session.client.request("{\"type\":\"pull\",\"cursor\":\"\xC3\x28\"}");
  CHECK_FALSE(answer.has_value());
  CHECK(session.client.close_code() == 1007);
  WsTestClient again;
  REQUIRE(again.connect(session.server.port(), session.server.enroll("tab-cat-2", "coord.cat", "coordinator")).ok);
  REQUIRE(str(parse(again.request(R"({"type":"hello","protocol":1,"device_id":"tab-cat-2"})")), "type") == "welcome");
  CHECK(str(parse(again.request(kPull)), "type") == "changes");
}
