// B1: M simulated devices push 200,000 visits in total through WebSockets into a real
// sync-server until every one is acknowledged (durably committed), for M = 1, 10 and 100; and,
// in the same run, the baseline: the same rows inserted into the same schema by one prepared
// statement, 500 per transaction, with the same PRAGMAs.
//
//   b1_push [--devices 1,10,100] [--visits 200000] [--batch 500] [--server PATH] [--no-baseline]
//           [--postgresql [--servers N]]
//
// --postgresql: the same runs over PostgreSQL instead of SQLite — a private cluster that this
// program starts (initdb in a temporary directory, fsync and synchronous_commit on: durable
// as SQLite's synchronous=FULL), a new database per run — with --servers sync-server
// processes over it (the devices spread over them round robin, as a load balancer would).
//
// Each M runs against a fresh server over a fresh database. The devices are officers; each
// first creates its own household, then pushes its share of the visits to it in batches of
// --batch, one batch in flight per device (as tablets do). The messages are encoded before
// the clock starts (a tablet encodes on its own CPU); the clock runs from the moment every
// device is connected and welcomed until the last ack. All devices are coroutines on one
// client thread, to leave the server as much of the machine as possible.
//
// The baseline (what "the same rows" means): the records rows the server writes for these
// visits — every column apply.cpp writes, the same JSON in `data`, UUIDv7 ids — inserted with
// one prepared INSERT into a database made by ServerStore::open (the same schema and indexes,
// WAL, synchronous=FULL), 500 rows per BEGIN IMMEDIATE … COMMIT. It leaves out what a push does
// besides: network, JSON decoding, validation, permissions, last-writer-wins lookups, the
// statistics tables and the device's acked_seq.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <CLI/CLI.hpp>

#include <signal.h>

#include <iostream>
#include <sstream>

#include "safer/protocol_json.h"
#include "safer/record_json.h"
#include "safer/sqlite.h"
#include "safer/time.h"
#include "safer/uuid.h"
#include "pg_cluster.h"
#include "support/bench.h"
#include "support/ws_device.h"
#include "sync_server/local_time.h"
#include "sync_server/server_store.h"

