// The smallest end-to-end path: a real server on a free loopback port, a token, a hello, a
// push that is acked, and the stats that count it.
#include <catch2/catch.hpp>

#include "server_process.h"
#include "ws_test_client.h"

TEST_CASE("a device says hello, pushes a household, and the coordinator sees it", "[e2e][smoke]") {
  test_support::ServerProcess server;
  server.start();
  const auto coordinator = server.enroll("coord-1", "coord.cat", "coordinator");

  test_support::WsTestClient client;
  REQUIRE(client.connect(server.port(), coordinator).ok);
  const auto welcome = client.request(R"({"type":"hello","protocol":1,"device_id":"coord-1","app_version":"test"})");
  REQUIRE(welcome);
  CHECK(welcome->find("\"type\":\"welcome\"") != std::string::npos);
  CHECK(welcome->find("\"acked_seq\":0") != std::string::npos);

  const auto ack = client.request(
      R"({"type":"push","changes":[{"seq":1,"entity":"household","op":"upsert","id":"0192f5e4-7c1a-7d3e-9b2a-4c5d6e7f8a9b",)"
      R"("hlc":"001764149400000-00000","data":{"address":"1 Example Road","postcode":"wd6 1wa","ward":"Elstree","target":true}}]})");
  REQUIRE(ack);
  CHECK(*ack == R"({"type":"ack","acked_seq":1,"rejected":[]})");

  const auto stats = test_support::http_get(server.port(), "/api/v1/stats", coordinator);
  CHECK(stats.status == 200);
  CHECK(stats.body.find("\"households\":{\"target\":1,\"visited\":0") != std::string::npos);
  CHECK(test_support::http_get(server.port(), "/api/v1/stats").status == 401);
  CHECK(test_support::http_get(server.port(), "/healthz").status == 200);

  client.close();
  CHECK(server.stop() == 0);
}
