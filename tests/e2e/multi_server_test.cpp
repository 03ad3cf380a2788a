// Several sync-server processes over one PostgreSQL database (issue 7, docs/scale-out.md):
// tablets spread over the servers and moving between them through proxies that switch
// targets (a load balancer's work), one server killed (-9) and restarted in a push storm,
// revocation and the dashboard's live version seen through every server. Always on
// PostgreSQL (test_database.h starts the program's private cluster).
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <future>
#include <thread>

#include "contract_support.h"
#include "faults_harness.h"
#include "safer/pg.h"
#include "test_database.h"

using namespace faults_test;

namespace {

// Servers over one database, started; restart(i) replaces one (after a kill) with a new
// process on a new port.
class Servers {
 public:
  Servers(std::string database, int count) : database_(std::move(database)) {
    for (int i = 0; i < count; ++i) {
      all_.push_back(make());
      live_.push_back(all_.back().get());
    }
  }
  ServerProcess& at(std::size_t i) { return *live_.at(i); }
  std::size_t size() const { return live_.size(); }
  void restart(std::size_t i) {
    all_.push_back(make());
    live_.at(i) = all_.back().get();
  }
  const std::vector<std::unique_ptr<ServerProcess>>& every_generation() const { return all_; }

 private:
  std::unique_ptr<ServerProcess> make() {
    auto server = std::make_unique<ServerProcess>(
        std::vector<std::string>{"--shutdown-grace", "2", "--revocation-poll", "0.2"}, database_);
    server->start();
    return server;
  }
  std::string database_;
  std::vector<std::unique_ptr<ServerProcess>> all_;  // every process started, for its log
  std::vector<ServerProcess*> live_;
};

long count_in_logs(const Servers& servers, const std::string& event) {
  long count = 0;
  for (const auto& server : servers.every_generation()) {
    const auto log = server->log();
    for (auto at = log.find(event); at != std::string::npos; at = log.find(event, at + 1)) ++count;
  }
  return count;
}

}  // namespace

// Why: a county runs several servers behind one address. A tablet's syncs land on any of
// them, one after another or (after a reconnect) two at once, and a server can die at any
// moment: every change must still be stored exactly once and counted once, whichever server
// is asked afterwards.
TEST_CASE("three servers over one database: tablets moving between them, one killed in a push storm, lose and double nothing",
          "[e2e][multi-server][postgresql]") {
  const auto seed = test_seed();
  INFO("FAULTS_SEED=" << seed);
  test_support::TempDir dir;
  Servers servers(test_support::new_postgresql_database(), 3);
  const auto coordinator = servers.at(0).enroll("coord-faults", "coord.cat", "coordinator");
  // One proxy per server to begin with; each then switches between servers at random, so
  // that every tablet's syncs go now to one server, now to another.
  std::vector<std::unique_ptr<TcpProxy>> proxies;
  for (std::size_t i = 0; i < servers.size(); ++i) proxies.push_back(std::make_unique<TcpProxy>(servers.at(i).port()));
  Problems problems;
  Tablets tablets;
  for (int i = 1; i <= 20; ++i) tablets.push_back(std::make_unique<Tablet>(dir.file("tablet" + std::to_string(i) + ".db"), i));
  {
    std::vector<std::thread> threads;
    for (std::size_t i = 0; i < tablets.size(); ++i) {
      threads.emplace_back([&, i] {
        try {  // enrolled through one server, syncing through a proxy to another
          tablets[i]->set_up(servers.at(i % 3), proxies[(i + 1) % 3]->url(), problems);
        } catch (const std::exception& failure) {
          problems.add(std::string("setting up a tablet failed: ") + failure.what());
        }
      });
    }
    for (auto& thread : threads) thread.join();
  }
  REQUIRE(problems.text() == "");

  std::atomic<bool> fleet_done{false};
  std::thread fleet([&] {
    for (int round = 0; round < 3; ++round) run_fleet(tablets, 10, 30, seed + static_cast<std::uint64_t>(round), problems);
    fleet_done = true;
  });
  std::mt19937_64 random(seed);
  int switches = 0, kills = 0;
  while (!fleet_done) {
    std::this_thread::sleep_for(std::chrono::milliseconds(pick(random, 50, 200)));
    if (fleet_done) break;
    if (++switches % 12 == 0 && kills < 3) {
      // kill -9 one server mid-storm; a new process takes its place (as a supervisor would)
      const auto victim = static_cast<std::size_t>(pick(random, 0, static_cast<int>(servers.size()) - 1));
      servers.at(victim).kill_hard();
      ++kills;
      servers.restart(victim);
      for (auto& proxy : proxies) proxy->set_target_port(servers.at(static_cast<std::size_t>(pick(random, 0, 2))).port());
      continue;
    }
    auto& proxy = *proxies[static_cast<std::size_t>(pick(random, 0, 2))];
    proxy.set_target_port(servers.at(static_cast<std::size_t>(pick(random, 0, 2))).port());
  }
  fleet.join();
  INFO("proxy switches: " << switches << ", servers killed: " << kills << ", groups run again after meeting another "
                          << "server's transaction: " << count_in_logs(servers, " group_retry "));
  CHECK(kills >= 1);
  CHECK(problems.text() == "");
  // Every server holds and counts the same: the union of the tablets' records.
  for (std::size_t i = 0; i < servers.size(); ++i) {
    INFO("server " << i);
    check_exactly_once(servers.at(i), coordinator, tablets);
  }
}

