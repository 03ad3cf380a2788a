// B3: 10,000 concurrent authenticated idle devices on one server; then 1,000 of them pushing
// 1,000 changes/s in total.
//
//   b3_idle [--devices 10000] [--pushers 1000] [--rate 1000] [--seconds 10] [--server PATH]
//
// One process holds every device: asynchronous Beast WebSocket clients (C++20 coroutines) on
// one thread. Each device is enrolled as an officer; each pusher's household is created
// beforehand by a coordinator and assigned to it. The program raises its open-file limit (and
// so the server's, which it starts) to the hard limit, and says so if that is too low.
//
// Memory: the server's VmRSS (/proc/PID/status) once it runs and has served one device, and
// again once all devices are connected, upgraded, welcomed and idle (a read pending on each,
// so pings are answered); the figure is the difference over the number of devices.
// Latency: the pushers send one visit each per second, staggered evenly, for --seconds; the
// figure is the p99 from writing a push to reading its ack (durable: group commit).
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <CLI/CLI.hpp>

#include <signal.h>

#include <iostream>

#include "safer/time.h"
#include "safer/uuid.h"
#include "support/bench.h"
#include "support/ws_device.h"
#include "sync_server/local_time.h"
#include "sync_server/server_store.h"

namespace {

namespace asio = bench::asio;
using bench::Clock;

struct Device {
  std::string id;
  std::string token;
  std::string household_id;  // pushers only
  std::unique_ptr<bench::WsDevice> ws;
  std::int64_t seq = 0;
};

std::int64_t open_files(pid_t pid) {
  std::error_code ec;
  std::int64_t count = 0;
  for (auto it = std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    ++count;
  }
  return count;
}

// Enrols the devices and creates the pushers' households (assigned to them), in `db`.
void prepare(const std::string& db, std::vector<Device>& devices, std::size_t pushers) {
  auto opened = sync_server::ServerStore::open(db);
  if (!opened) throw std::runtime_error(opened.error().message);
  auto& store = **opened;
  for (std::size_t i = 0; i < devices.size(); ++i) {
    devices[i].id = "b3-device-" + std::to_string(i);
    devices[i].token = *store.enroll(devices[i].id, "b3.officer." + std::to_string(i), safer::Role::officer);
  }
  (void)store.enroll("b3-coordinator", "b3.coordinator", safer::Role::coordinator);
  const sync_server::DeviceIdentity coordinator{"b3-coordinator", "b3.coordinator", safer::Role::coordinator};
  safer::HlcClock clock(safer::now_unix_millis);
  safer::ReceivedPush push;
  for (std::size_t i = 0; i < pushers; ++i) {
    devices[i].household_id = safer::new_uuid_v7();
    push.changes.push_back({static_cast<std::int64_t>(i) + 1,
                            safer::Change{safer::Entity::household, safer::Op::upsert, devices[i].household_id,
                                          clock.tick(),
                                          bench::sample_household(static_cast<std::int64_t>(i), true,
                                                                  "b3.officer." + std::to_string(i))},
                            {}});
  }
  if (!push.changes.empty()) {
    const auto outcome = store.push(coordinator, push);
    if (!outcome || !outcome->ack || !outcome->ack->rejected.empty()) throw std::runtime_error("households refused");
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"B3: 10,000 idle devices, then 1,000 of them pushing 1,000 changes/s"};
  std::size_t wanted = 10'000, pushers = 1'000;
  double rate = 1000, seconds = 10;
  std::string server = SYNC_SERVER_BINARY;
  app.add_option("--devices", wanted)->capture_default_str()->check(CLI::Range(1, 100'000));
  app.add_option("--pushers", pushers)->capture_default_str()->check(CLI::Range(0, 100'000));
  app.add_option("--rate", rate, "Changes per second, all pushers together")->capture_default_str();
  app.add_option("--seconds", seconds, "How long the pushers push")->capture_default_str();
  app.add_option("--server", server)->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  signal(SIGPIPE, SIG_IGN);
  if (auto zone = sync_server::use_time_zone(sync_server::kDefaultTimeZone); !zone) {
    std::cerr << zone.error().message << '\n';
    return 1;
  }

  // Each device is one socket here and one in the server; both need room for them.
  const std::uint64_t needed = wanted + 256;
  const std::uint64_t limit = bench::raise_file_limit(needed);
  std::size_t count = wanted;
  if (limit < needed) {
    count = limit > 512 ? static_cast<std::size_t>(limit - 256) : 0;
    std::cerr << "b3: the open-file hard limit is " << bench::hard_file_limit() << ", too low for " << wanted
              << " devices; running " << count << " (raise it: ulimit -Hn, or LimitNOFILE=)\n";
  }
  pushers = std::min(pushers, count);

  bench::TempDir dir("b3-idle");
  std::vector<Device> devices(count + 1);  // the last one warms the server up
  const auto prepare_started = Clock::now();
  prepare(dir.file("server.db"), devices, pushers);
  std::cerr << "b3: enrolled " << devices.size() << " devices in " << bench::seconds_since(prepare_started) << " s\n";
  // Every device connects from 127.0.0.1: the per-address limit (256 by default, an abuse
  // limit: docs/server.md) is raised to let this one machine stand for a whole fleet.
  const std::string connections = std::to_string(devices.size() + 16);
  bench::ServerProcess process(server, dir.file("server.db"), dir.file("server.log"),
                               {"--max-connections", connections, "--max-connections-per-ip", connections});

  asio::io_context ioc;
  int failures = 0;
  std::int64_t rss_before = 0, rss_idle = 0, fds_idle = 0;
  std::vector<double> latencies;
  std::int64_t pushed = 0;
  Clock::time_point connect_started{};
  double connect_seconds = 0;

  const auto main_task = [&]() -> asio::awaitable<void> {
    auto executor = co_await asio::this_coro::executor;
    // One device connects and leaves: threads, pools and statements are warm.
    {
      auto& warm = devices.back();
      bench::WsDevice ws(executor);
      co_await ws.open(process.port(), warm.token, warm.id);
      co_await ws.close();
    }
    asio::steady_timer timer(executor);
    timer.expires_after(std::chrono::milliseconds(500));
    co_await timer.async_wait(asio::use_awaitable);
    rss_before = process.rss_kib();

    // Connect everyone, 200 handshakes in flight at a time; each then idles on a read.
    connect_started = Clock::now();
    std::size_t next = 0, connected = 0;
    const auto connector = [&]() -> asio::awaitable<void> {
      while (next < count) {
        auto& device = devices[next++];
        device.ws = std::make_unique<bench::WsDevice>(executor);
        try {
          co_await device.ws->open(process.port(), device.token, device.id);
          ++connected;
        } catch (const std::exception& error) {
          if (failures++ < 5) std::cerr << "b3: " << device.id << ": " << error.what() << '\n';
        }
      }
    };
    int running = 0;
    asio::steady_timer all_connected(executor, Clock::time_point::max());
    for (int i = 0; i < 200; ++i) {
      ++running;
      asio::co_spawn(executor, connector, [&](std::exception_ptr) {
        if (--running == 0) all_connected.cancel();
      });
    }
    boost::system::error_code ignored;
    co_await all_connected.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
    connect_seconds = bench::seconds_since(connect_started);
    // Idle: every device but the pushers waits on a read (answering pings) from now on.
    for (std::size_t i = pushers; i < count; ++i) {
      if (!devices[i].ws) continue;
      asio::co_spawn(executor, [&device = devices[i]]() -> asio::awaitable<void> {
        try {
          for (;;) co_await device.ws->receive();
        } catch (const std::exception&) {
        }
      }, asio::detached);
    }
    timer.expires_after(std::chrono::seconds(2));
    co_await timer.async_wait(asio::use_awaitable);
    rss_idle = process.rss_kib();
    fds_idle = open_files(process.pid());

    // Push: each pusher one visit per (pushers / rate) seconds, the pushers staggered evenly.
    const auto period = std::chrono::duration<double>(static_cast<double>(pushers) / rate);
    const auto start = Clock::now() + std::chrono::milliseconds(100);
    const auto end = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
    int pushing = 0;
    asio::steady_timer pushers_done(executor, Clock::time_point::max());
    for (std::size_t i = 0; i < pushers; ++i) {
      if (!devices[i].ws) continue;
      ++pushing;
      asio::co_spawn(
          executor,
          [&, i]() -> asio::awaitable<void> {
            auto& device = devices[i];
            asio::steady_timer wait(executor);
            auto at = start + std::chrono::duration_cast<Clock::duration>(period * (static_cast<double>(i) /
                                                                                    static_cast<double>(pushers)));
            safer::HlcClock clock(safer::now_unix_millis);
            for (std::int64_t n = 0; at < end; ++n) {
              wait.expires_at(at);
              co_await wait.async_wait(asio::use_awaitable);
              safer::Push push;
              push.changes.push_back({++device.seq, safer::Change{safer::Entity::visit, safer::Op::upsert,
                                                                  safer::new_uuid_v7(), clock.tick(),
                                                                  bench::sample_visit(device.household_id,
                                                                                      safer::now_unix_millis(), n)}});
              const auto text = safer::to_json(push);
              const auto sent = Clock::now();
              co_await device.ws->push(text, device.seq);
              latencies.push_back(bench::ms_since(sent));
              ++pushed;
              at += std::chrono::duration_cast<Clock::duration>(period);
            }
          },
          [&](std::exception_ptr error) {
            if (error) ++failures;
            if (--pushing == 0) pushers_done.cancel();
          });
    }
    if (pushing > 0) co_await pushers_done.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
    ioc.stop();  // the idle devices' reads end with the io_context
  };
  asio::co_spawn(ioc, main_task, [&](std::exception_ptr error) {
    if (error) {
      try {
        std::rethrow_exception(error);
      } catch (const std::exception& e) {
        std::cerr << "b3: " << e.what() << '\n';
        ++failures;
      }
      ioc.stop();
    }
  });
  ioc.run();
  const std::int64_t rss_after_push = process.rss_kib();
  const std::int64_t rss_peak = bench::proc_status_kib(process.pid(), "VmHWM:");
  // The idle devices' reads are still pending: close every socket and let their coroutines
  // end, while the io_context they belong to still exists (destroying it first left the
  // sockets pointing into freed memory: "corrupted size vs. prev_size" at exit).
  for (auto& device : devices) {
    if (!device.ws) continue;
    boost::system::error_code ignored;
    device.ws->stream().next_layer().socket().close(ignored);
  }
  ioc.restart();
  ioc.run();
  for (auto& device : devices) device.ws.reset();
  process.stop();

  const double per_device_kib = count > 0 ? static_cast<double>(rss_idle - rss_before) / static_cast<double>(count) : 0;
  const bool all_connected = failures == 0 && count == wanted;
  bench::Figure("B3", "server memory per idle authenticated device")
      .field("devices", static_cast<std::int64_t>(count))
      .field("open_file_limit", static_cast<std::int64_t>(limit))
      .field("server_open_files", fds_idle)
      .field("rss_before_kib", rss_before)
      .field("rss_idle_kib", rss_idle)
      .field("connect_seconds", connect_seconds)
      .value(per_device_kib, "KiB")
      .target(64, false, all_connected)
      .print();
  const double achieved = static_cast<double>(pushed) / seconds;
  bench::Figure("B3", "push to ack p99, pushers among the idle devices")
      .field("devices", static_cast<std::int64_t>(count))
      .field("pushers", static_cast<std::int64_t>(pushers))
      .field("changes_per_second", achieved)
      .field("pushes", pushed)
      .field("p50_ms", bench::percentile(latencies, 0.5))
      .field("max_ms", bench::percentile(latencies, 1.0))
      .field("rss_after_push_kib", rss_after_push)
      .field("rss_peak_kib", rss_peak)
      .field("failures", failures)
      .value(bench::percentile(latencies, 0.99), "ms")
      .target(50, false, failures == 0 && achieved >= 0.95 * rate)
      .print();
  return all_connected && failures == 0 ? 0 : 1;
}
