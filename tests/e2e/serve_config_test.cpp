// `sync-server serve --config FILE` (docs/server.md "Config file"): the real binary reads its
// settings from the file, a flag on the command line beats the file, and every mistake in the
// file stops the server with exit status 2 and a message naming the file and the key.
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "child_process.h"
#include "process.h"
#include "server_process.h"
#include "temp_dir.h"

namespace {

using test_support::TempDir;

std::string write_config(const TempDir& dir, const std::string& text) {
  const auto path = dir.file("sync-server.conf");
  std::ofstream(path) << text;
  return path;
}

std::string read_text(const std::string& path) {
  std::ifstream file(path);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

// Starts `serve` with `args`, returns its first line ("listening on HOST:PORT") and stops it;
// its log (standard error) is left in `log`.
std::string first_line_of_serve(const TempDir& dir, std::vector<std::string> args, std::string& log) {
  args.insert(args.begin(), {test_support::sync_server_binary(), "serve"});
  const auto log_path = dir.file("serve.log");
  test_support::ChildProcess server(args, log_path);
  const auto line = server.first_line(std::chrono::seconds(20));
  CHECK(server.stop(std::chrono::seconds(10)) == 0);
  log = read_text(log_path);
  return line;
}

// Runs `serve --config FILE` on a file holding `text`; it must refuse to start.
test_support::ProcessResult refused_config(const TempDir& dir, const std::string& text) {
  const auto config = write_config(dir, text);
  const auto result = test_support::run_process(
      {test_support::sync_server_binary(), "serve", "--config", config, "--db", dir.file("sync.db")},
      {.deadline = std::chrono::seconds(20)});
  CHECK_FALSE(result.timed_out);
  CHECK(result.exit_code == 2);
  CHECK(result.out.find("listening") == std::string::npos);
  CHECK(result.err.find(config) != std::string::npos);  // the message names the file
  return result;
}

}  // namespace

TEST_CASE("serve takes its settings from the config file", "[e2e][config]") {
  TempDir dir;
  const auto db = dir.file("store/sync.db");
  const auto config = write_config(dir, "# the packaged file's shape: comments, quotes, spaces\n"
                                        "db = \"" + db + "\"\n"
                                        "listen = \"127.0.0.2:0\"   # a loopback address of its own\n"
                                        "time-zone = Europe/Paris\n"
                                        "io-threads = 3\n"
                                        "allow-plaintext = false\n");
  std::string log;
  const auto line = first_line_of_serve(dir, {"--config", config}, log);
  CHECK(line.rfind("listening on 127.0.0.2:", 0) == 0);
  CHECK(log.find("time_zone=Europe/Paris") != std::string::npos);
  CHECK(log.find("config=" + config) != std::string::npos);
  CHECK(std::filesystem::exists(db));
}

TEST_CASE("an option on the command line beats the config file's", "[e2e][config]") {
  TempDir dir;
  const auto db = dir.file("from-file.db");
  const auto config = write_config(dir, "db = " + db + "\nlisten = 127.0.0.2:0\ntime-zone = Europe/Paris\n");
  std::string log;
  const auto line = first_line_of_serve(dir, {"--listen", "127.0.0.1:0", "--config", config, "--time-zone", "UTC"}, log);
  CHECK(line.rfind("listening on 127.0.0.1:", 0) == 0);
  CHECK(log.find("time_zone=UTC") != std::string::npos);
  CHECK(std::filesystem::exists(db));  // what the command line left unset still comes from the file
}

TEST_CASE("serve --config '' reads no config file", "[e2e][config]") {
  TempDir dir;
  std::string log;
  const auto line =
      first_line_of_serve(dir, {"--config", "", "--db", dir.file("sync.db"), "--listen", "127.0.0.1:0"}, log);
  CHECK(line.rfind("listening on 127.0.0.1:", 0) == 0);
  CHECK(log.find("config=") == std::string::npos);
}

TEST_CASE("a config file's unknown key is refused by name", "[e2e][config]") {
  TempDir dir;
  SECTION("a key that is no option") {
    const auto result = refused_config(dir, "listen = 127.0.0.1:0\nlisten-port = 8081\n");
    CHECK(result.err.find("key \"listen-port\": unknown key") != std::string::npos);
  }
  SECTION("an option's name with underscores: the message says which was meant") {
    const auto result = refused_config(dir, "time_zone = UTC\n");
    CHECK(result.err.find("key \"time_zone\": unknown key (did you mean \"time-zone\"?)") != std::string::npos);
  }
  SECTION("a section: the keys go at the top") {
    const auto result = refused_config(dir, "[serve]\nlisten = 127.0.0.1:0\n");
    CHECK(result.err.find("section [serve]") != std::string::npos);
  }
  SECTION("config and help are no settings") {
    CHECK(refused_config(dir, "config = /etc/other.conf\n").err.find("key \"config\": cannot be set") != std::string::npos);
    CHECK(refused_config(dir, "help = true\n").err.find("key \"help\": cannot be set") != std::string::npos);
  }
  SECTION("a line without =, repeated only by its first word (the rest may be a secret)") {
    const auto result = refused_config(dir, "db postgresql://safer:hunter2@db.internal/safer\n");
    CHECK(result.err.find("the line that starts \"db\" is not a line `key = value`") != std::string::npos);
    CHECK(result.err.find("hunter2") == std::string::npos);
  }
}

TEST_CASE("a config file's bad value is refused naming its key", "[e2e][config]") {
  TempDir dir;
  SECTION("out of range, at the edge") {
    CHECK(refused_config(dir, "io-threads = 0\n").err.find("key \"io-threads\"") != std::string::npos);
    CHECK(refused_config(dir, "io-threads = 65\n").err.find("key \"io-threads\"") != std::string::npos);
  }
  SECTION("not a number") {
    CHECK(refused_config(dir, "idle-timeout = soon\n").err.find("key \"idle-timeout\"") != std::string::npos);
  }
  SECTION("a flag that is neither true nor false") {
    CHECK(refused_config(dir, "allow-plaintext = maybe\n").err.find("key \"allow-plaintext\"") != std::string::npos);
  }
  SECTION("a certificate file that does not exist") {
    CHECK(refused_config(dir, "tls-cert = /nonexistent/server.pem\n").err.find("key \"tls-cert\"") != std::string::npos);
  }
  SECTION("a '#' inside a value, which the reader would cut there") {
    CHECK(refused_config(dir, "db = postgresql://safer:pa#ss@db.internal/safer\n").err.find("key \"db\": a '#' in a value") !=
          std::string::npos);
    CHECK(refused_config(dir, "db = \"/srv/safer #2/sync.db\"\n").err.find("key \"db\": its quote is not closed") !=
          std::string::npos);
  }
  SECTION("an empty value") {
    CHECK(refused_config(dir, "time-zone = \"\"\n").err.find("key \"time-zone\": is empty") != std::string::npos);
  }
  SECTION("a key given twice, or a list") {
    CHECK(refused_config(dir, "time-zone = UTC\nio-threads = 2\ntime-zone = UTC\n").err.find("key \"time-zone\": is set twice") !=
          std::string::npos);
    CHECK(refused_config(dir, "io-threads = [2, 3]\n").err.find("key \"io-threads\": needs exactly one value") !=
          std::string::npos);
  }
  SECTION("a time zone the server does not know: the server's own check") {
    const auto config = write_config(dir, "time-zone = Mars/Olympus\nlisten = 127.0.0.1:0\n");
    const auto result = test_support::run_process(
        {test_support::sync_server_binary(), "serve", "--config", config, "--db", dir.file("sync.db")});
    CHECK(result.exit_code == 2);
  }
}

TEST_CASE("serve refuses a --config file that is missing", "[e2e][config]") {
  TempDir dir;
  const auto missing = dir.file("missing.conf");
  const auto result = test_support::run_process(
      {test_support::sync_server_binary(), "serve", "--config", missing, "--listen", "127.0.0.1:0"});
  CHECK(result.exit_code == 2);
  CHECK(result.err.find(missing + ": cannot read the config file") != std::string::npos);
  CHECK(result.out.find("listening") == std::string::npos);
  const auto directory = test_support::run_process(
      {test_support::sync_server_binary(), "serve", "--config", dir.path().string(), "--listen", "127.0.0.1:0"});
  CHECK(directory.exit_code == 2);
  CHECK(directory.err.find("is a directory") != std::string::npos);
}

TEST_CASE("serve warns about a config file everyone can read that holds a database password", "[e2e][config]") {
  TempDir dir;
  // Port 1 of loopback: nothing listens, so the server stops at once after its warning.
  const auto config = write_config(dir, "db = \"postgresql://safer:hunter2@127.0.0.1:1/none\"\nlisten = 127.0.0.1:0\n");
  const auto run = [&] {
    return test_support::run_process({test_support::sync_server_binary(), "serve", "--config", config},
                                     {.deadline = std::chrono::seconds(20)});
  };
  SECTION("mode 0644: warned, naming the file, never the password") {
    std::filesystem::permissions(config, std::filesystem::perms(0644));
    const auto result = run();
    CHECK(result.exit_code == 1);  // the database cannot be reached
    CHECK(result.err.find("config_exposed") != std::string::npos);
    CHECK(result.err.find(config + " (mode 0644)") != std::string::npos);
    CHECK(result.err.find("hunter2") == std::string::npos);
  }
  SECTION("mode 0640, as the package makes it: no warning") {
    std::filesystem::permissions(config, std::filesystem::perms(0640));
    const auto result = run();
    CHECK(result.exit_code == 1);
    CHECK(result.err.find("config_exposed") == std::string::npos);
  }
  SECTION("mode 0644 without a password (it is in .pgpass): no warning") {
    write_config(dir, "db = \"postgresql://safer@127.0.0.1:1/none\"\nlisten = 127.0.0.1:0\n");
    std::filesystem::permissions(config, std::filesystem::perms(0644));
    CHECK(run().err.find("config_exposed") == std::string::npos);
  }
}

// An administrator of a packaged server runs the commands without --db: they must reach the
// store serve uses, not make a new one where they happen to stand.
TEST_CASE("the store commands without --db work on the store serve's config file names", "[e2e][config]") {
  TempDir dir;
  const auto store = dir.file("server.db");
  const auto config = write_config(dir, "db = " + store + "\nlisten = 127.0.0.1:0\n");
  const auto run = [](std::vector<std::string> args) {
    args.insert(args.begin(), test_support::sync_server_binary());
    return test_support::run_process(args, {.deadline = std::chrono::seconds(20)});
  };
  const auto enrolled = run({"enroll", "--config", config, "--device", "tab-1", "--user", "officer.ann", "--role", "officer"});
  INFO(enrolled.err);
  REQUIRE(enrolled.exit_code == 0);
  const auto listed = run({"audit", "list", "--db", store, "--action", "enroll"});
  CHECK(listed.out.find("tab-1") != std::string::npos);

  // --db wins over the file; a bad file is refused naming it, before any store is touched.
  const auto other = dir.file("other.db");
  REQUIRE(run({"enroll", "--config", config, "--db", other, "--device", "tab-2", "--user", "officer.bo", "--role", "officer"})
              .exit_code == 0);
  CHECK(run({"audit", "list", "--db", store, "--action", "enroll"}).out.find("tab-2") == std::string::npos);
  const auto bad = write_config(dir, "db = " + store + "\nlistne = 127.0.0.1:0\n");
  const auto refused = run({"enroll", "--config", bad, "--device", "tab-3", "--user", "officer.cy", "--role", "officer"});
  CHECK(refused.exit_code == 2);
  CHECK(refused.err.find(bad) != std::string::npos);
  CHECK(refused.err.find("listne") != std::string::npos);
}
