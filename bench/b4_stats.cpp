// B4: GET /api/v1/stats for a financial year with 1,000,000 visits stored.
//
//   b4_stats [--visits 1000000] [--households 10000] [--requests 2000] [--server PATH] [--keep-db DIR]
//
// Builds a server database the way pushes would: a coordinator device's upserts through
// ServerStore (every other household on the target list, across the 16 wards), then the
// visits, with the realistic workload's status, outcome, note and referral mixes
// (bench/support/b1_workload.cpp), spread over the 365 days of financial year 2026/27, 1,000 changes per batch and 50
// batches per commit. Then starts the real sync-server on it and asks
// GET /api/v1/stats?from=2026-04-01&to=2027-03-31 over one keep-alive HTTP connection with the
// coordinator's token: first a warm-up, then --requests timed requests, one after the other.
// The figure is the p99 of those, from the request's first byte written to the response's
// last byte read.
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <CLI/CLI.hpp>

#include <signal.h>

#include <iostream>
#include <random>

#include "safer/time.h"
#include "safer/uuid.h"
#include "support/b1_workload.h"
#include "support/bench.h"
#include "sync_server/local_time.h"
#include "sync_server/server_store.h"

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using bench::Clock;

struct Filled {
  std::string token;
  double seconds = 0;
};

