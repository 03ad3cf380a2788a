// protocol.md §8 (server command line) against a running sync-server: enroll, revoke and
// import-households work while it serves, and their effects reach the wire.
#include "contract_support.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <map>
#include <memory>
#include <string>

#include "temp_dir.h"

namespace {

using namespace std::chrono_literals;
using namespace contract_test;

// Households received in a pull from "": id -> data as a document (copied).
std::map<std::string, std::shared_ptr<rapidjson::Document>> households(WsTestClient& client) {
  const auto page = parse(client.request(R"({"type":"pull","cursor":"","limit":1000})"));
  std::map<std::string, std::shared_ptr<rapidjson::Document>> out;
  REQUIRE(str(page, "type") == "changes");
  for (const auto& item : page["changes"].GetArray()) {
    if (str(item, "entity") != "household" || !item.HasMember("data")) continue;
    auto data = std::make_shared<rapidjson::Document>();
    data->CopyFrom(item["data"], data->GetAllocator());
    out[str(item, "id")] = data;
  }
  return out;
}

std::int64_t target_households(const ServerProcess& server, const std::string& token) {
  const auto reply = test_support::http_get(server.port(), "/api/v1/stats", token);
  REQUIRE(reply.status == 200);
  return at(parse(reply.body), {"households", "target"});
}

std::string write_file(const test_support::TempDir& dir, const std::string& name, const std::string& text) {
  const auto path = dir.file(name);
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

const std::string kFirst = "0192f5e4-7c1a-7d3e-9b2a-000000000001";
const std::string kSecond = "0192f5e4-7c1a-7d3e-9b2a-000000000002";
const std::string kFourth = "0192f5e4-7c1a-7d3e-9b2a-000000000004";

}  // namespace

TEST_CASE("enroll while the server runs prints a token that connects at once", "[e2e][contract][admin]") {
  // protocol.md §8: a coordinator enrols a new tablet without restarting the server.
  ServerProcess server;
  server.start();
  const auto enrolled = server.admin({"enroll", "--device", "tab-new-1", "--user", "officer.nia", "--role", "pcso"});
  REQUIRE(enrolled.exit_code == 0);
  const auto token = enrolled.out.substr(0, enrolled.out.find('\n'));
  CHECK(token.size() >= 16);
  CHECK(std::none_of(token.begin(), token.end(), [](char c) { return c == ' ' || c == '\t'; }));  // alone on the line

  WsTestClient client;
  REQUIRE(client.connect(server.port(), token).ok);
  const auto welcome = parse(client.request(R"({"type":"hello","protocol":1,"device_id":"tab-new-1"})"));
  CHECK(str(welcome, "type") == "welcome");
  CHECK(str(welcome, "user_id") == "officer.nia");
  CHECK(str(welcome, "role") == "pcso");
}

TEST_CASE("revoke closes the device's open connections with 1008 within 5 seconds and the next handshake gets 401", "[e2e][contract][admin]") {
  // protocol.md §8 and §9: a stolen tablet must be cut off now, not at its next reconnect.
  ServerProcess server({"--revocation-poll", "0.2"});
  server.start();
  const auto ann = server.enroll("tab-ann-1", "officer.ann", "officer");
  const auto bob = server.enroll("tab-bob-1", "officer.bob", "officer");
  auto first = join(server, "tab-ann-1", ann);
  auto second = join(server, "tab-ann-1", ann);
  auto bystander = join(server, "tab-bob-1", bob);

  const auto revoked_at = std::chrono::steady_clock::now();
  REQUIRE(server.admin({"revoke", "--device", "tab-ann-1"}).exit_code == 0);
  for (auto* client : {first.get(), second.get()}) {
    CHECK_FALSE(client->receive(8s).has_value());
    CHECK(client->close_code() == 1008);
    CHECK(std::chrono::steady_clock::now() - revoked_at < 5s);
  }
  WsTestClient again;
  const auto refused = again.connect(server.port(), ann);
  CHECK_FALSE(refused.ok);
  CHECK(refused.http_status == 401);
  CHECK(str(parse(bystander->request(R"({"type":"pull","cursor":""})")), "type") == "changes");  // still connected
}

TEST_CASE("import-households while serving imports every row, visible in stats and pull", "[e2e][contract][admin]") {
  // protocol.md §8 and §9: the household register is loaded from CSV into a live server.
  ServerProcess server;
  server.start();
  const auto coordinator = server.enroll("tab-cat-1", "coord.cat", "coordinator");
  const auto ann_token = server.enroll("tab-ann-1", "officer.ann", "officer");
  auto cat = join(server, "tab-cat-1", coordinator);
  auto ann = join(server, "tab-ann-1", ann_token);
  test_support::TempDir dir;
  const auto csv = write_file(dir, "households.csv",
      "id,address,postcode,ward,target,assigned_to\r\n" +
      kFirst + ",\"1 Caf\xC3\xA9 Road, Flat \"\"A\"\"\",wd6 1wa,Elstree,1,officer.ann\r\n" +
      kSecond + ",2 Example Road,WD61WA,Shenley,true,\r\n" +
      ",3 Example Road,EN6 1AA,Potters Bar Oakmere,0,\r\n" +
      kFourth + ",4 Example Road,WD6 2BB,Elstree,false,officer.bob\r\n");

  const auto imported = server.admin({"import-households", csv});
  INFO(imported.out << imported.err);
  REQUIRE(imported.exit_code == 0);
  CHECK(target_households(server, coordinator) == 2);

  const auto all = households(*cat);
  CHECK(all.size() == 4);
  REQUIRE(all.count(kFirst) == 1);
  const auto& first = *all.at(kFirst);
  CHECK(str(first, "address") == "1 Caf\xC3\xA9 Road, Flat \"A\"");  // UTF-8, comma and quotes kept
  CHECK(str(first, "postcode") == "WD6 1WA");
  CHECK(str(first, "ward") == "Elstree");
  CHECK(str(first, "assigned_to") == "officer.ann");
  CHECK((first.HasMember("target") && first["target"].IsBool() && first["target"].GetBool()));
  REQUIRE(all.count(kSecond) == 1);
  CHECK(str(*all.at(kSecond), "postcode") == "WD6 1WA");
  CHECK(str(*all.at(kSecond), "assigned_to") == "<null>");  // an empty assigned_to is null

  const auto mine = households(*ann);  // Ann's tablet receives only what is assigned to her
  CHECK(mine.size() == 1);
  CHECK(mine.count(kFirst) == 1);
}

TEST_CASE("import-households with a bad row names its line, exits non-zero and imports nothing", "[e2e][contract][admin]") {
  // protocol.md §8 and §9: a register with one mistake must not be half loaded.
  ServerProcess server;
  server.start();
  const auto coordinator = server.enroll("tab-cat-1", "coord.cat", "coordinator");
  test_support::TempDir dir;
  const auto good = write_file(dir, "good.csv",
      "id,address,postcode,ward,target,assigned_to\n" + kFirst + ",1 Example Road,WD6 1WA,Elstree,1,\n");
  REQUIRE(server.admin({"import-households", good}).exit_code == 0);
  auto cat = join(server, "tab-cat-1", coordinator);
  const auto before = households(*cat);
  REQUIRE(before.size() == 1);

  // Line 3 holds a quoted cell that runs onto line 4, so the bad row starts on line 5.
  const auto bad = write_file(dir, "bad.csv",
      "id,address,postcode,ward,target,assigned_to\n" +
      kFirst + ",1 Renamed Road,WD6 1WA,Elstree,0,\n" +
      kSecond + ",\"2 Example Road\nBorehamwood\",WD6 1WA,Elstree,1,\n" +
      ",5 Example Road,WD6 1WA,Atlantis,1,\n" +
      ",6 Example Road,WD6 1WA,Shenley,1,\n");
  const auto refused = server.admin({"import-households", bad});
  const std::string report = refused.out + refused.err;
  INFO(report);
  CHECK(refused.exit_code != 0);
  CHECK(report.find("line 5") != std::string::npos);
  CHECK(report.find("line 4") == std::string::npos);

  const auto after = households(*cat);
  CHECK(after.size() == 1);
  CHECK(str(*after.at(kFirst), "address") == "1 Example Road");  // the good row before it was not applied either
  CHECK(target_households(server, coordinator) == 1);
}
