// push_storm: many devices push visits at once into a real sync-server until every change
// is acknowledged (durably committed), and the figures are printed, one JSON object a line.
//
//   push_storm [--devices M] [--visits-per-device N] [--batch B] [--server PATH]
//
// It starts its own server on 127.0.0.1 (a free port) over a fresh SQLite file in a
// temporary directory, enrols the devices as officers, and has each create its own household
// and then push N visits to it in batches of B, one batch in flight per device — as tablets
// do. Group commit is read off the server's log: how many batches each commit carried.
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <CLI/CLI.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "safer/protocol_json.h"
#include "safer/time.h"
#include "safer/uuid.h"
#include "sync_server/server_store.h"

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

struct Device {
  std::string id;
  std::string token;
};

pid_t start_server(const std::string& binary, const std::string& db, const std::string& log, unsigned short& port) {
  int out[2];
  if (pipe(out) != 0) throw std::runtime_error("pipe");
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(out[1], 1);
    const int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(fd, 2);
    execl(binary.c_str(), binary.c_str(), "serve", "--config", "", "--db", db.c_str(), "--listen", "127.0.0.1:0",
          "--io-threads", "2", static_cast<char*>(nullptr));
    _exit(127);
  }
  close(out[1]);
  std::string line;
  char c = 0;
  while (read(out[0], &c, 1) == 1 && c != '\n') line.push_back(c);
  close(out[0]);
  if (line.find("listening on") == std::string::npos) throw std::runtime_error("the server did not start");
  port = static_cast<unsigned short>(std::stoi(line.substr(line.rfind(':') + 1)));
  return pid;
}

// One device: hello, its household, then its visits, one batch in flight at a time.
void run_device(unsigned short port, const Device& device, int visits, int batch, std::atomic<long>& acked,
                std::atomic<int>& failures, std::vector<double>& latencies_ms) {
  try {
    asio::io_context ioc;
    websocket::stream<tcp::socket> ws(ioc);
    ws.next_layer().connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    ws.set_option(websocket::stream_base::decorator([&](websocket::request_type& request) {
      request.set(beast::http::field::authorization, "Bearer " + device.token);
    }));
    ws.read_message_max(8 * 1024 * 1024);
    ws.handshake("127.0.0.1", "/v1/sync");
    ws.text(true);
    beast::flat_buffer buffer;
    const auto exchange = [&](const std::string& text) {
      ws.write(asio::buffer(text));
      buffer.clear();
      ws.read(buffer);
      return beast::buffers_to_string(buffer.data());
    };
    exchange(safer::to_json(safer::Hello{1, device.id, "push_storm"}));

    safer::HlcClock clock(safer::now_unix_millis);
    const std::string household_id = safer::new_uuid_v7();
    safer::Household household;
    household.address = "1 Benchmark Road";
    household.postcode = "WD6 1AA";
    household.ward = "Elstree";
    std::int64_t seq = 1;
    safer::Push first;
    first.changes.push_back({seq++, safer::Change{safer::Entity::household, safer::Op::upsert, household_id, clock.tick(), household}});
    if (exchange(safer::to_json(first)).find("\"ack\"") == std::string::npos) throw std::runtime_error("household refused");

    safer::Visit visit;
    visit.household_id = household_id;
    visit.status = safer::VisitStatus::completed;
    visit.outcomes = {safer::Outcome::crime_prevention_advice, safer::Outcome::fire_safety_check};
    visit.smoke_detectors_fitted = 1;
    visit.notes = "Benchmark visit with a short note.";
    for (int sent = 0; sent < visits;) {
      safer::Push push;
      for (int i = 0; i < batch && sent < visits; ++i, ++sent) {
        visit.visited_at = safer::now_unix_millis();
        push.changes.push_back({seq++, safer::Change{safer::Entity::visit, safer::Op::upsert, safer::new_uuid_v7(),
                                                     clock.tick(), visit}});
      }
      const auto started = Clock::now();
      const auto answer = exchange(safer::to_json(push));
      latencies_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - started).count());
      if (answer.find("\"ack\"") == std::string::npos || answer.find("\"rejected\":[]") == std::string::npos) {
        throw std::runtime_error("push not acked cleanly: " + answer.substr(0, 200));
      }
      acked += static_cast<long>(push.changes.size());
    }
    ws.close(websocket::close_code::normal);
  } catch (const std::exception& error) {
    std::cerr << "device " << device.id << ": " << error.what() << '\n';
    ++failures;
  }
}

double percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  return values[static_cast<std::size_t>(p * static_cast<double>(values.size() - 1))];
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"push_storm: devices pushing visits into a real sync-server at once"};
  int devices = 10, visits = 2000, batch = 200;
  std::string server = SYNC_SERVER_BINARY;
  app.add_option("--devices", devices)->capture_default_str()->check(CLI::Range(1, 2000));
  app.add_option("--visits-per-device", visits)->capture_default_str()->check(CLI::Range(1, 10'000'000));
  app.add_option("--batch", batch)->capture_default_str()->check(CLI::Range(1, 1000));
  app.add_option("--server", server)->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  signal(SIGPIPE, SIG_IGN);

  char dir_template[] = "/tmp/push-storm-XXXXXX";
  const std::filesystem::path dir = mkdtemp(dir_template);
  const std::string db = (dir / "server.db").string();
  const std::string log = (dir / "server.log").string();

  std::vector<Device> fleet;
  {
    auto store = sync_server::ServerStore::open(db);
    if (!store) {
      std::cerr << store.error().message << '\n';
      return 1;
    }
    for (int i = 0; i < devices; ++i) {
      const std::string id = "bench-device-" + std::to_string(i);
      fleet.push_back({id, *(*store)->enroll(id, "bench.officer." + std::to_string(i), safer::Role::officer)});
    }
  }

  unsigned short port = 0;
  const pid_t pid = start_server(server, db, log, port);
  std::atomic<long> acked{0};
  std::atomic<int> failures{0};
  std::vector<std::vector<double>> latencies(fleet.size());
  const auto started = Clock::now();
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < fleet.size(); ++i) {
    threads.emplace_back(run_device, port, std::cref(fleet[i]), visits, batch, std::ref(acked), std::ref(failures),
                         std::ref(latencies[i]));
  }
  for (auto& thread : threads) thread.join();
  const double seconds = std::chrono::duration<double>(Clock::now() - started).count();
  kill(pid, SIGTERM);
  int status = 0;
  waitpid(pid, &status, 0);

  // Group commit, from the server's log: "group=K" on each push line.
  std::ifstream log_file(log);
  long pushes = 0, grouped = 0, max_group = 0;
  for (std::string line; std::getline(log_file, line);) {
    const auto at = line.find(" group=");
    if (line.find(" push ") == std::string::npos || at == std::string::npos) continue;
    const long group = std::stol(line.substr(at + 7));
    ++pushes;
    grouped += group;
    max_group = std::max(max_group, group);
  }
  std::vector<double> all;
  for (const auto& device : latencies) all.insert(all.end(), device.begin(), device.end());

  std::cout << "{\"bench\":\"push_storm\",\"devices\":" << devices << ",\"visits\":" << acked.load()
            << ",\"batch\":" << batch << ",\"seconds\":" << seconds
            << ",\"visits_per_second\":" << static_cast<double>(acked.load()) / seconds
            << ",\"push_ack_ms_p50\":" << percentile(all, 0.5) << ",\"push_ack_ms_p99\":" << percentile(all, 0.99)
            << ",\"batches\":" << pushes << ",\"mean_batches_per_commit\":"
            << (pushes ? static_cast<double>(grouped) / static_cast<double>(pushes) : 0.0)
            << ",\"max_batches_per_commit\":" << max_group << ",\"failed_devices\":" << failures.load() << "}"
            << std::endl;
  std::filesystem::remove_all(dir);
  return failures.load() == 0 ? 0 : 1;
}
