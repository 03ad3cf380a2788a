// The field client when its store cannot be read (failing flash, an I/O error): the real
// field-client binary under the storage-fault shim (tests/support/storage_fault_preload.c),
// whose SAFER_STORAGE_READ_FAULT flag makes reads of SQLite files fail with EIO. Reads used
// to throw out of main() (the command line aborted) and out of the tablet app's handlers and
// sync thread; they must fail like writes: a clear error, exit status 1, HTTP 503 naming what
// could not be read, and no personal data in any of it.
#include <catch2/catch.hpp>

#include <cereal/archives/json.hpp>  // RapidJSON, configured as cereal configures it

#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <thread>

#include "json_checks.h"
#include "child_process.h"
#include "process.h"
#include "temp_dir.h"
#include "ws_test_client.h"

namespace {

using test_support::ProcessResult;

constexpr const char* kAddress = "7 Imaginary Close";  // fictional; must never be echoed in an error
// Reads at or past this offset fail: the store's first pages (its schema and its small meta
// table) stay readable, so a command opens the store and fails at the read it then makes.
constexpr const char* kPastTheSchema = "65536";

// The shim's read-fault flag file: present means reads of the store fail.
class ReadFault {
 public:
  explicit ReadFault(std::string path) : path_(std::move(path)) {}
  ~ReadFault() { end(); }

  // From now on, reads at offsets of at least `from` ("" for every read) fail. Written aside
  // and renamed into place: the shim never sees a half-written offset.
  void begin(const std::string& from) const {
    std::ofstream(path_ + ".new") << from;
    std::rename((path_ + ".new").c_str(), path_.c_str());
  }
  void end() const { std::remove(path_.c_str()); }

  // The environment that puts the shim in front of a program's reads.
  std::map<std::string, std::string> env() const {
    return {{"SAFER_STORAGE_READ_FAULT", path_}, {"LD_PRELOAD", STORAGE_FAULT_PRELOAD}};
  }

 private:
  std::string path_;
};

ProcessResult field_client(const std::string& store, std::vector<std::string> args,
                           std::map<std::string, std::string> env = {}) {
  std::vector<std::string> argv = {FIELD_CLIENT_BINARY, "--store", store};
  argv.insert(argv.end(), args.begin(), args.end());
  test_support::ProcessOptions options;
  options.env = std::move(env);
  options.deadline = std::chrono::seconds(20);
  return test_support::run_process(argv, options);
}

// A store whose records reach well past kPastTheSchema: one household and 40 visits with
// long notes (each kept twice: as the record and in the outbox).
std::string household_with_visits(const test_support::TempDir& dir) {
  const std::string store = dir.file("tablet.db");
  const auto added = field_client(store, {"--json", "household", "add", "--address", kAddress, "--postcode",
                                          "WD6 1AA", "--ward", "Elstree"});
  REQUIRE(added.exit_code == 0);
  rapidjson::Document record;
  record.Parse(added.out.c_str());
  REQUIRE(record.IsObject());
  const std::string household = record["id"].GetString();
  const std::string notes(1900, 'n');
  for (int i = 0; i < 40; ++i) {
    REQUIRE(field_client(store, {"visit", "record", "--household", household, "--status", "no_answer", "--notes", notes})
                .exit_code == 0);
  }
  return store;
}

rapidjson::Document parse(const std::string& text) { return test_support::parse_object(text); }

}  // namespace

