// `field-client sync --watch` against a server that is down, comes up, or refuses the token:
// it must keep retrying (with backoff, not in a tight loop) while the server cannot be
// reached, sync as soon as it can, and stop with a clear message — never retry forever —
// when only a person can help (401: the token is unknown or revoked).
#include <catch2/catch.hpp>

#include <cereal/archives/json.hpp>  // RapidJSON, configured as cereal configures it
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <optional>
#include <sstream>
#include <thread>

#include "process.h"
#include "server_process.h"
#include "tcp_proxy.h"
#include "temp_dir.h"
#include "test_database.h"
#include "ws_test_client.h"

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

std::string read_file(const std::string& path) {
  std::ifstream file(path);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

// A program left running (sync --watch), its output in files; killed by its pid at the latest
// when this object goes.
class Background {
 public:
  Background(std::vector<std::string> args, std::string out_path, std::string err_path)
      : out_path_(std::move(out_path)), err_path_(std::move(err_path)) {
    std::vector<char*> argv;
    for (auto& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    pid_ = fork();
    if (pid_ == 0) {  // only async-signal-safe calls from here on
      const int out = open(out_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      const int err = open(err_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      const int none = open("/dev/null", O_RDONLY);
      if (out < 0 || err < 0 || none < 0) _exit(127);
      dup2(none, 0);
      dup2(out, 1);
      dup2(err, 2);
      execv(argv[0], argv.data());
      _exit(127);
    }
    if (pid_ < 0) throw std::runtime_error("fork failed");
  }
  ~Background() {
    if (pid_ <= 0) return;
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  Background(const Background&) = delete;
  Background& operator=(const Background&) = delete;

  // Its exit code once it has exited (-1 if a signal ended it); nullopt while it still runs at `deadline`.
  std::optional<int> wait(std::chrono::milliseconds deadline) {
    const auto until = Clock::now() + deadline;
    while (pid_ > 0) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      } else if (Clock::now() >= until) {
        return std::nullopt;
      } else {
        std::this_thread::sleep_for(20ms);
      }
    }
    return exit_code_;
  }
  // SIGTERM, then wait() up to `deadline`.
  std::optional<int> stop(std::chrono::milliseconds deadline) {
    if (pid_ > 0) kill(pid_, SIGTERM);
    return wait(deadline);
  }
  std::string err() const { return read_file(err_path_); }

 private:
  std::string out_path_, err_path_;
  pid_t pid_ = -1;
  int exit_code_ = -1;
};

// An officer's tablet with one household, driven through the field-client binary.
class Tablet {
 public:
  explicit Tablet(const test_support::TempDir& dir) : dir_(dir), store_(dir.file("tablet.db")) {
    household_ = json({"household", "add", "--address", "3 Pretend Close", "--postcode", "wd6 1wa", "--ward",
                       "Elstree"})["id"].GetString();
    device_id_ = json({"status"})["device_id"].GetString();
  }

  rapidjson::Document json(std::vector<std::string> args) const {
    args.insert(args.begin(), {FIELD_CLIENT_BINARY, "--store", store_, "--json"});
    const auto result = test_support::run_process(args);
    INFO(result.err);
    REQUIRE(result.exit_code == 0);
    rapidjson::Document document;
    document.Parse(result.out.c_str());
    REQUIRE_FALSE(document.HasParseError());
    return document;
  }

  void record_visits(int count) const {
    for (int i = 0; i < count; ++i) json({"visit", "record", "--household", household_, "--status", "completed"});
  }
  int pending() const { return json({"status"})["pending"].GetInt(); }

  // `sync --watch` with quick retries, in the background.
  std::unique_ptr<Background> watch(bool json_output) const {
    std::vector<std::string> args = {FIELD_CLIENT_BINARY, "--store", store_, "sync", "--watch", "--retry-base", "0.05",
                                     "--max-backoff", "0.5", "--interval", "0.5", "--timeout", "2"};
    if (json_output) args.insert(args.begin() + 3, "--json");
    return std::make_unique<Background>(args, dir_.file("watch.out"), dir_.file("watch.err"));
  }

  // Waits until nothing is pending; false at the deadline.
  bool synced_within(std::chrono::milliseconds deadline) const {
    for (const auto until = Clock::now() + deadline; Clock::now() < until; std::this_thread::sleep_for(100ms)) {
      if (pending() == 0) return true;
    }
    return false;
  }

  const std::string& device_id() const { return device_id_; }

 private:
  const test_support::TempDir& dir_;
  std::string store_, household_, device_id_;
};

// A loopback port kept for a later listener: bound (SO_REUSEADDR) but not listening, so that
// connecting to it is refused, while no one else can take it — neither a bind to port 0 nor
// an outgoing connection's local port. A listener with SO_REUSEADDR (TcpProxy) may bind it.
class ReservedPort {
 public:
  ReservedPort() : fd_(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    const int on = 1;
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (fd_ < 0 || setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) != 0 ||
        bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
        getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
      throw std::runtime_error("cannot reserve a loopback port");
    }
    port_ = ntohs(address.sin_port);
  }
  ~ReservedPort() { close(fd_); }
  ReservedPort(const ReservedPort&) = delete;
  ReservedPort& operator=(const ReservedPort&) = delete;
  unsigned short port() const { return port_; }

 private:
  int fd_;
  unsigned short port_ = 0;
};

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t found = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++found;
  return found;
}

}  // namespace