// Why: revocation is recorded in the shared database by whichever server or command does
// it; the device's open connection may be on any server and must be closed there too.
TEST_CASE("a revocation closes the device's connections on every server", "[e2e][multi-server][postgresql]") {
  Servers servers(test_support::new_postgresql_database(), 2);
  const auto token = servers.at(0).enroll("tab-ann-1", "officer.ann", "officer");
  auto on_first = contract_test::join(servers.at(0), "tab-ann-1", token);
  auto on_second = contract_test::join(servers.at(1), "tab-ann-1", token);
  const auto revoked = servers.at(0).admin({"revoke", "--device", "tab-ann-1"});
  REQUIRE(revoked.exit_code == 0);
  for (auto* client : {on_first.get(), on_second.get()}) {
    CHECK_FALSE(client->receive(std::chrono::seconds(5)).has_value());
    CHECK(client->close_code() == 1008);
  }
  test_support::WsTestClient again;
  CHECK(again.connect(servers.at(1).port(), token).http_status == 401);
}

// Why: coordinators' dashboards poll GET /api/v1/version to refresh; a change pushed through
// one server must move the version every server reports.
TEST_CASE("a push through one server moves the dashboard's live version on every server",
          "[e2e][multi-server][postgresql]") {
  Servers servers(test_support::new_postgresql_database(), 2);
  const auto coordinator = servers.at(0).enroll("coord-tablet", "coord.cat", "coordinator");
  const auto version = [&](std::size_t i) {
    const auto reply = test_support::http_get(servers.at(i).port(), "/api/v1/version", coordinator);
    REQUIRE(reply.status == 200);
    return contract_test::at(contract_test::parse(reply.body), {"version"});
  };
  const auto before = version(1);
  CHECK(version(0) == before);
  auto client = contract_test::join(servers.at(0), "coord-tablet", coordinator);
  const auto ack = contract_test::parse(client->request(contract_test::household_push(1, 1)));
  REQUIRE(contract_test::str(ack, "type") == "ack");
  CHECK(version(1) > before);
  CHECK(version(0) == version(1));
}

