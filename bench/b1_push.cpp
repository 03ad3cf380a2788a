// B1: M simulated devices push visits through WebSockets into a real sync-server until every
// change is acknowledged (durably committed), for M = 1, 10 and 100; and, in the same run, the
// baseline: the same changes applied to the same schema with prepared statements, statistics
// included, 500 per transaction, with the same PRAGMAs (support/b1_baseline.h); on PostgreSQL
// the records rows by multi-row INSERT, 500 a statement (run_b1_pg_baseline).
//
//   b1_push [--workload realistic|best-case] [--households 10000] [--seed 1]
//           [--devices 1,10,100] [--visits 200000] [--batch 500] [--server PATH] [--no-baseline]
//           [--postgresql [--servers N]]
//
// The workloads are support/b1_workload.h's: realistic (the default; a register of
// --households imported first and assigned round robin to the officers, visits over a year,
// every status, edits, deletes, households added in the field; at most two pushes in flight per
// device) and best-case (one household per officer, visits within 1,000 minutes; one push in
// flight, as before issue 17). Every JSON line names its workload.
//
// --postgresql: the same runs over PostgreSQL instead of SQLite — a private cluster that this
// program starts (initdb in a temporary directory, fsync and synchronous_commit on: durable
// as SQLite's synchronous=FULL), a new database per run — with --servers sync-server
// processes over it (the devices spread over them round robin, as a load balancer would).
//
// Each M runs against a fresh server over a fresh database. The messages are encoded before
// the clock starts (a tablet encodes on its own CPU); the clock runs from the moment every
// device is connected and welcomed (and, best case, has pushed its household) until the last
// ack. Every ack is checked: its acked_seq must be the push's last seq; rejections are counted
// and reported (none are expected). At the end the server's all-time visits_total must equal
// the new visits minus the deletes. All devices are coroutines on one client thread, to leave
// the server as much of the machine as possible.
//
// bytes_written_per_visit (SQLite): the growth of /proc/<server pid>/io write_bytes over the
// timed part, per new visit — every byte the server process caused to be written to storage:
// the WAL's frames, checkpoints into the database file, and its log (a few lines). On a file
// system without a block device (tmpfs) it is 0; write_syscall_bytes_per_visit (wchar) counts
// the bytes handed to write(2) and pwrite(2) instead, whatever the file system.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <CLI/CLI.hpp>

#include <signal.h>

#include <deque>
#include <fstream>
#include <functional>
#include <iostream>
#include <sstream>

#include "pg_cluster.h"
#include "support/b1_baseline.h"
#include "support/b1_workload.h"
#include "support/bench.h"
#include "support/ws_device.h"
#include "sync_server/local_time.h"
#include "sync_server/server_store.h"