namespace {

using bench::Clock;

struct Device {
  std::string id;
  std::string user;
  std::string token;
  std::string household_push;              // seq 1
  std::vector<std::string> pushes;         // seq 2 …
  std::vector<std::int64_t> last_seqs;     // of each push
  std::int64_t visits = 0;
  std::vector<double> latencies_ms;
};

// The visits of one device, as push messages of `batch` changes after its household (seq 1).
void prepare(Device& device, std::int64_t visits, int batch, std::int64_t first_n) {
  safer::HlcClock clock(safer::now_unix_millis);
  const std::string household_id = safer::new_uuid_v7();
  safer::Push first;
  first.changes.push_back({1, safer::Change{safer::Entity::household, safer::Op::upsert, household_id, clock.tick(),
                                            bench::sample_household(first_n)}});
  device.household_push = safer::to_json(first);
  std::int64_t seq = 2;
  const auto now = safer::now_unix_millis();
  for (std::int64_t sent = 0; sent < visits;) {
    safer::Push push;
    for (int i = 0; i < batch && sent < visits; ++i, ++sent) {
      const auto visit = bench::sample_visit(household_id, now - (sent % 1000) * 60'000, first_n + sent);
      push.changes.push_back({seq++, safer::Change{safer::Entity::visit, safer::Op::upsert, safer::new_uuid_v7(),
                                                   clock.tick(), visit}});
    }
    device.pushes.push_back(safer::to_json(push));
    device.last_seqs.push_back(seq - 1);
  }
  device.visits = visits;
}

struct RunResult {
  double seconds = 0;
  std::int64_t acked = 0;
  std::vector<double> latencies_ms;
  bench::LogSum groups;
  int failures = 0;
};

// Where a run keeps its data: a SQLite file in the run's directory, or a new database in the
// PostgreSQL cluster.
std::string new_database(const bench::TempDir& dir, test_support::PgCluster* cluster) {
  if (cluster == nullptr) return dir.file("server.db");
  static int runs = 0;
  const std::string name = "b1_" + std::to_string(++runs);
  cluster->create_database(name);
  return cluster->url(name);
}

RunResult run_devices(const std::string& server_binary, int devices, std::int64_t total_visits, int batch,
                      test_support::PgCluster* cluster, int server_count) {
  bench::TempDir dir("b1-push");
  const std::string db = new_database(dir, cluster);
  std::vector<Device> fleet(static_cast<std::size_t>(devices));
  {
    auto store = sync_server::ServerStore::open(db);
    if (!store) throw std::runtime_error(store.error().message);
    for (int i = 0; i < devices; ++i) {
      auto& device = fleet[static_cast<std::size_t>(i)];
      device.id = "b1-device-" + std::to_string(i);
      device.user = "b1.officer." + std::to_string(i);
      device.token = *(*store)->enroll(device.id, device.user, safer::Role::officer);
    }
  }
  for (int i = 0; i < devices; ++i) {
    const std::int64_t share = total_visits / devices + (i < total_visits % devices ? 1 : 0);
    prepare(fleet[static_cast<std::size_t>(i)], share, batch, static_cast<std::int64_t>(i) * 1'000'000);
  }

  std::vector<std::unique_ptr<bench::ServerProcess>> servers;
  for (int i = 0; i < server_count; ++i) {
    servers.push_back(
        std::make_unique<bench::ServerProcess>(server_binary, db, dir.file("server" + std::to_string(i) + ".log")));
  }
  bench::asio::io_context ioc;
  bench::asio::steady_timer gate(ioc, Clock::time_point::max());
  int ready = 0;
  Clock::time_point started{}, finished{};
  RunResult result;
  for (std::size_t index = 0; index < fleet.size(); ++index) {
    auto& device = fleet[index];
    const auto& server = *servers[index % servers.size()];
    bench::asio::co_spawn(
        ioc,
        [&]() -> bench::asio::awaitable<void> {
          bench::WsDevice ws(co_await bench::asio::this_coro::executor);
          try {
            co_await ws.open(server.port(), device.token, device.id);
            co_await ws.push(device.household_push, 1);
            if (++ready == devices) {
              started = Clock::now();
              gate.cancel();
            } else {
              boost::system::error_code ignored;
              co_await gate.async_wait(bench::asio::redirect_error(bench::asio::use_awaitable, ignored));
            }
            for (std::size_t i = 0; i < device.pushes.size(); ++i) {
              const auto sent = Clock::now();
              co_await ws.push(device.pushes[i], device.last_seqs[i]);
              device.latencies_ms.push_back(bench::ms_since(sent));
            }
            result.acked += device.visits;
            finished = std::max(finished, Clock::now());
            co_await ws.close();
          } catch (const std::exception& error) {
            std::cerr << "b1: device " << device.id << ": " << error.what() << '\n';
            ++result.failures;
            if (ready < devices) {  // never leave the others waiting for it
              ready = devices;
              gate.cancel();
            }
          }
        },
        bench::asio::detached);
  }
  ioc.run();
  for (auto& server : servers) server->stop();
  result.seconds = std::chrono::duration<double>(finished - started).count();
  for (auto& device : fleet) {
    result.latencies_ms.insert(result.latencies_ms.end(), device.latencies_ms.begin(), device.latencies_ms.end());
  }
  for (int i = 0; i < server_count; ++i) {
    const auto groups = bench::sum_log(dir.file("server" + std::to_string(i) + ".log"), "push", "group");
    result.groups.lines += groups.lines;
    result.groups.total += groups.total;
  }
  return result;
}

// The baseline: see the header comment.
double run_baseline(std::int64_t rows, int per_transaction) {
  bench::TempDir dir("b1-baseline");
  const std::string db = dir.file("server.db");
  (void)sync_server::ServerStore::open(db);  // the schema, exactly as the server makes it

  struct Row {
    std::string id, hlc, data, device, user, household_id, visited_at, status, local_day;
    bool follow_up = false;
  };
  std::vector<Row> prepared;
  prepared.reserve(static_cast<std::size_t>(rows));
  safer::HlcClock clock(safer::now_unix_millis);
  const auto now = safer::now_unix_millis();
  const int devices = 100;
  std::vector<std::string> households;
  for (int d = 0; d < devices; ++d) households.push_back(safer::new_uuid_v7());
  for (std::int64_t n = 0; n < rows; ++n) {
    const int d = static_cast<int>(n % devices);
    const auto visit = bench::sample_visit(households[static_cast<std::size_t>(d)], now - (n % 1000) * 60'000, n);
    prepared.push_back(Row{safer::new_uuid_v7(), clock.tick().to_string(), safer::to_json(visit),
                           "b1-device-" + std::to_string(d), "b1.officer." + std::to_string(d), visit.household_id,
                           safer::format_rfc3339(visit.visited_at), std::string(safer::to_string(visit.status)),
                           safer::format_iso_date(sync_server::local_date(visit.visited_at)),
                           visit.has(safer::Outcome::follow_up_required)});
  }

  safer::sqlite::Database database(db);
  database.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;");
  safer::sqlite::Statement insert(
      database.handle(),
      "INSERT INTO records (entity, id, hlc, device_id, user_id, owner, deleted, data, version, household_id,"
      " assigned_to, target, ward, visited_at, status, follow_up, local_day)"
      " VALUES ('visit', ?1, ?2, ?3, ?4, ?4, 0, ?5, ?6, ?7, NULL, 0, ?8, ?9, ?10, ?11, ?12)");
  const auto started = Clock::now();
  std::int64_t version = 0;
  for (std::size_t i = 0; i < prepared.size();) {
    safer::sqlite::Transaction transaction(database);
    for (int k = 0; k < per_transaction && i < prepared.size(); ++k, ++i) {
      const auto& row = prepared[i];
      insert.bind(1, row.id).bind(2, row.hlc).bind(3, row.device).bind(4, row.user).bind(5, row.data);
      insert.bind(6, ++version).bind(7, row.household_id).bind(8, "Elstree").bind(9, row.visited_at);
      insert.bind(10, row.status).bind(11, row.follow_up ? 1 : 0).bind(12, row.local_day);
      insert.run();
      insert.reset();
    }
    transaction.commit();
  }
  return static_cast<double>(rows) / bench::seconds_since(started);
}

std::vector<int> parse_list(const std::string& text) {
  std::vector<int> values;
  std::stringstream stream(text);
  for (std::string item; std::getline(stream, item, ',');) values.push_back(std::stoi(item));
  return values;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"B1: devices pushing 200,000 visits through WebSockets, and the prepared-statement baseline"};
  std::string devices_list = "1,10,100";
  std::int64_t visits = 200'000;
  int batch = 500;
  std::string server = SYNC_SERVER_BINARY;
  bool no_baseline = false, postgresql = false;
  int server_count = 1;
  app.add_option("--devices", devices_list, "Comma-separated device counts")->capture_default_str();
  app.add_option("--visits", visits, "Visits in total, per run")->capture_default_str()->check(CLI::Range(1, 10'000'000));
  app.add_option("--batch", batch, "Changes per push")->capture_default_str()->check(CLI::Range(1, 1000));
  app.add_option("--server", server)->capture_default_str();
  app.add_flag("--no-baseline", no_baseline);
  app.add_flag("--postgresql", postgresql, "Over PostgreSQL (a private cluster this program starts)");
  app.add_option("--servers", server_count, "sync-server processes over the one database")
      ->capture_default_str()
      ->check(CLI::Range(1, 8));
  CLI11_PARSE(app, argc, argv);
  signal(SIGPIPE, SIG_IGN);
  if (auto zone = sync_server::use_time_zone(sync_server::kDefaultTimeZone); !zone) {
    std::cerr << zone.error().message << '\n';
    return 1;
  }

  std::unique_ptr<test_support::PgCluster> cluster;
  if (postgresql) cluster = std::make_unique<test_support::PgCluster>(/*durable=*/true);
  if (server_count > 1 && !postgresql) {
    std::cerr << "b1: several servers share one database on PostgreSQL only (--postgresql)\n";
    return 2;
  }

  int failures = 0;
  std::optional<double> baseline;
  if (!no_baseline && !postgresql) {
    baseline = run_baseline(visits, 500);
    bench::Figure("B1", "baseline: prepared INSERT into records, 500 rows per transaction, same schema and PRAGMAs")
        .field("rows", visits)
        .value(*baseline, "rows/s")
        .print();
  }
  for (const int devices : parse_list(devices_list)) {
    const auto result = run_devices(server, devices, visits, batch, cluster.get(), server_count);
    failures += result.failures;
    const double rate = result.failures == 0 ? static_cast<double>(result.acked) / result.seconds : 0.0;
    bench::Figure figure("B1", "push visits/s, acked (durable)");
    figure.field("store", postgresql ? "postgresql" : "sqlite").field("servers", server_count);
    figure.field("devices", devices).field("visits", result.acked).field("batch", batch);
    figure.field("seconds", result.seconds);
    figure.field("push_ack_ms_p50", bench::percentile(result.latencies_ms, 0.5));
    figure.field("push_ack_ms_p99", bench::percentile(result.latencies_ms, 0.99));
    figure.field("mean_batches_per_commit",
                 result.groups.lines ? static_cast<double>(result.groups.total) / static_cast<double>(result.groups.lines) : 0.0);
    figure.field("failed_devices", result.failures);
    if (baseline) figure.field("baseline", *baseline).field("of_baseline", rate / *baseline);
    figure.value(rate, "visits/s");
    if (devices == 100 && !postgresql) figure.target(70'000, true, !baseline || rate >= 0.5 * *baseline);
    figure.print();
  }
  return failures == 0 ? 0 : 1;
}
