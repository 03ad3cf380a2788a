// protocol.md §2 (session) over the wire, against the real sync-server: hello before anything,
// the protocol version, the token's device, and what welcome carries.
#include "contract_support.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <optional>
#include <string>
#include <vector>

namespace {

using namespace std::chrono_literals;
using namespace contract_test;

// The strings of array member `name`; nullopt when it is not an array of strings.
std::optional<std::vector<std::string>> strings(const rapidjson::Value& object, const char* name) {
  const auto member = object.FindMember(name);
  if (member == object.MemberEnd() || !member->value.IsArray()) return std::nullopt;
  std::vector<std::string> out;
  for (const auto& item : member->value.GetArray()) {
    if (!item.IsString()) return std::nullopt;
    out.emplace_back(item.GetString(), item.GetStringLength());
  }
  return out;
}

// Seconds between `rfc3339` ("2026-11-26T09:30:00.123Z") and now; nullopt when not of that form.
std::optional<double> seconds_from_now(const std::string& rfc3339) {
  std::tm parts{};
  int millis = 0;
  if (rfc3339.size() != 24 || rfc3339.back() != 'Z' ||
      std::sscanf(rfc3339.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ", &parts.tm_year, &parts.tm_mon, &parts.tm_mday,
                  &parts.tm_hour, &parts.tm_min, &parts.tm_sec, &millis) != 7) {
    return std::nullopt;
  }
  parts.tm_year -= 1900;
  parts.tm_mon -= 1;
  const double then = static_cast<double>(timegm(&parts)) + millis / 1000.0;
  const double now = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  return then - now;
}

std::vector<std::string> sorted(std::vector<std::string> values) {
  std::sort(values.begin(), values.end());
  return values;
}

const std::vector<std::string> kDefaultWards = {
    "Aldenham East", "Aldenham West", "Bentley Heath & The Royds", "Borehamwood Brookmeadow",
    "Borehamwood Cowley Hill", "Borehamwood Hillside", "Borehamwood Kenilworth", "Bushey Heath",
    "Bushey North", "Bushey Park", "Bushey St James", "Elstree", "Potters Bar Furzefield",
    "Potters Bar Oakmere", "Potters Bar Parkfield", "Shenley"};
const std::vector<std::string> kDefaultStations = {"Potters Bar", "Elstree & Borehamwood", "Radlett"};

}  // namespace

TEST_CASE("anything before hello gets hello_required, not fatal, and hello then works", "[e2e][contract][session]") {
  // protocol.md §2.1: a device that speaks before hello is told so and keeps its connection.
  ServerProcess server;
  server.start();
  const auto token = server.enroll("tab-ann-1", "officer.ann", "officer");
  WsTestClient client;
  REQUIRE(client.connect(server.port(), token).ok);

  for (const std::string& early : {std::string(R"({"type":"pull","cursor":"","limit":10})"), household_push(1, 1)}) {
    INFO(early);
    const auto error = parse(client.request(early));
    CHECK(str(error, "type") == "error");
    CHECK(str(error, "code") == "hello_required");
    CHECK(flag(error, "fatal") == false);
  }
  const auto welcome = parse(client.request(hello("tab-ann-1")));
  REQUIRE(str(welcome, "type") == "welcome");
  CHECK(num(welcome, "acked_seq") == 0);  // the push sent before hello changed nothing
  const auto ack = parse(client.request(household_push(1, 1)));
  CHECK(str(ack, "type") == "ack");
  CHECK(num(ack, "acked_seq") == 1);
}

TEST_CASE("hello with protocol 2 gets fatal unsupported_protocol and the server closes", "[e2e][contract][session]") {
  // protocol.md §2.1: only protocol 1 is spoken; any other version is fatal and closes the connection.
  ServerProcess server;
  server.start();
  const auto token = server.enroll("tab-ann-1", "officer.ann", "officer");

  WsTestClient refused;
  REQUIRE(refused.connect(server.port(), token).ok);
  const auto error = parse(refused.request(hello("tab-ann-1", 2)));
  CHECK(str(error, "type") == "error");
  CHECK(str(error, "code") == "unsupported_protocol");
  CHECK(flag(error, "fatal") == true);
  CHECK_FALSE(refused.receive(5s).has_value());  // closed by the server, not left hanging

  WsTestClient accepted;
  REQUIRE(accepted.connect(server.port(), token).ok);
  CHECK(str(parse(accepted.request(hello("tab-ann-1", 1))), "type") == "welcome");
}

