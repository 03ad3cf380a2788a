// A borough with other wards and stations configures them once on the server: every device
// then receives them in welcome and validates offline against them, and the server checks
// pushes and imports against them too.
#include <catch2/catch.hpp>

#include <cereal/archives/json.hpp>  // RapidJSON, configured as cereal configures it

#include <fstream>

#include "server_process.h"
#include "ws_test_client.h"

namespace {

std::string write_lines(const test_support::TempDir& dir, const std::string& name, const std::string& text) {
  const std::string path = dir.file(name);
  std::ofstream(path) << text;
  return path;
}

}  // namespace

TEST_CASE("the server's own wards and stations reach devices and bind every check", "[e2e][lists]") {
  test_support::TempDir dir;
  test_support::ServerProcess server;
  const auto wards = write_lines(dir, "wards.txt", "Fictional Central\nFictional North\n");
  const auto stations = write_lines(dir, "stations.txt", "Imaginary Parkway\r\n\r\n");
  const auto configured = server.admin({"lists", "--wards", wards, "--stations", stations});
  REQUIRE(configured.exit_code == 0);
  CHECK(configured.out.find("  Fictional North\n") != std::string::npos);
  CHECK(server.admin({"lists"}).out == configured.out);  // kept in the database

  const auto bad = server.admin({"lists", "--wards", write_lines(dir, "dup.txt", "A\nA\n")});
  CHECK(bad.exit_code == 2);
  CHECK(bad.err.find("\"A\" appears twice") != std::string::npos);

  server.start();
  const auto token = server.enroll("coordinator-desk", "coord.cat", "coordinator");
  test_support::WsTestClient client;
  REQUIRE(client.connect(server.port(), token).ok);
  const auto welcome = client.request(R"({"type":"hello","protocol":1,"device_id":"coordinator-desk"})");
  REQUIRE(welcome);
  CHECK(welcome->find(R"("wards":["Fictional Central","Fictional North"])") != std::string::npos);
  CHECK(welcome->find(R"("stations":["Imaginary Parkway"])") != std::string::npos);

  const auto ack = client.request(
      R"({"type":"push","changes":[)"
      R"({"seq":1,"entity":"household","op":"upsert","id":"0192f5e4-0000-7000-8000-000000000001","hlc":"001764149400000-00000",)"
      R"("data":{"address":"1 Example Road","postcode":"WD6 1AA","ward":"Fictional North"}},)"
      R"({"seq":2,"entity":"household","op":"upsert","id":"0192f5e4-0000-7000-8000-000000000002","hlc":"001764149400000-00001",)"
      R"("data":{"address":"2 Example Road","postcode":"WD6 1AA","ward":"Elstree"}}]})");
  REQUIRE(ack);
  CHECK(ack->find(R"("rejected":[{"seq":2,"code":"invalid")") != std::string::npos);
  CHECK(ack->find("Fictional Central or Fictional North") != std::string::npos);

  const auto csv = write_lines(dir, "register.csv",
                               "id,address,postcode,ward,target,assigned_to\n,3 Example Road,WD6 1AA,Elstree,1,\n");
  const auto refused = server.admin({"import-households", csv});
  CHECK(refused.exit_code == 2);
  CHECK(refused.err.find("line 2: ward \"Elstree\" is not one of the wards") != std::string::npos);

  const auto stats = test_support::http_get(server.port(), "/api/v1/stats", token);
  CHECK(stats.body.find(R"("by_ward":{"Fictional Central":0,"Fictional North":0})") != std::string::npos);
  CHECK(stats.body.find(R"("by_station":{"Imaginary Parkway":0})") != std::string::npos);
  CHECK(server.stop() == 0);
}
