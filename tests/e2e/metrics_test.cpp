// GET /metrics on the real binary (docs/server.md, "Metrics"): a tablet pushes (a change
// rejected, a push refused), pulls, a coordinator logs in and fails to, then a scrape with
// the token is read with a strict parser and its values checked against what was done; and
// the refusals: 401 without the token, 403 from another address, 404 when not configured.
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <fstream>

#include "api_support.h"
#include "child_process.h"
#include "http_request_from.h"
#include "prometheus_text.h"

namespace {

using api_test::Device;
using test_support::HttpReply;
using test_support::ServerProcess;

const std::string kToken = "metrics-token-0123456789abcdef";

// A token file only its owner can read.
std::string token_file(const test_support::TempDir& dir, const std::string& token = kToken) {
  const auto path = dir.file("metrics.token");
  std::ofstream(path) << token << "\n";
  ::chmod(path.c_str(), 0600);
  return path;
}

HttpReply scrape(const ServerProcess& server, const std::string& token = kToken, const std::string& from = "127.0.0.1") {
  test_support::HttpReply reply = test_support::http_request_from(
      from, server.port(), "GET", "/metrics",
      token.empty() ? std::vector<std::pair<std::string, std::string>>{} : api_test::bearer(token));
  return reply;
}

}  // namespace

TEST_CASE("a scrape with the token reads, in strict text format, what the server did", "[e2e][metrics]") {
  test_support::TempDir dir;
  ServerProcess server({"--metrics-token-file", token_file(dir), "--metrics-allow", "127.0.0.1/32"});
  server.start();
  api_test::add_coordinator(server);

  Device tablet(server, "tablet-07", "coord.cat", "coordinator");
  tablet.write("household", 1, api_test::household("1 Example Road", "Elstree", true));
  tablet.write("visit", 2, api_test::visit(1, "2026-11-20T10:00:00Z", "completed"));
  const auto rejected = tablet.push("visit", 3, api_test::visit(1, "2026-11-20T10:00:00Z", "not-a-status"));
  REQUIRE(rejected["rejected"].Size() == 1);
  CHECK(api_test::str(rejected["rejected"][0], "code") == "invalid");
  tablet.seq += 5;  // a gap: the whole push is refused
  const auto gap = api_test::parse(tablet.client->request(
      R"({"type":"push","changes":[{"seq":)" + std::to_string(tablet.seq + 1) + R"(,"entity":"visit","op":"upsert","id":")" +
      api_test::uuid(4) + R"(","hlc":")" + contract_test::next_hlc() + R"(","data":)" +
      api_test::visit(1, "2026-11-20T10:00:00Z", "completed") + "}]}"));
  REQUIRE(api_test::str(gap, "code") == "seq_gap");
  const auto page = api_test::parse(tablet.client->request(R"({"type":"pull","cursor":"","limit":1000})"));
  REQUIRE(api_test::str(page, "type") == "changes");
  const auto pulled = page["changes"].Size();

  CHECK(api_test::log_in_reply(server, "cat", api_test::kPassword).status == 200);
  CHECK(api_test::log_in_reply(server, "cat", "not the password").status == 401);

  const auto reply = scrape(server);
  REQUIRE(reply.status == 200);
  CHECK(reply.header("content-type") == "text/plain; version=0.0.4; charset=utf-8");
  const auto metrics = test_support::parse_prometheus_text(reply.body);
  INFO(reply.body);
  INFO(metrics.error);
  REQUIRE(metrics.ok());

  CHECK(metrics.value("safer_sync_connected_devices") == 1);
  CHECK(metrics.value("safer_sync_pushes_total", {{"result", "acked"}}) == 3);
  CHECK(metrics.value("safer_sync_pushes_total", {{"result", "seq_gap"}}) == 1);
  CHECK(metrics.value("safer_sync_changes_total", {{"result", "applied"}}) == 2);
  CHECK(metrics.value("safer_sync_changes_total", {{"result", "invalid"}}) == 1);
  CHECK(metrics.value("safer_sync_changes_total", {{"result", "ignored"}}) == 0);
  // Every push went through the commit queue: the groups' sizes add up to the pushes.
  CHECK(metrics.value("safer_sync_commit_group_batches_sum") == 4);
  const auto groups = metrics.value("safer_sync_commit_group_batches_count");
  CHECK(groups >= 1);
  CHECK(groups <= 4);
  CHECK(metrics.value("safer_sync_commit_seconds_count") == groups);
  CHECK(metrics.value("safer_sync_pull_pages_total") == 1);
  CHECK(metrics.value("safer_sync_pull_changes_total") == pulled);
  CHECK(metrics.value("safer_sync_pull_bytes_total") > 100);
  CHECK(metrics.value("safer_sync_logins_total", {{"outcome", "ok"}}) == 1);
  CHECK(metrics.value("safer_sync_logins_total", {{"outcome", "wrong_password"}}) == 1);
  CHECK(metrics.value("safer_sync_retention_runs_total", {{"result", "ok"}}) == 0);
  CHECK(metrics.value("safer_sync_store_up") == 1);
  CHECK(metrics.value("safer_sync_database_bytes") > 4096);
  CHECK(metrics.value("safer_sync_devices_enrolled") == 1);
  CHECK(metrics.value("safer_sync_devices_unlisted") == 0);
  CHECK(metrics.value("safer_sync_device_acked_seq", {{"device", "tablet-07"}}) == 3);
  const auto last_sync = metrics.value("safer_sync_device_last_sync_timestamp_seconds", {{"device", "tablet-07"}});
  REQUIRE(last_sync);
  const double now = static_cast<double>(std::chrono::duration_cast<std::chrono::seconds>(
                                             std::chrono::system_clock::now().time_since_epoch()).count());
  CHECK(*last_sync > now - 120);
  CHECK(*last_sync < now + 5);
  // Devices by id only; never a user id.
  CHECK(reply.body.find("coord.cat") == std::string::npos);
}