TEST_CASE("hello with another device's id gets fatal device_mismatch and the server closes", "[e2e][contract][session]") {
  // protocol.md §2.1: device_id must be the token's device, or a token could act for another tablet.
  ServerProcess server;
  server.start();
  const auto ann = server.enroll("tab-ann-1", "officer.ann", "officer");
  server.enroll("tab-bob-1", "officer.bob", "officer");

  WsTestClient impostor;
  REQUIRE(impostor.connect(server.port(), ann).ok);
  const auto error = parse(impostor.request(hello("tab-bob-1")));
  CHECK(str(error, "type") == "error");
  CHECK(str(error, "code") == "device_mismatch");
  CHECK(flag(error, "fatal") == true);
  CHECK_FALSE(impostor.receive(5s).has_value());

  WsTestClient honest;
  REQUIRE(honest.connect(server.port(), ann).ok);
  const auto welcome = parse(honest.request(hello("tab-ann-1")));
  CHECK(str(welcome, "type") == "welcome");
  CHECK(str(welcome, "device_id") == "tab-ann-1");
}

TEST_CASE("welcome carries identity, role, reference lists and the server's clock", "[e2e][contract][session]") {
  // protocol.md §2.2 and §5.5: the device validates offline with the lists it is sent and checks its clock.
  ServerProcess server;
  server.start();
  const struct {
    const char* device;
    const char* user;
    const char* role;
  } people[] = {{"tab-ann-1", "officer.ann", "officer"},
                {"tab-pat-1", "pcso.pat", "pcso"},
                {"tab-cat-1", "coord.cat", "coordinator"}};
  for (const auto& person : people) {
    INFO(person.role);
    WsTestClient client;
    REQUIRE(client.connect(server.port(), server.enroll(person.device, person.user, person.role)).ok);
    const auto welcome = parse(client.request(hello(person.device)));
    REQUIRE(str(welcome, "type") == "welcome");
    CHECK(num(welcome, "protocol") == 1);
    CHECK(str(welcome, "device_id") == person.device);
    CHECK(str(welcome, "user_id") == person.user);
    CHECK(str(welcome, "role") == person.role);
    CHECK(num(welcome, "acked_seq") == 0);
    const auto wards = strings(welcome, "wards");
    REQUIRE(wards);
    CHECK(sorted(*wards) == sorted(kDefaultWards));
    const auto stations = strings(welcome, "stations");
    REQUIRE(stations);
    CHECK(sorted(*stations) == sorted(kDefaultStations));
    const auto offset = seconds_from_now(str(welcome, "server_time"));
    REQUIRE(offset);  // RFC 3339 in UTC with a Z
    CHECK(std::abs(*offset) < 30.0);
  }
}

TEST_CASE("welcome's acked_seq counts applied and rejected changes, on every new connection and restart", "[e2e][contract][session]") {
  // protocol.md §2.2: the client resends from acked_seq + 1, so it must be right after reconnecting.
  ServerProcess server;
  server.start();
  const auto token = server.enroll("tab-cat-1", "coord.cat", "coordinator");
  {
    WsTestClient client;
    REQUIRE(client.connect(server.port(), token).ok);
    REQUIRE(str(parse(client.request(hello("tab-cat-1"))), "type") == "welcome");
    CHECK(num(parse(client.request(household_push(1, 1))), "acked_seq") == 1);
    CHECK(num(parse(client.request(household_push(2, 2))), "acked_seq") == 2);
    const auto ack = parse(client.request(household_push(3, 3, /*valid=*/false)));
    CHECK(num(ack, "acked_seq") == 3);  // rejected, and still acknowledged
    client.close();
  }
  const auto acked_seq_on_a_new_connection = [&] {
    WsTestClient client;
    REQUIRE(client.connect(server.port(), token).ok);
    const auto welcome = parse(client.request(hello("tab-cat-1")));
    client.close();
    return num(welcome, "acked_seq");
  };
  CHECK(acked_seq_on_a_new_connection() == 3);
  REQUIRE(server.stop() == 0);
  server.start();
  CHECK(acked_seq_on_a_new_connection() == 3);
}

TEST_CASE("the server answers each message in the order it was sent", "[e2e][contract][session]") {
  // protocol.md §2: answers come in order, so a client may pipeline without matching ids.
  ServerProcess server;
  server.start();
  const auto token = server.enroll("tab-cat-1", "coord.cat", "coordinator");
  WsTestClient client;
  REQUIRE(client.connect(server.port(), token).ok);
  REQUIRE(str(parse(client.request(hello("tab-cat-1"))), "type") == "welcome");

  REQUIRE(client.send(household_push(1, 1)));
  REQUIRE(client.send(R"({"type":"pull","cursor":"","limit":10})"));
  REQUIRE(client.send("not json"));
  REQUIRE(client.send(household_push(2, 2)));
  const auto first = parse(client.receive());
  const auto second = parse(client.receive());
  const auto third = parse(client.receive());
  const auto fourth = parse(client.receive());
  CHECK(str(first, "type") == "ack");
  CHECK(num(first, "acked_seq") == 1);
  CHECK(str(second, "type") == "changes");
  CHECK((second.HasMember("changes") && second["changes"].IsArray() && second["changes"].Size() == 1));
  CHECK(str(third, "code") == "bad_message");
  CHECK(str(fourth, "type") == "ack");
  CHECK(num(fourth, "acked_seq") == 2);
}
