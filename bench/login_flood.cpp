// Login flood (issue 12): while clients keep posting wrong dashboard logins for made-up
// usernames, how fast does a tablet still get in and pull, and does a coordinator get in?
//
//   login_flood [--clients 200] [--seconds 15] [--server PATH]
//
// Three phases of --seconds each, on one real sync-server (default settings): no flood (the
// baseline), `clients` flooders from as many addresses (127.0.1.1 …), and `clients` flooders
// from one address (127.0.1.1). Each flooder keeps one keep-alive connection and posts its
// next wrong login as soon as the last is answered. Meanwhile, one at a time, a measurer:
//  - opens a tablet's session: TCP connect, upgrade (its token checked on the reader pool),
//    hello → welcome; the figure is that whole time ("handshake");
//  - pulls one page of 1,000 changes (the officer's 1,000 households) on it;
//  - beside it, every 2 s, the coordinator logs in with the right password from a fresh
//    address: once with the device cookie its browser got before the flood (the figure), once
//    without.
// Figures: p50/p99 of the handshake (target p99 < 100 ms) and of the pull (p99 < 200 ms), the
// slowest login with the device cookie (< 2 s), and counts of the flood's answers.
#include <CLI/CLI.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/http.hpp>

#include <signal.h>

#include <atomic>
#include <iostream>
#include <map>
#include <mutex>
#include <thread>

#include "safer/time.h"
#include "safer/uuid.h"
#include "support/bench.h"
#include "support/ws_device.h"
#include "sync_server/local_time.h"
#include "sync_server/server_store.h"