// Why: a borough that outgrows one server moves its SQLite store to PostgreSQL with the
// command the project provides; its tablets, behind the same address, must carry on without
// re-enrolling, lose nothing and double nothing.
TEST_CASE("after move-to-postgresql the tablets carry on through servers over PostgreSQL",
          "[e2e][multi-server][postgresql]") {
  const auto seed = test_seed();
  INFO("FAULTS_SEED=" << seed);
  test_support::TempDir dir;
  const std::string file = dir.file("borough.db");
  auto borough = std::make_unique<ServerProcess>(std::vector<std::string>{}, file);
  borough->start();
  const auto coordinator = borough->enroll("coord-faults", "coord.cat", "coordinator");
  TcpProxy address(borough->port());  // the address the tablets know
  Problems problems;
  const Tablets tablets = make_tablets(dir, 4, *borough, address.url(), problems);
  run_fleet(tablets, 10, 20, seed, problems);
  REQUIRE(borough->stop() == 0);

  const std::string url = test_support::new_postgresql_database();
  const auto moved = test_support::run_process(
      {test_support::sync_server_binary(), "move-to-postgresql", "--from", file, "--to", url});
  INFO(moved.out << moved.err);
  REQUIRE(moved.exit_code == 0);
  CHECK(moved.out.find("Statistics agree") != std::string::npos);

  Servers county(url, 2);
  address.set_target_port(county.at(1).port());
  run_fleet(tablets, 10, 20, seed + 1, problems);
  CHECK(problems.text() == "");
  check_exactly_once(county.at(0), coordinator, tablets);
}

// Why: a tablet's first sync (or the full pull after cursor_invalid, as after a move to
// PostgreSQL) keeps only what the pull brought. A household another server committed while an
// older transaction was still open lies past what pages may send until that transaction ends:
// the first sync must wait for it, not end without it, and must not spin while it waits.
TEST_CASE("a tablet's first sync waits for a change committed behind an open transaction, without spinning",
          "[e2e][multi-server][postgresql]") {
  test_support::TempDir dir;
  const std::string url = test_support::new_postgresql_database();
  ServerProcess server(std::vector<std::string>{}, url);
  server.start();
  Problems problems;
  Tablet first(dir.file("first.db"), 1), second(dir.file("second.db"), 1);  // two tablets of officer.1
  first.set_up(server, server.url(), problems);
  REQUIRE(first.sync());
  // The second tablet is enrolled and holds nothing of its own: what its first sync waits for
  // can only be the first tablet's household.
  const auto status = second.ok({"status"}, problems);
  REQUIRE(status);
  const std::string device = (*status)["device_id"].GetString();
  REQUIRE(second.ok({"enroll", "--server", server.url(), "--token", server.enroll(device, "officer.1", "officer")},
                    problems));

  // Another server's group, say, or an administrator's psql: a transaction with an id, open.
  safer::pg::Connection open(url);
  open.exec("BEGIN");
  open.exec("SELECT pg_current_xact_id()");
  // A second household of the first tablet's commits above the open transaction's id. That
  // sync's pull continues from its cursor: it may leave the household for later, and ends.
  REQUIRE(first.ok({"household", "add", "--address", "11 Fictional Row", "--postcode", "wd6 1wa", "--ward", "Elstree"},
                   problems));
  REQUIRE(first.sync());

  const auto started = std::chrono::steady_clock::now();
  auto syncing = std::async(std::launch::async, [&] { return second.run({"sync", "--timeout", "5"}); });
  const std::string held = "device=" + device + " changes=0 has_more=true";
  const auto held_pages = [&] {
    const auto log = server.log();
    long count = 0;
    for (auto at = log.find(held); at != std::string::npos; at = log.find(held, at + 1)) ++count;
    return count;
  };
  const auto deadline = started + std::chrono::seconds(15);
  while (held_pages() == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  REQUIRE(held_pages() >= 1);
  // It cannot end while the transaction is open; and it waits, paced, rather than spins: the
  // pauses start at 50 ms and grow, so a second brings a handful of pages, not thousands.
  CHECK(syncing.wait_for(std::chrono::seconds(1)) == std::future_status::timeout);
  const auto elapsed = std::chrono::steady_clock::now() - started;
  CHECK(held_pages() <= elapsed / std::chrono::milliseconds(50) + 2);

  open.exec("COMMIT");
  REQUIRE(syncing.wait_for(std::chrono::seconds(20)) == std::future_status::ready);
  const auto synced = syncing.get();
  INFO(synced.out << synced.err);
  CHECK(synced.exit_code == 0);
  const auto households = second.ok({"household", "list"}, problems);
  REQUIRE(households);
  CHECK(households->GetArray().Size() == 2);  // the first tablet's two
  CHECK(problems.text() == "");
}