TEST_CASE("/metrics refuses: 401 without the right token, 403 from outside the networks, 405 for POST", "[e2e][metrics]") {
  test_support::TempDir dir;
  ServerProcess server({"--metrics-token-file", token_file(dir), "--metrics-allow", "127.0.0.1/32"});
  server.start();
  for (const std::string& token : {std::string(), std::string("wrong-token-0123456789abcdef"), kToken + "x"}) {
    INFO(token);
    const auto refused = scrape(server, token);
    CHECK(refused.status == 401);
    CHECK(refused.header("www-authenticate") == "Bearer");
    CHECK(refused.body.find("safer_sync") == std::string::npos);
  }
  const auto outside = scrape(server, kToken, "127.0.0.2");
  CHECK(outside.status == 403);
  CHECK(outside.body.find("safer_sync") == std::string::npos);
  CHECK(test_support::http_request(server.port(), "POST", "/metrics", api_test::bearer(kToken)).status == 405);
  CHECK(scrape(server).status == 200);
}

TEST_CASE("/metrics is off (404) unless serve is given a token file or networks - a network alone needs no token",
          "[e2e][metrics]") {
  {
    ServerProcess server;
    server.start();
    CHECK(scrape(server).status == 404);
    CHECK(scrape(server, "").status == 404);
  }
  {
    ServerProcess server({"--metrics-allow", "127.0.0.1"});
    server.start();
    CHECK(scrape(server, "").status == 200);
    CHECK(scrape(server, "", "127.0.0.2").status == 403);
  }
  {
    // In the config file, a list of networks is quoted (CLI11 would read a bare one as a list
    // of values); the token file and the cap are set there too.
    test_support::TempDir dir;
    const auto config = dir.file("sync-server.conf");
    std::ofstream(config) << "db = " << dir.file("store.db") << "\nlisten = 127.0.0.1:0\n"
                          << "metrics-allow = \"127.0.0.2/32, 127.0.0.1/32\"\nmetrics-token-file = " << token_file(dir)
                          << "\nmetrics-max-devices = 1\n";
    for (const char* device : {"tablet-01", "tablet-02"}) {
      REQUIRE(test_support::run_process({test_support::sync_server_binary(), "enroll", "--config", config, "--device", device,
                                         "--user", "officer.ann", "--role", "officer"})
                  .exit_code == 0);
    }
    test_support::ChildProcess server({test_support::sync_server_binary(), "serve", "--config", config}, dir.file("log"));
    const auto line = server.first_line();
    const auto port = static_cast<unsigned short>(std::stoi(line.substr(line.rfind(':') + 1)));
    const auto reply = test_support::http_request_from("127.0.0.2", port, "GET", "/metrics", api_test::bearer(kToken));
    REQUIRE(reply.status == 200);
    const auto metrics = test_support::parse_prometheus_text(reply.body);
    REQUIRE(metrics.ok());
    CHECK(metrics.samples("safer_sync_device_acked_seq").size() == 1);
    CHECK(metrics.value("safer_sync_device_acked_seq", {{"device", "tablet-01"}}) == 0);
    CHECK(metrics.value("safer_sync_devices_unlisted") == 1);
    CHECK(test_support::http_request_from("127.0.0.1", port, "GET", "/metrics").status == 401);
    CHECK(test_support::http_request_from("127.0.0.3", port, "GET", "/metrics", api_test::bearer(kToken)).status == 403);
    CHECK(server.stop() == 0);
  }
}

TEST_CASE("serve refuses a metrics token file other users can read, and a network that does not parse", "[e2e][metrics]") {
  test_support::TempDir dir;
  const auto readable = token_file(dir);
  ::chmod(readable.c_str(), 0644);
  const auto open = test_support::run_process({test_support::sync_server_binary(), "serve", "--config", "", "--db",
                                               dir.file("a.db"), "--listen", "127.0.0.1:0", "--metrics-token-file", readable});
  CHECK(open.exit_code != 0);
  CHECK(open.err.find("any user can read it") != std::string::npos);
  const auto bad = test_support::run_process({test_support::sync_server_binary(), "serve", "--config", "", "--db",
                                              dir.file("b.db"), "--listen", "127.0.0.1:0", "--metrics-allow", "10.0.0.0/33"});
  CHECK(bad.exit_code != 0);
  CHECK(bad.err.find("--metrics-allow: \"10.0.0.0/33\" is not a network") != std::string::npos);
}
