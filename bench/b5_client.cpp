// B5: the field client. Syncing a 10,000-visit outbox to a real server; and recording one
// visit through the command line (wall time and peak memory of the process).
//
//   b5_client [--outbox 10000] [--records 31] [--encrypted] [--server PATH] [--client PATH]
//
// The server runs on a fresh database with the tablet enrolled as an officer. The tablet's
// store is made by `field-client enroll`, then filled in-process through field_client::Store
// (100 households found in the field, then --outbox visits to them dated over the last year,
// with the realistic workload's status, outcome, note and referral mixes: each its own
// transaction, as the app writes them). The timed sync is `field-client sync` as a child
// process, exec to exit: it pushes the 10,100 changes in batches of 500 and pulls them back
// (they are in the officer's scope).
//
// Recording: `field-client visit record --household ID --status completed …` runs --records
// times on that same store (now holding the households and 10,000 visits); each run's wall
// time (fork to exit) and peak RSS (ru_maxrss from wait4) are taken. The figures are the
// median wall time and the largest peak RSS.
//
// --encrypted: the tablet is enrolled with a PIN (--pin-file), so its store is encrypted
// (SQLite3MC, ChaCha20-Poly1305) and every field-client run unlocks it first: scrypt of the
// PIN (2^17, 128 MiB), the once-per-launch cost, which a recording through the CLI pays each
// time and the app once.
#include <CLI/CLI.hpp>

#include <signal.h>

#include <fstream>
#include <iostream>
#include <random>

#include "field_client/pin_guard.h"
#include "field_client/store.h"
#include "safer/time.h"
#include "support/b1_workload.h"
#include "support/bench.h"
#include "sync_server/local_time.h"
#include "sync_server/server_store.h"