// Fills `db` with the households and visits; returns the coordinator's token.
Filled fill(const std::string& db, std::int64_t households, std::int64_t visits) {
  auto opened = sync_server::ServerStore::open(db);
  if (!opened) throw std::runtime_error(opened.error().message);
  auto& store = **opened;
  Filled filled;
  filled.token = *store.enroll("b4-coordinator", "b4.coordinator", safer::Role::coordinator);
  const sync_server::DeviceIdentity coordinator{"b4-coordinator", "b4.coordinator", safer::Role::coordinator};
  const auto started = Clock::now();
  safer::HlcClock clock(safer::now_unix_millis);
  std::int64_t seq = 0;
  constexpr std::size_t kBatch = 1000;
  constexpr int kBatchesPerCommit = 50;

  std::vector<std::string> ids;
  for (std::int64_t h = 0; h < households; ++h) ids.push_back(safer::new_uuid_v7());
  const auto push_all = [&](auto&& make_change, std::int64_t count) {
    for (std::int64_t n = 0; n < count;) {
      store.begin_group();
      for (int b = 0; b < kBatchesPerCommit && n < count; ++b) {
        safer::ReceivedPush push;
        for (std::size_t k = 0; k < kBatch && n < count; ++k, ++n) {
          push.changes.push_back(safer::ReceivedChange{++seq, make_change(n), {}});
        }
        const auto outcome = store.apply_push(coordinator, push);
        if (!outcome.ack || !outcome.ack->rejected.empty()) {
          throw std::runtime_error("the fill was refused: " +
                                   (outcome.ack ? outcome.ack->rejected.front().message : outcome.error->message));
        }
      }
      store.commit_group();
    }
  };
  push_all(
      [&](std::int64_t h) {
        return safer::Change{safer::Entity::household, safer::Op::upsert, ids[static_cast<std::size_t>(h)],
                             clock.tick(), bench::sample_household(h, h % 2 == 0, std::nullopt)};
      },
      households);
  const std::int64_t first_day = safer::days_from_civil(safer::CivilDate{2026, 4, 1});
  std::mt19937_64 rng(1);  // the realistic workload's status, outcome, note and referral mixes
  push_all(
      [&](std::int64_t n) {
        // Spread over the year's 365 days and the households, visited 08:00-19:59 UTC.
        const std::int64_t day = first_day + (n * 7919) % 365;
        const safer::UnixMillis at = day * 86'400'000 + 8 * 3'600'000 + (n * 104'729) % (12 * 3'600'000);
        const auto& household = ids[static_cast<std::size_t>((n * 48'611) % households)];
        return safer::Change{safer::Entity::visit, safer::Op::upsert, safer::new_uuid_v7(), clock.tick(),
                             bench::realistic_visit(rng, household, at)};
      },
      visits);
  filled.seconds = bench::seconds_since(started);
  return filled;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"B4: /api/v1/stats for a financial year with 1,000,000 visits stored"};
  std::int64_t visits = 1'000'000, households = 10'000;
  int requests = 2000;
  std::string server = SYNC_SERVER_BINARY;
  std::string keep_db;
  app.add_option("--visits", visits)->capture_default_str()->check(CLI::Range(1, 100'000'000));
  app.add_option("--households", households)->capture_default_str()->check(CLI::Range(1, 10'000'000));
  app.add_option("--requests", requests)->capture_default_str()->check(CLI::Range(10, 1'000'000));
  app.add_option("--server", server)->capture_default_str();
  app.add_option("--keep-db", keep_db, "Build the database in DIR once and reuse it on later runs (for profiling)");
  CLI11_PARSE(app, argc, argv);
  signal(SIGPIPE, SIG_IGN);
  if (auto zone = sync_server::use_time_zone(sync_server::kDefaultTimeZone); !zone) {
    std::cerr << zone.error().message << '\n';
    return 1;
  }

  bench::TempDir dir("b4-stats");
  const std::string db = keep_db.empty() ? dir.file("server.db") : keep_db + "/b4-server.db";
  Filled filled;
  if (!keep_db.empty() && std::filesystem::exists(db)) {
    auto store = sync_server::ServerStore::open(db);
    if (!store) throw std::runtime_error(store.error().message);
    filled.token = *(*store)->enroll("b4-coordinator", "b4.coordinator", safer::Role::coordinator);
  } else {
    filled = fill(db, households, visits);
    bench::Figure("B4", "fill: households and visits pushed through ServerStore as a coordinator")
        .field("households", households)
        .field("visits", visits)
        .value(static_cast<double>(visits + households) / filled.seconds, "changes/s")
        .field("seconds", filled.seconds)
        .print();
  }

  bench::ServerProcess process(server, db, dir.file("server.log"));
  asio::io_context ioc;
  beast::tcp_stream stream(ioc);
  stream.connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), process.port()));
  http::request<http::empty_body> request{http::verb::get, "/api/v1/stats?from=2026-04-01&to=2027-03-31", 11};
  request.set(http::field::host, "127.0.0.1");
  request.set(http::field::authorization, "Bearer " + filled.token);
  request.keep_alive(true);
  beast::flat_buffer buffer;
  std::string body;
  const auto ask = [&] {
    http::write(stream, request);
    http::response<http::string_body> response;
    http::read(stream, buffer, response);
    if (response.result() != http::status::ok) {
      throw std::runtime_error("stats answered " + std::to_string(response.result_int()) + ": " + response.body());
    }
    body = std::move(response.body());
  };
  for (int i = 0; i < std::max(20, requests / 20); ++i) ask();  // warm-up: caches, statements
  std::vector<double> times;
  times.reserve(static_cast<std::size_t>(requests));
  for (int i = 0; i < requests; ++i) {
    const auto started = Clock::now();
    ask();
    times.push_back(bench::ms_since(started));
  }
  process.stop();

  // The answer must count what was stored (a fast wrong answer is no answer).
  const auto total_at = body.find("\"total\":");
  const bool counted = total_at != std::string::npos &&
                       std::stoll(body.substr(total_at + 8)) == visits;
  if (!counted) std::cerr << "b4: the stats did not count " << visits << " visits: " << body.substr(0, 300) << '\n';
  bench::Figure("B4", "GET /api/v1/stats for a financial year, keep-alive, p99")
      .field("visits", visits)
      .field("households", households)
      .field("requests", requests)
      .field("p50_ms", bench::percentile(times, 0.5))
      .field("max_ms", bench::percentile(times, 1.0))
      .field("response_bytes", static_cast<std::int64_t>(body.size()))
      .field("counts_all_visits", counted)
      .value(bench::percentile(times, 0.99), "ms")
      .target(5, false, counted)
      .print();
  return counted ? 0 : 1;
}
