// The C example program, built against libfield_client_c.so as a native app would be, records
// offline, is refused an invalid visit, and syncs with a real server; a revoked token stops it
// with FC_UNAUTHORIZED.
#include <catch2/catch.hpp>

#include <cereal/archives/json.hpp>  // RapidJSON, configured as cereal configures it

#include <map>
#include <sstream>

#include "server_process.h"
#include "ws_test_client.h"

namespace {

// "<step> <status> <json>" lines, by step.
std::map<std::string, std::pair<int, std::string>> steps(const std::string& out) {
  std::map<std::string, std::pair<int, std::string>> lines;
  std::istringstream stream(out);
  for (std::string line; std::getline(stream, line);) {
    const auto first = line.find(' ');
    const auto second = line.find(' ', first + 1);
    lines[line.substr(0, first)] = {std::stoi(line.substr(first + 1, second - first - 1)), line.substr(second + 1)};
  }
  return lines;
}

}  // namespace

TEST_CASE("the C example records offline and syncs with a real server", "[e2e][c-api]") {
  test_support::ServerProcess server;
  server.start();
  const auto token = server.enroll("tablet-c", "officer.cy", "officer");
  const auto coordinator = server.enroll("coordinator-desk", "coord.cat", "coordinator");
  test_support::TempDir dir;

  const auto run = test_support::run_process({C_EXAMPLE_BINARY, dir.file("tablet.db"), server.url(), token, "tablet-c"});
  INFO(run.out << run.err);
  REQUIRE(run.exit_code == 0);
  const auto lines = steps(run.out);
  CHECK(lines.at("enroll").first == 0);
  CHECK(lines.at("household").first == 0);
  CHECK(lines.at("visit").first == 0);
  CHECK(lines.at("invalid").first == 1);  // FC_INVALID
  CHECK(lines.at("invalid").second.find(R"("field":"smoke_detectors_fitted")") != std::string::npos);
  CHECK(lines.at("sync").first == 0);
  CHECK(lines.at("sync").second.find(R"("pushed":2)") != std::string::npos);
  CHECK(lines.at("status").second.find(R"("pending":0)") != std::string::npos);
  CHECK(lines.at("status").second.find(R"("user_id":"officer.cy")") != std::string::npos);

  rapidjson::Document stats;
  stats.Parse(test_support::http_get(server.port(), "/api/v1/stats", coordinator).body.c_str());
  REQUIRE(stats.IsObject());
  CHECK(stats["visits"]["total"].GetInt() == 1);
  CHECK(stats["outcomes"]["smoke_detectors_fitted"].GetInt() == 2);

  REQUIRE(server.admin({"revoke", "--device", "tablet-c"}).exit_code == 0);
  const auto refused = test_support::run_process({C_EXAMPLE_BINARY, dir.file("tablet.db"), server.url(), token, "tablet-c"});
  CHECK(refused.exit_code == 1);
  const auto after = steps(refused.out);
  CHECK(after.at("sync").first == 6);  // FC_UNAUTHORIZED
  CHECK(after.at("sync").second.find("401") != std::string::npos);
}