namespace {

using bench::Clock;

struct RunResult {
  double seconds = 0;
  std::int64_t acked_changes = 0;
  std::int64_t rejected = 0;
  std::int64_t bad_acks = 0;  // acked_seq other than the push's last seq
  std::vector<double> latencies_ms;
  bench::LogSum groups;
  int failures = 0;
  std::optional<std::int64_t> write_bytes, write_syscall_bytes;  // SQLite: the server's, timed part
  std::int64_t stats_visits_total = -1;
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

// A field of /proc/<pid>/io ("write_bytes", "wchar"), or nullopt if unreadable.
std::optional<std::int64_t> proc_io(pid_t pid, const std::string& field) {
  std::ifstream io("/proc/" + std::to_string(pid) + "/io");
  for (std::string line; std::getline(io, line);) {
    if (line.rfind(field + ":", 0) == 0) return std::stoll(line.substr(field.size() + 1));
  }
  return std::nullopt;
}

// Enrols the plan's devices and imports its register, as a county's store is made ready.
// Returns each device's token.
std::vector<std::string> prepare_store(const std::string& db, const bench::B1Plan& plan) {
  auto store = sync_server::ServerStore::open(db);
  if (!store) throw std::runtime_error(store.error().message);
  std::vector<std::string> tokens;
  for (const auto& device : plan.devices) tokens.push_back(*(*store)->enroll(device.id, device.user, safer::Role::officer));
  if (!plan.register_csv.empty()) {
    if (auto imported = (*store)->import_households(plan.register_csv); !imported) {
      throw std::runtime_error("b1: register import: " + imported.error().message);
    }
  }
  return tokens;
}

// One device: connect, the setup push, wait at the gate, then its pushes with at most
// `in_flight` unanswered, every ack checked.
bench::asio::awaitable<void> run_device(const bench::B1Device& device, const std::string& token,
                                        unsigned short port, std::vector<std::string> capabilities,
                                        std::size_t in_flight, std::function<bench::asio::awaitable<void>()> at_gate,
                                        RunResult& result) {
  bench::WsDevice ws(co_await bench::asio::this_coro::executor);
  co_await ws.open(port, token, device.id, std::move(capabilities));
  if (!device.setup.empty()) co_await ws.push(device.setup, 1);
  co_await at_gate();
  std::deque<Clock::time_point> sent_at;
  for (std::size_t sent = 0, acked = 0; acked < device.pushes.size();) {
    while (sent < device.pushes.size() && sent - acked < in_flight) {
      sent_at.push_back(Clock::now());
      co_await ws.send(device.pushes[sent++]);
    }
    const auto ack = co_await ws.read_ack();
    result.latencies_ms.push_back(bench::ms_since(sent_at.front()));
    sent_at.pop_front();
    if (ack.acked_seq != device.last_seqs[acked]) ++result.bad_acks;
    if (!ack.rejected.empty() && result.rejected == 0) {
      std::cerr << "b1: device " << device.id << ": first rejection: " << ack.rejected.front().code << " "
                << ack.rejected.front().message << '\n';
    }
    result.rejected += static_cast<std::int64_t>(ack.rejected.size());
    const auto first_seq = acked == 0 ? (device.setup.empty() ? 1 : 2) : device.last_seqs[acked - 1] + 1;
    result.acked_changes += device.last_seqs[acked] - first_seq + 1;
    ++acked;
  }
  co_await ws.close();
}

RunResult run_devices(const std::string& server_binary, const bench::B1Plan& plan, bench::B1Workload workload,
                      test_support::PgCluster* cluster, int server_count) {
  bench::TempDir dir("b1-push");
  const std::string db = new_database(dir, cluster);
  const auto tokens = prepare_store(db, plan);

  std::vector<std::unique_ptr<bench::ServerProcess>> servers;
  for (int i = 0; i < server_count; ++i) {
    servers.push_back(
        std::make_unique<bench::ServerProcess>(server_binary, db, dir.file("server" + std::to_string(i) + ".log")));
  }
  const bool realistic = workload == bench::B1Workload::realistic;
  const std::vector<std::string> capabilities =
      realistic ? std::vector<std::string>{"share_basis", "work_dates"} : std::vector<std::string>{};
  const std::size_t in_flight = realistic ? 2 : 1;

  bench::asio::io_context ioc;
  bench::asio::steady_timer gate(ioc, Clock::time_point::max());
  const int devices = static_cast<int>(plan.devices.size());
  int ready = 0;
  Clock::time_point started{}, finished{};
  std::optional<std::int64_t> write_bytes_before, wchar_before;
  RunResult result;
  const auto open_gate = [&] {
    ready = devices;
    if (cluster == nullptr) {
      write_bytes_before = proc_io(servers.front()->pid(), "write_bytes");
      wchar_before = proc_io(servers.front()->pid(), "wchar");
    }
    started = Clock::now();
    gate.cancel();
  };
  const auto at_gate = [&]() -> bench::asio::awaitable<void> {
    if (++ready >= devices) {
      if (ready == devices) open_gate();
      co_return;
    }
    boost::system::error_code ignored;
    co_await gate.async_wait(bench::asio::redirect_error(bench::asio::use_awaitable, ignored));
  };
  for (std::size_t index = 0; index < plan.devices.size(); ++index) {
    const auto* device = &plan.devices[index];
    const auto port = servers[index % servers.size()]->port();
    bench::asio::co_spawn(
        ioc,
        [&, device, index, port]() -> bench::asio::awaitable<void> {
          try {
            co_await run_device(*device, tokens[index], port, capabilities, in_flight, at_gate, result);
            finished = std::max(finished, Clock::now());
          } catch (const std::exception& error) {
            std::cerr << "b1: device " << device->id << ": " << error.what() << '\n';
            ++result.failures;
            if (ready < devices) open_gate();  // never leave the others waiting for it
          }
        },
        bench::asio::detached);
  }
  ioc.run();
  if (write_bytes_before) {
    if (const auto after = proc_io(servers.front()->pid(), "write_bytes")) result.write_bytes = *after - *write_bytes_before;
  }
  if (wchar_before) {
    if (const auto after = proc_io(servers.front()->pid(), "wchar")) result.write_syscall_bytes = *after - *wchar_before;
  }
  for (auto& server : servers) server->stop();
  result.seconds = std::chrono::duration<double>(finished - started).count();
  for (int i = 0; i < server_count; ++i) {
    const auto groups = bench::sum_log(dir.file("server" + std::to_string(i) + ".log"), "push", "group");
    result.groups.lines += groups.lines;
    result.groups.total += groups.total;
  }
  auto store = sync_server::ServerStore::open(db);
  if (!store) throw std::runtime_error(store.error().message);
  result.stats_visits_total = (*store)->stats(std::nullopt, std::nullopt).visits_total;
  return result;
}

std::vector<int> parse_list(const std::string& text) {
  std::vector<int> values;
  std::stringstream stream(text);
  for (std::string item; std::getline(stream, item, ',');) values.push_back(std::stoi(item));
  return values;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"B1: devices pushing visits through WebSockets, and the baseline of the same changes"};
  std::string devices_list = "1,10,100";
  std::int64_t visits = 200'000, households = 10'000;
  std::uint64_t seed = 1;
  int batch = 500;
  std::string server = SYNC_SERVER_BINARY;
  bool no_baseline = false, postgresql = false;
  int server_count = 1;
  std::string workload_name = "realistic";
  app.add_option("--workload", workload_name, "realistic or best-case")
      ->check(CLI::IsMember({"realistic", "best-case"}))
      ->capture_default_str();
  app.add_option("--households", households, "Households on the register (realistic)")
      ->capture_default_str()
      ->check(CLI::Range(1, 10'000'000));
  app.add_option("--seed", seed, "Seed of the workload's random choices")->capture_default_str();
  app.add_option("--devices", devices_list, "Comma-separated device counts")->capture_default_str();
  app.add_option("--visits", visits, "New visits in total, per run")->capture_default_str()->check(CLI::Range(1, 10'000'000));
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