namespace {

using bench::Clock;

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"B5: field-client sync of a 10,000-visit outbox, and recording one visit"};
  std::int64_t outbox = 10'000;
  int records = 31;
  std::string server = SYNC_SERVER_BINARY, client = FIELD_CLIENT_BINARY;
  bool encrypted = false;
  app.add_flag("--encrypted", encrypted, "The tablet's store encrypted with a PIN");
  app.add_option("--outbox", outbox, "Visits waiting to sync")->capture_default_str()->check(CLI::Range(1, 1'000'000));
  app.add_option("--records", records, "Visits recorded through the CLI")->capture_default_str()->check(CLI::Range(1, 10'000));
  app.add_option("--server", server)->capture_default_str();
  app.add_option("--client", client)->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  signal(SIGPIPE, SIG_IGN);
  if (auto zone = sync_server::use_time_zone(sync_server::kDefaultTimeZone); !zone) {
    std::cerr << zone.error().message << '\n';
    return 1;
  }

  bench::TempDir dir("b5-client");
  std::string token;
  {
    auto store = sync_server::ServerStore::open(dir.file("server.db"));
    if (!store) throw std::runtime_error(store.error().message);
    token = *(*store)->enroll("b5-tablet", "b5.officer", safer::Role::officer);
  }
  bench::ServerProcess process(server, dir.file("server.db"), dir.file("server.log"));
  const std::string tablet = dir.file("tablet.db");
  const std::string client_log = dir.file("client.log");
  constexpr const char* kPin = "b5-bench-passphrase";
  constexpr std::int64_t kFieldHouseholds = 100;
  const std::string pin_file = dir.file("pin.txt");
  std::ofstream(pin_file) << kPin << '\n';
  // field-client --store TABLET [--pin-file PIN] ARGS…
  const auto field_client = [&](std::vector<std::string> args) {
    std::vector<std::string> command = {client, "--store", tablet};
    if (encrypted) command.insert(command.end(), {"--pin-file", pin_file});
    command.insert(command.end(), args.begin(), args.end());
    return bench::run_child(command, client_log);
  };
  const auto enrolled = field_client({"enroll", "--server",
                                     "ws://127.0.0.1:" + std::to_string(process.port()), "--token", token,
                                     "--device", "b5-tablet"});
  if (enrolled.exit_code != 0) {
    std::cerr << "b5: field-client enroll failed\n";
    return 1;
  }

  // The outbox: households found in the field, and the visits to them over the last year with
  // the realistic workload's mixes (bench/support/b1_workload.cpp).
  std::string household_id;
  const auto fill_started = Clock::now();
  {
    auto opened = encrypted ? field_client::unlock_store(tablet, kPin) : field_client::Store::open(tablet);
    if (!opened) throw std::runtime_error(opened.error().message);
    auto& store = **opened;
    std::vector<std::string> households;
    for (std::int64_t h = 0; h < kFieldHouseholds; ++h) {
      auto household = bench::sample_household(h + 1);
      household.target.reset();
      household.assigned_to.reset();
      households.push_back(*store.create(household));
    }
    household_id = households.front();
    std::mt19937_64 rng(1);
    std::uniform_int_distribution<safer::UnixMillis> when(0, 365LL * 86'400'000);
    std::uniform_int_distribution<std::size_t> which(0, households.size() - 1);
    const auto now = safer::now_unix_millis();
    for (std::int64_t n = 0; n < outbox; ++n) {
      auto created = store.create(bench::realistic_visit(rng, households[which(rng)], now - when(rng)));
      if (!created) throw std::runtime_error(created.error().message);
    }
  }
  const double fill_seconds = bench::seconds_since(fill_started);

  const auto synced = field_client({"--json", "sync"});
  const auto pushed_at = synced.out.find("\"pushed\":");
  const std::int64_t pushed = pushed_at == std::string::npos ? 0 : std::stoll(synced.out.substr(pushed_at + 9));
  const bool sync_ok = synced.exit_code == 0 && pushed == outbox + kFieldHouseholds;
  if (!sync_ok) std::cerr << "b5: sync exited " << synced.exit_code << ": " << synced.out << '\n';
  bench::Figure("B5", "field-client sync of a full outbox (wall time)")
      .field("outbox", outbox + kFieldHouseholds)
      .field("encrypted", encrypted ? "yes" : "no")
      .field("workload", "realistic")
      .field("pushed", pushed)
      .field("client_peak_rss_kib", synced.max_rss_kib)
      .field("outbox_fill_seconds", fill_seconds)
      .value(synced.wall_ms / 1000.0, "s")
      .target(1, false, sync_ok)
      .print();

  std::vector<double> walls;
  std::int64_t peak_kib = 0;
  int failed = 0;
  for (int i = 0; i < records; ++i) {
    const auto run = field_client({"visit", "record", "--household", household_id, "--status", "completed",
                                   "--crime-prevention-advice", "--fire-safety-check", "--smoke-detectors", "2",
                                   "--notes", "Recorded by the benchmark."});
    if (run.exit_code != 0) ++failed;
    walls.push_back(run.wall_ms);
    peak_kib = std::max(peak_kib, run.max_rss_kib);
  }
  process.stop();
  bench::Figure("B5", "field-client visit record: wall time, median")
      .field("runs", records)
      .field("encrypted", encrypted ? "yes" : "no")
      .field("p90_ms", bench::percentile(walls, 0.9))
      .field("max_ms", bench::percentile(walls, 1.0))
      .field("store_visits", outbox + records)
      .field("failed", failed)
      .value(bench::percentile(walls, 0.5), "ms")
      .target(20, false, failed == 0)
      .print();
  bench::Figure("B5", "field-client visit record: peak RSS, largest of the runs")
      .field("runs", records)
      .field("encrypted", encrypted ? "yes" : "no")
      .value(static_cast<double>(peak_kib) / 1024.0, "MiB")
      .target(16, false, failed == 0)
      .print();
  return sync_ok && failed == 0 ? 0 : 1;
}