TEST_CASE("the command line reports a store it cannot read and exits 1, never aborting", "[e2e][faults][client-reads]") {
  test_support::TempDir dir;
  const std::string store = household_with_visits(dir);
  REQUIRE(field_client(store, {"status"}).exit_code == 0);
  ReadFault fault(dir.file("read-fault"));
  fault.begin(kPastTheSchema);

  for (const auto& command : std::vector<std::vector<std::string>>{
           {"list", "households"}, {"list", "visits"}, {"list"}, {"status"}, {"pending"}}) {
    INFO(command.front() << (command.size() > 1 ? " " + command[1] : ""));
    const auto run = field_client(store, command, fault.env());
    CHECK(run.exit_code == 1);  // not killed by a signal (-1), as an exception out of main() was
    CHECK(run.err.find("field-client: cannot read ") == 0);
    CHECK(run.err.find("from this device's store") != std::string::npos);
    CHECK(run.err.find("Imaginary") == std::string::npos);
    CHECK(run.err.find("nnnn") == std::string::npos);
    CHECK(run.out.empty());  // no half-printed list
  }
  const auto json = field_client(store, {"--json", "pending"}, fault.env());
  CHECK(json.exit_code == 1);
  const auto error = parse(json.err);
  CHECK(std::string(error["error"]["code"].GetString()) == "storage");
  CHECK(error["error"]["retryable"].GetBool());

  fault.end();
  const auto listed = field_client(store, {"--json", "list", "visits"});
  CHECK(listed.exit_code == 0);
  CHECK(listed.out.find("nnnn") != std::string::npos);  // the data was never harmed
}

TEST_CASE("the tablet app answers reads it cannot do with 503 naming what failed, and keeps serving", "[e2e][ui][faults][client-reads]") {
  test_support::TempDir dir;
  const std::string store = dir.file("tablet.db");
  ReadFault fault(dir.file("read-fault"));
  // /usr/bin/env sets the shim's variables and execs field-client in its place (same pid).
  std::vector<std::string> argv = {"/usr/bin/env"};
  for (const auto& [name, value] : fault.env()) argv.push_back(name + "=" + value);
  for (const std::string arg : {FIELD_CLIENT_BINARY, "--store", store.c_str(), "ui", "--port", "0", "--sync-interval", "0.2"}) {
    argv.push_back(arg);
  }
  test_support::ChildProcess app(argv, dir.file("ui.log"));
  const std::string line = app.first_line();  // "field-client ui: open http://127.0.0.1:PORT/?key=KEY"
  const auto port = static_cast<unsigned short>(std::stoi(line.substr(line.find("127.0.0.1:") + 10)));
  const std::vector<std::pair<std::string, std::string>> key = {{"X-Field-Client-Key", line.substr(line.find("key=") + 4)}};
  const auto call = [&](const std::string& target) { return test_support::http_request(port, "GET", target, key); };

  const auto created = test_support::http_request(
      port, "POST", "/api/households", key, std::string(R"({"address":")") + kAddress + R"(","postcode":"WD6 1AA","ward":"Elstree"})");
  REQUIRE(created.status == 201);
  const std::string household = parse(created.body)["id"].GetString();
  REQUIRE(call("/api/households").status == 200);

  fault.begin("");
  // Another program's write makes the app drop its page cache, so its next reads go to the file.
  REQUIRE(field_client(store, {"household", "add", "--address", "8 Imaginary Close", "--postcode", "WD6 1AB", "--ward",
                               "Elstree"})
              .exit_code == 0);
  for (const auto& target : std::vector<std::string>{"/api/households", "/api/status", "/api/reference",
                                                     "/api/visits?household=" + household, "/api/commute", "/api/rejected"}) {
    INFO(target);
    const auto reply = call(target);
    CHECK(reply.status == 503);
    const auto body = parse(reply.body);
    REQUIRE(body.HasMember("error"));
    CHECK(std::string(body["error"].GetString()).find("cannot read ") == 0);
    CHECK(std::string(body["code"].GetString()) == "storage");
    CHECK(reply.body.find("Imaginary") == std::string::npos);
  }
  CHECK(std::string(parse(call("/api/households").body)["error"].GetString()).find("the households") != std::string::npos);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // background syncs meet the fault too

  fault.end();
  const auto recovered = call("/api/households");
  INFO(recovered.body);
  CHECK(recovered.status == 200);
  CHECK(parse(recovered.body)["households"].Size() == 2);
  CHECK(app.stop() == 0);  // it was serving all along, and stops cleanly
}