// Why: a tablet out of signal must neither give up nor hammer the server; once the server is
// reachable again, what waited must sync without anyone acting.
TEST_CASE("sync --watch retries with backoff while no server listens, then syncs when one comes up",
          "[e2e][faults]") {
  test_support::TempDir dir;
  test_support::ServerProcess server({}, test_support::new_test_database(dir));  // not started yet
  const auto coordinator = server.enroll("coord-faults", "coord.cat", "coordinator");
  const Tablet tablet(dir);
  const ReservedPort port;  // where the tablet expects its server; nothing listens there yet
  tablet.json({"enroll", "--server", "ws://127.0.0.1:" + std::to_string(port.port()), "--token",
               server.enroll(tablet.device_id(), "officer.ann", "officer")});
  tablet.record_visits(5);

  auto watch = tablet.watch(true);
  std::this_thread::sleep_for(2500ms);  // the server is down for this long
  const auto down_errors = watch->err();
  INFO("while down: " << down_errors);
  CHECK_FALSE(watch->wait(0ms).has_value());      // still running
  CHECK(count(down_errors, "\"error\"") >= 3);     // it retried…
  CHECK(count(down_errors, "\"error\"") <= 40);    // …but not in a tight loop
  CHECK(count(down_errors, "\"network\"") == count(down_errors, "\"error\""));
  CHECK(tablet.pending() == 6);

  server.start();
  const test_support::TcpProxy server_on_the_port(server.port(), port.port());  // the server, at that port
  CHECK(tablet.synced_within(10s));
  const auto stats = test_support::http_get(server.port(), "/api/v1/stats", coordinator);
  CHECK(stats.body.find("\"total\":5,") != std::string::npos);
  CHECK(watch->stop(5s) == 0);
}

// Why: a 401 (the token is unknown, or the device was revoked) cannot be fixed by retrying,
// so `sync --watch` must stop and say so, instead of retrying silently for ever.
TEST_CASE("sync --watch stops with a message about the token on 401", "[e2e][faults]") {
  test_support::TempDir dir;
  test_support::ServerProcess server({"--revocation-poll", "0.1"}, test_support::new_test_database(dir));
  server.start();
  const Tablet tablet(dir);
  std::unique_ptr<Background> watch;

  SECTION("an unknown token") {
    tablet.json({"enroll", "--server", server.url(), "--token", "faults-unknown-token-0000"});
    watch = tablet.watch(false);
  }
  SECTION("a token revoked while the tablet is watching") {
    tablet.json({"enroll", "--server", server.url(), "--token",
                 server.enroll(tablet.device_id(), "officer.ann", "officer")});
    watch = tablet.watch(false);
    REQUIRE(tablet.synced_within(10s));
    REQUIRE(server.admin({"revoke", "--device", tablet.device_id()}).exit_code == 0);
    tablet.record_visits(1);  // something to sync
  }
  const auto exit_code = watch->wait(10s);
  INFO(watch->err());
  REQUIRE(exit_code.has_value());  // it stopped by itself
  CHECK(*exit_code == 1);
  CHECK(watch->err().find("401") != std::string::npos);
  CHECK(watch->err().find("token") != std::string::npos);
  CHECK(count(watch->err(), "401") == 1);  // one refusal was enough to stop
}