  const auto workload = workload_name == "realistic" ? bench::B1Workload::realistic : bench::B1Workload::best_case;
  int failures = 0;
  for (const int devices : parse_list(devices_list)) {
    const auto plan = bench::plan_b1({workload, devices, visits, households, batch, seed});
    std::optional<double> baseline;
    if (!no_baseline && !postgresql) {
      baseline = bench::run_b1_baseline(plan);
      bench::Figure("B1", "baseline: the same changes by prepared statements, statistics included, 500 per transaction")
          .field("workload", workload_name)
          .field("devices", devices)
          .field("changes", plan.changes())
          .value(*baseline, "changes/s")
          .print();
    } else if (!no_baseline) {
      const bench::TempDir unused("b1-pg-baseline");  // new_database's directory, for SQLite only
      baseline = bench::run_b1_pg_baseline(plan, new_database(unused, cluster.get()));
      bench::Figure("B1", "baseline: the same records rows by multi-row INSERT into PostgreSQL, 500 a statement and transaction")
          .field("workload", workload_name)
          .field("store", "postgresql")
          .field("devices", devices)
          .field("changes", plan.changes())
          .value(*baseline, "changes/s")
          .print();
    }
    const auto result = run_devices(server, plan, workload, cluster.get(), server_count);
    const bool clean = result.failures == 0 && result.rejected == 0 && result.bad_acks == 0 &&
                       result.acked_changes == plan.changes() &&
                       result.stats_visits_total == plan.expected_visits_total();
    if (!clean) ++failures;
    const double changes_per_s = result.failures == 0 ? static_cast<double>(result.acked_changes) / result.seconds : 0.0;
    const double rate = result.failures == 0 ? static_cast<double>(plan.new_visits) / result.seconds : 0.0;
    bench::Figure figure("B1", workload == bench::B1Workload::realistic
                                   ? "push visits/s, acked (durable), realistic workload"
                                   : "push visits/s, acked (durable), best case (one household per device)");
    figure.field("workload", workload_name);
    figure.field("store", postgresql ? "postgresql" : "sqlite").field("servers", server_count);
    figure.field("devices", devices).field("visits", plan.new_visits).field("batch", batch);
    if (workload == bench::B1Workload::realistic) {
      figure.field("households", households).field("seed", static_cast<std::int64_t>(seed));
      figure.field("edits", plan.edits).field("deletes", plan.deletes).field("field_households", plan.field_households);
    }
    figure.field("changes", plan.changes()).field("changes_acked", result.acked_changes);
    figure.field("changes_per_s", changes_per_s).field("seconds", result.seconds);
    figure.field("push_ack_ms_p50", bench::percentile(result.latencies_ms, 0.5));
    figure.field("push_ack_ms_p99", bench::percentile(result.latencies_ms, 0.99));
    figure.field("mean_batches_per_commit",
                 result.groups.lines ? static_cast<double>(result.groups.total) / static_cast<double>(result.groups.lines) : 0.0);
    figure.field("rejected", result.rejected).field("bad_acks", result.bad_acks);
    figure.field("stats_visits_total", result.stats_visits_total)
        .field("stats_expected", plan.expected_visits_total())
        .field("stats_match", result.stats_visits_total == plan.expected_visits_total());
    figure.field("failed_devices", result.failures);
    if (result.write_bytes) {
      figure.field("bytes_written_per_visit", static_cast<double>(*result.write_bytes) / static_cast<double>(plan.new_visits));
    }
    if (result.write_syscall_bytes) {
      figure.field("write_syscall_bytes_per_visit",
                   static_cast<double>(*result.write_syscall_bytes) / static_cast<double>(plan.new_visits));
    }
    if (baseline) figure.field("baseline", *baseline).field("of_baseline", changes_per_s / *baseline);
    figure.value(rate, "visits/s");
    if (devices == 100 && !postgresql) figure.target(70'000, true, clean && (!baseline || changes_per_s >= 0.5 * *baseline));
    figure.print();
  }
  return failures == 0 ? 0 : 1;
}
