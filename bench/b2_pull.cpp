// B2: a new tablet pulls 10,000 households and 50,000 visits from scratch into its store.
//
//   b2_pull [--households 10000] [--visits 50000] [--workload realistic|uniform]
//           [--role officer|coordinator] [--encrypted] [--server PATH] [--client PATH]
//
// --encrypted: the tablet is enrolled with a PIN (--pin-file), so its store is encrypted
// (SQLite3MC, ChaCha20-Poly1305) and the sync unlocks it first (one scrypt, 2^17).
//
// The server's database is filled through ServerStore as a coordinator's pushes would fill
// it: every household assigned to officer b2.officer (so all of them, and their visits, are
// in that officer's scope), the visits spread over them. --workload realistic (the default,
// issue 17): each visit to a household drawn at random, dated at random over the last 365
// days, with B1's realistic status, outcome, note and referral mixes (b1_workload.h);
// uniform: the older fill, every 7,919th household in turn, dated over 2,000 hours, no notes.
// Then the real sync-server starts, a fresh field-client store is enrolled as the new tablet
// (not timed) of the officer, or with --role coordinator of a coordinator, and
// `field-client --json sync` runs as a child process: the figure is its wall time, from exec
// to exit, which includes creating the store, the handshake, and every page pulled and
// committed (pages of 500, the client's default).
//
// Bytes on the wire: the server logs each page it sends ("pull … bytes=N", the JSON text of the
// message); their sum is the payload from server to tablet. WebSocket framing adds 4 to 10
// bytes a message, TCP/IP headers more; neither is counted.
#include <CLI/CLI.hpp>

#include <fstream>
#include <random>

#include <signal.h>

#include <iostream>

#include "safer/time.h"
#include "safer/uuid.h"
#include "pg_cluster.h"
#include "support/b1_workload.h"
#include "support/bench.h"
#include "sync_server/local_time.h"
#include "sync_server/server_store.h"