namespace {

using bench::Clock;
using namespace bench;  // asio, beast, tcp
namespace http = beast::http;

const std::string kCoordinator = "lf.coordinator";
const std::string kPassword = "Lantern-Harbour-Quartz-7319";  // fictional
constexpr int kHouseholds = 1000;

// Fills `db` (1,000 households assigned to the officer, a coordinator account); returns the
// tablet's token.
std::string fill(const std::string& db) {
  auto opened = sync_server::ServerStore::open(db);
  if (!opened) throw std::runtime_error(opened.error().message);
  auto& store = **opened;
  const std::string token = *store.enroll("lf-tablet", "lf.officer", safer::Role::officer);
  const sync_server::DeviceIdentity coordinator{"lf-coordinator", kCoordinator, safer::Role::coordinator};
  safer::HlcClock clock(safer::now_unix_millis);
  safer::ReceivedPush push;
  for (int h = 0; h < kHouseholds; ++h) {
    push.changes.push_back({h + 1,
                            safer::Change{safer::Entity::household, safer::Op::upsert, safer::new_uuid_v7(), clock.tick(),
                                          bench::sample_household(h, h % 2 == 0, std::string("lf.officer"))},
                            {}});
  }
  store.begin_group();
  const auto outcome = store.apply_push(coordinator, push);
  if (!outcome.ack || !outcome.ack->rejected.empty()) throw std::runtime_error("the fill was refused");
  store.commit_group();
  if (auto added = store.add_coordinator(kCoordinator, kPassword); !added) throw std::runtime_error(added.error().message);
  return token;
}

struct HttpAnswer {
  int status = 0;  // 0: the exchange failed
  std::string device_cookie;  // "ss_device=…" when set
};

http::request<http::string_body> login_request(const std::string& username, const std::string& password,
                                               const std::string& cookie) {
  http::request<http::string_body> request{http::verb::post, "/api/v1/session", 11};
  request.set(http::field::host, "127.0.0.1");
  request.set(http::field::content_type, "application/json");
  if (!cookie.empty()) request.set(http::field::cookie, cookie);
  request.body() = R"({"username":")" + username + R"(","password":")" + password + R"("})";
  request.prepare_payload();
  return request;
}

// One request on `stream` (connected); the answer, or status 0.
// REQUIRES: `request` outlives the call.
asio::awaitable<HttpAnswer> http_exchange(beast::tcp_stream& stream, const http::request<http::string_body>& request) {
  beast::error_code ec;
  stream.expires_after(std::chrono::seconds(30));
  co_await http::async_write(stream, request, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return HttpAnswer{};
  beast::flat_buffer buffer;
  http::response<http::string_body> response;
  co_await http::async_read(stream, buffer, response, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return HttpAnswer{};
  HttpAnswer answer{static_cast<int>(response.result_int()), ""};
  for (const auto& field : response) {
    const std::string value(field.value());
    if (field.name() == http::field::set_cookie && value.rfind("ss_device=", 0) == 0) {
      answer.device_cookie = value.substr(0, value.find(';'));
    }
  }
  co_return answer;
}

// A new connection from loopback address `from`; false if it failed.
asio::awaitable<bool> connect_from(beast::tcp_stream& stream, const std::string& from, unsigned short port) {
  beast::error_code ec;
  stream.socket().open(tcp::v4(), ec);
  if (!ec) stream.socket().bind(tcp::endpoint(asio::ip::make_address(from), 0), ec);
  if (ec) co_return false;
  stream.expires_after(std::chrono::seconds(30));
  const tcp::endpoint server(asio::ip::make_address("127.0.0.1"), port);
  co_await stream.async_connect(server, asio::redirect_error(asio::use_awaitable, ec));
  co_return !ec;
}

// No temporaries across co_await in one expression (GCC 12 destroys some twice): named locals.
asio::awaitable<HttpAnswer> log_in_once(unsigned short port, std::string from, std::string password, std::string cookie) {
  beast::tcp_stream stream(co_await asio::this_coro::executor);
  const bool connected = co_await connect_from(stream, from, port);
  if (!connected) co_return HttpAnswer{};
  auto request = login_request(kCoordinator, password, cookie);
  HttpAnswer answer = co_await http_exchange(stream, request);
  co_return answer;
}

struct FloodCounts {
  std::mutex mutex;
  std::map<int, std::int64_t> by_status;  // guarded by mutex
};

// Posts wrong logins on one keep-alive connection (a new one after an error) until `stop`.
asio::awaitable<void> flooder(unsigned short port, std::string from, int id, const std::atomic<bool>& stop,
                              FloodCounts& counts) {
  const auto executor = co_await asio::this_coro::executor;
  for (std::int64_t n = 0; !stop;) {
    beast::tcp_stream stream(executor);
    const bool connected = co_await connect_from(stream, from, port);
    if (!connected) continue;
    while (!stop) {
      const std::string username = "stranger-" + std::to_string(id) + "-" + std::to_string(n++);
      auto request = login_request(username, "not-the-password-1", "");
      const HttpAnswer answer = co_await http_exchange(stream, request);
      {
        std::lock_guard lock(counts.mutex);
        ++counts.by_status[answer.status];
      }
      if (answer.status == 0) break;
    }
  }
}

struct PhaseFigures {
  std::vector<double> handshake_ms, pull_ms, cookie_login_ms, plain_login_ms;
  int cookie_logins_in = 0, plain_logins_in = 0, plain_logins = 0;
  bool pull_complete = true;
};

// The coordinator: a login with the right password every 2 s from a fresh address, with the
// device cookie and then without. Runs beside measure(), so neither waits for the other.
asio::awaitable<void> coordinator_logins(unsigned short port, const std::string& device_cookie, Clock::time_point until,
                                         PhaseFigures& figures, int& address_counter) {
  const auto executor = co_await asio::this_coro::executor;
  asio::steady_timer pause(executor);
  while (Clock::now() < until) {
    const auto next = Clock::now() + std::chrono::seconds(2);
    for (const bool with_cookie : {true, false}) {
      const std::string from = "127.0.2." + std::to_string(1 + (address_counter++ % 250));
      const std::string cookie = with_cookie ? device_cookie : std::string();
      const auto start = Clock::now();
      const HttpAnswer answer = co_await log_in_once(port, from, kPassword, cookie);
      (with_cookie ? figures.cookie_login_ms : figures.plain_login_ms).push_back(ms_since(start));
      if (with_cookie) {
        figures.cookie_logins_in += answer.status == 200 ? 1 : 0;
      } else {
        figures.plain_logins_in += answer.status == 200 ? 1 : 0;
        ++figures.plain_logins;
      }
    }
    pause.expires_at(next);
    beast::error_code ignored;
    co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
  }
}

// The tablet: handshakes and pulls back to back until `until`.
asio::awaitable<void> measure(unsigned short port, const std::string& token, Clock::time_point until,
                              PhaseFigures& figures) {
  const auto executor = co_await asio::this_coro::executor;
  const std::string device_id = "lf-tablet";
  const std::string pull = R"({"type":"pull","cursor":"","limit":1000})";
  while (Clock::now() < until) {
    WsDevice tablet(executor);
    auto start = Clock::now();
    co_await tablet.open(port, token, device_id);
    figures.handshake_ms.push_back(ms_since(start));
    start = Clock::now();
    const std::string page = co_await tablet.exchange(pull);
    figures.pull_ms.push_back(ms_since(start));
    const auto decoded = safer::decode_server_message(page);
    const auto* changes = decoded ? std::get_if<safer::ChangesPage>(&*decoded) : nullptr;
    if (changes == nullptr || changes->changes.size() != kHouseholds) figures.pull_complete = false;
    co_await tablet.close();
  }
}

void report(const std::string& phase, int clients, int addresses, const PhaseFigures& figures, FloodCounts& counts,
            double seconds) {
  const auto p = [](const std::vector<double>& values, double q) { return bench::percentile(values, q); };
  std::int64_t flood_total = 0;
  Figure flood("LF-flood", "wrong logins answered during the phase, by status");
  flood.field("phase", phase);
  {
    std::lock_guard lock(counts.mutex);
    for (const auto& [status, count] : counts.by_status) {
      flood.field("status_" + std::to_string(status), count);
      flood_total += count;
    }
  }
  if (clients > 0) flood.field("per_second", static_cast<double>(flood_total) / seconds).print();
  Figure("LF-handshake", "tablet connect + upgrade + hello->welcome p99")
      .field("phase", phase).field("flood_clients", clients).field("flood_addresses", addresses)
      .field("samples", static_cast<std::int64_t>(figures.handshake_ms.size()))
      .field("p50_ms", p(figures.handshake_ms, 0.5))
      .value(p(figures.handshake_ms, 0.99), "ms").target(100, false).print();
  Figure("LF-pull", "pull page of 1,000 changes p99")
      .field("phase", phase).field("flood_clients", clients).field("flood_addresses", addresses)
      .field("samples", static_cast<std::int64_t>(figures.pull_ms.size()))
      .field("p50_ms", p(figures.pull_ms, 0.5))
      .value(p(figures.pull_ms, 0.99), "ms").target(200, false, figures.pull_complete).print();
  Figure("LF-login", "coordinator login with its device cookie, slowest")
      .field("phase", phase).field("flood_clients", clients).field("flood_addresses", addresses)
      .field("attempts", static_cast<std::int64_t>(figures.cookie_login_ms.size()))
      .field("got_in", figures.cookie_logins_in)
      .field("p50_ms", p(figures.cookie_login_ms, 0.5))
      .field("without_cookie_attempts", figures.plain_logins)
      .field("without_cookie_got_in", figures.plain_logins_in)
      .field("without_cookie_p50_ms", p(figures.plain_login_ms, 0.5))
      .value(p(figures.cookie_login_ms, 1.0), "ms")
      .target(2000, false, figures.cookie_logins_in == static_cast<int>(figures.cookie_login_ms.size()))
      .print();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Login flood: a tablet's handshake and pull, and a coordinator's login, under wrong logins"};
  int clients = 200;
  double seconds = 15;
  std::string server = SYNC_SERVER_BINARY;
  app.add_option("--clients", clients, "Flooders")->capture_default_str()->check(CLI::Range(1, 2000));
  app.add_option("--seconds", seconds, "Length of each of the three phases")->capture_default_str()->check(CLI::Range(1.0, 300.0));
  app.add_option("--server", server)->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  signal(SIGPIPE, SIG_IGN);
  bench::raise_file_limit(4096);
  if (auto zone = sync_server::use_time_zone(sync_server::kDefaultTimeZone); !zone) {
    std::cerr << zone.error().message << '\n';
    return 1;
  }
  TempDir dir("login-flood");
  const std::string token = fill(dir.file("server.db"));
  ServerProcess process(server, dir.file("server.db"), dir.file("server.log"));

  int address_counter = 0;
  std::string device_cookie;
  {
    asio::io_context ioc;
    asio::co_spawn(ioc, [&]() -> asio::awaitable<void> {
      const std::string from = "127.0.0.1";
      const HttpAnswer answer = co_await log_in_once(process.port(), from, kPassword, std::string());
      device_cookie = answer.device_cookie;
    }, asio::detached);
    ioc.run();
  }
  if (device_cookie.empty()) {
    std::cerr << "login_flood: the coordinator could not log in before the flood\n";
    return 1;
  }

  bool ok = true;
  for (const auto& [phase, flood_addresses] : {std::pair{"baseline", 0}, std::pair{"many_addresses", clients},
                                               std::pair{"one_address", 1}}) {
    std::cerr << "login_flood: phase " << phase << '\n';
    FloodCounts counts;
    std::atomic<bool> stop{false};
    asio::io_context flood_ioc;
    const int flooders = flood_addresses > 0 ? clients : 0;
    for (int i = 0; i < flooders; ++i) {
      const std::string from = "127.0.1." + std::to_string(1 + i % flood_addresses % 250);
      asio::co_spawn(flood_ioc, flooder(process.port(), from, i, stop, counts), asio::detached);
    }
    std::thread flood_thread([&flood_ioc] { flood_ioc.run(); });
    std::this_thread::sleep_for(std::chrono::milliseconds(flooders > 0 ? 1000 : 0));  // let it build up
    PhaseFigures figures;
    asio::io_context measure_ioc;
    const auto until = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
    const auto on_failure = [&ok](std::exception_ptr failure) {
      if (!failure) return;
      ok = false;
      try {
        std::rethrow_exception(failure);
      } catch (const std::exception& error) {
        std::cerr << "login_flood: " << error.what() << '\n';
      }
    };
    asio::co_spawn(measure_ioc, measure(process.port(), token, until, figures), on_failure);
    asio::co_spawn(measure_ioc, coordinator_logins(process.port(), device_cookie, until, figures, address_counter),
                   on_failure);
    measure_ioc.run();
    stop = true;
    flood_thread.join();  // each flooder ends after its request in flight (30 s at most)
    report(phase, flooders, flood_addresses, figures, counts, seconds);
  }
  process.stop();
  return ok ? 0 : 1;
}