namespace {

using bench::Clock;

// Fills `db`; returns the token of a tablet "b2-tablet" of `role`.
std::string fill(const std::string& db, std::int64_t households, std::int64_t visits, bool realistic, safer::Role role) {
  auto opened = sync_server::ServerStore::open(db);
  if (!opened) throw std::runtime_error(opened.error().message);
  auto& store = **opened;
  (void)store.enroll("b2-coordinator", "b2.coordinator", safer::Role::coordinator);
  const std::string token = *store.enroll(
      "b2-tablet", role == safer::Role::coordinator ? "b2.new-coordinator" : "b2.officer", role);
  const sync_server::DeviceIdentity coordinator{"b2-coordinator", "b2.coordinator", safer::Role::coordinator};
  safer::HlcClock clock(safer::now_unix_millis);
  std::int64_t seq = 0;
  std::vector<std::string> ids;
  for (std::int64_t h = 0; h < households; ++h) ids.push_back(safer::new_uuid_v7());
  const auto push_all = [&](auto&& make_change, std::int64_t count) {
    store.begin_group();
    for (std::int64_t n = 0; n < count;) {
      safer::ReceivedPush push;
      for (int k = 0; k < 1000 && n < count; ++k, ++n) push.changes.push_back({++seq, make_change(n), {}});
      const auto outcome = store.apply_push(coordinator, push, {}, "", safer::WriterRules::all());
      if (!outcome.ack || !outcome.ack->rejected.empty()) throw std::runtime_error("the fill was refused");
    }
    store.commit_group();
  };
  push_all(
      [&](std::int64_t h) {
        return safer::Change{safer::Entity::household, safer::Op::upsert, ids[static_cast<std::size_t>(h)],
                             clock.tick(), bench::sample_household(h, h % 2 == 0, std::string("b2.officer"))};
      },
      households);
  const auto now = safer::now_unix_millis();
  std::mt19937_64 rng(1);
  push_all(
      [&](std::int64_t n) {
        if (realistic) {
          const auto& household = ids[std::uniform_int_distribution<std::size_t>(0, ids.size() - 1)(rng)];
          const auto at = now - std::uniform_int_distribution<safer::UnixMillis>(60'000, 365 * 86'400'000LL)(rng);
          return safer::Change{safer::Entity::visit, safer::Op::upsert, safer::new_uuid_v7(), clock.tick(),
                               bench::realistic_visit(rng, household, at)};
        }
        const auto& household = ids[static_cast<std::size_t>((n * 7919) % households)];
        return safer::Change{safer::Entity::visit, safer::Op::upsert, safer::new_uuid_v7(), clock.tick(),
                             bench::sample_visit(household, now - (n % 2000) * 3'600'000, n)};
      },
      visits);
  return token;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"B2: a new tablet pulls 10,000 households and 50,000 visits"};
  std::int64_t households = 10'000, visits = 50'000;
  std::string server = SYNC_SERVER_BINARY, client = FIELD_CLIENT_BINARY;
  app.add_option("--households", households)->capture_default_str()->check(CLI::Range(1, 10'000'000));
  app.add_option("--visits", visits)->capture_default_str()->check(CLI::Range(0, 100'000'000));
  app.add_option("--server", server)->capture_default_str();
  app.add_option("--client", client)->capture_default_str();
  std::string workload = "realistic", role = "officer";
  app.add_option("--workload", workload, "realistic or uniform")
      ->capture_default_str()
      ->check(CLI::IsMember({"realistic", "uniform"}));
  app.add_option("--role", role, "Whose new tablet pulls: officer or coordinator")
      ->capture_default_str()
      ->check(CLI::IsMember({"officer", "coordinator"}));
  bool postgresql = false;
  bool encrypted = false;
  app.add_flag("--encrypted", encrypted, "The tablet's store encrypted with a PIN");
  app.add_flag("--postgresql", postgresql, "Over PostgreSQL (a private durable cluster this program starts)");
  CLI11_PARSE(app, argc, argv);
  signal(SIGPIPE, SIG_IGN);
  if (auto zone = sync_server::use_time_zone(sync_server::kDefaultTimeZone); !zone) {
    std::cerr << zone.error().message << '\n';
    return 1;
  }

  bench::TempDir dir("b2-pull");
  std::unique_ptr<test_support::PgCluster> cluster;
  std::string db = dir.file("server.db");
  if (postgresql) {
    cluster = std::make_unique<test_support::PgCluster>(/*durable=*/true);
    cluster->create_database("b2");
    db = cluster->url("b2");
  }
  const std::string token = fill(db, households, visits, workload == "realistic",
                                 role == "coordinator" ? safer::Role::coordinator : safer::Role::officer);
  bench::ServerProcess process(server, db, dir.file("server.log"));
  const std::string store = dir.file("tablet.db");
  const std::string pin_file = dir.file("pin.txt");
  std::ofstream(pin_file) << "b2-bench-passphrase\n";
  // field-client --store STORE [--pin-file PIN] ARGS…
  const auto field_client = [&](std::vector<std::string> args) {
    std::vector<std::string> command = {client, "--store", store};
    if (encrypted) command.insert(command.end(), {"--pin-file", pin_file});
    command.insert(command.end(), args.begin(), args.end());
    return bench::run_child(command, dir.file("client.log"));
  };
  const auto enrolled = field_client({"enroll", "--server", "ws://127.0.0.1:" + std::to_string(process.port()),
                                      "--token", token, "--device", "b2-tablet"});
  if (enrolled.exit_code != 0) {
    std::cerr << "b2: field-client enroll failed\n";
    return 1;
  }
  const auto synced = field_client({"--json", "sync"});
  process.stop();
  const auto pulled_at = synced.out.find("\"pulled\":");
  const std::int64_t pulled = pulled_at == std::string::npos ? 0 : std::stoll(synced.out.substr(pulled_at + 9));
  const bool complete = synced.exit_code == 0 && pulled == households + visits;
  if (!complete) std::cerr << "b2: sync exited " << synced.exit_code << ", pulled " << pulled << ": " << synced.out << '\n';
  const auto pages = bench::sum_log(dir.file("server.log"), "pull", "bytes");
  const double seconds = synced.wall_ms / 1000.0;
  bench::Figure("B2", "new tablet pulls everything from scratch (field-client sync, wall time)")
      .field("store", postgresql ? "postgresql" : "sqlite")
      .field("encrypted", encrypted ? "yes" : "no")
      .field("workload", workload)
      .field("role", role)
      .field("households", households)
      .field("visits", visits)
      .field("pulled", pulled)
      .field("pages", pages.lines)
      .field("bytes_on_wire", pages.total)
      .field("bytes_per_change", pulled > 0 ? static_cast<double>(pages.total) / static_cast<double>(pulled) : 0.0)
      .field("client_peak_rss_kib", synced.max_rss_kib)
      .field("tablet_db_bytes", static_cast<std::int64_t>(std::filesystem::file_size(store)))
      .value(seconds, "s")
      .target(2, false, complete)
      .print();
  return complete ? 0 : 1;
}
