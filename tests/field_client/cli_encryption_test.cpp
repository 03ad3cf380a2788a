// The command line on an encrypted store: enroll with a PIN encrypts it, every command then
// needs the PIN (from --pin-file, never argv), and a coordinator's wipe order (HTTP 410 with
// {"code":"wipe"} at the upgrade) erases the store, with a clear message and exit status 4.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "field_client/store.h"
#include "process.h"
#include "raw_bytes.h"
#include "temp_dir.h"
#include "wipe_order_server.h"

namespace {

constexpr const char* kAddress = "23 Marrowglen Terrace";  // fictional
constexpr const char* kNote = "Occupant uses a Vellicord oxygen concentrator";
constexpr const char* kToken = "sst_fictional_cli_token_RTYU";

struct Tablet {
  test_support::TempDir dir;
  std::string folder = dir.file("store");
  std::string store = folder + "/tablet.db";
  std::string pin_file = dir.file("pin.txt");

  Tablet() { std::ofstream(pin_file) << "7351902\n"; }

  test_support::ProcessResult run(std::vector<std::string> args, test_support::ProcessOptions options = {}) const {
    args.insert(args.begin(), {FIELD_CLIENT_BINARY, "--store", store});
    auto result = test_support::run_process(args, options);
    REQUIRE_FALSE(result.timed_out);
    return result;
  }
  test_support::ProcessResult with_pin(std::vector<std::string> args) const {
    args.insert(args.begin(), {"--pin-file", pin_file});
    return run(std::move(args));
  }

  // Records a household and a visit with a note, offline, on the (plain) store.
  void record() const {
    const auto added = run({"--json", "household", "add", "--address", kAddress, "--postcode", "wd6 1aa", "--ward", "Elstree"});
    REQUIRE(added.exit_code == 0);
    const auto id_at = added.out.find("\"id\":\"") + 6;
    const std::string id = added.out.substr(id_at, 36);
    REQUIRE(run({"visit", "record", "--household", id, "--status", "completed", "--notes", kNote}).exit_code == 0);
  }

  void check_nothing_readable() const {
    for (const char* secret : {kAddress, kNote, kToken}) {
      INFO(secret);
      CHECK(test_support::files_containing(folder, secret).empty());
    }
  }
};

}  // namespace

TEST_CASE("enroll with a PIN encrypts a plain store - every command then needs the PIN", "[cli][encryption]") {
  Tablet tablet;
  tablet.record();
  CHECK_FALSE(test_support::files_containing(tablet.folder, kNote).empty());  // the control: plain
  REQUIRE(tablet.run({"--pin-file", tablet.pin_file, "enroll", "--server", "ws://127.0.0.1:9", "--token-file", "-"},
                     {.input = std::string(kToken) + "\n"})
              .exit_code == 0);
  tablet.check_nothing_readable();

  const auto locked = tablet.run({"list"});
  CHECK(locked.exit_code == 3);
  CHECK(locked.err.find("--pin-file") != std::string::npos);
  const auto listed = tablet.with_pin({"list", "visits"});
  REQUIRE(listed.exit_code == 0);
  CHECK(listed.out.find("Visits (1)") != std::string::npos);
  // The PIN on standard input works too.
  CHECK(tablet.run({"--pin-file", "-", "status"}, {.input = "7351902\n"}).exit_code == 0);

  const std::string wrong = tablet.dir.file("wrong.txt");
  std::ofstream(wrong) << "0000000\n";
  const auto refused = tablet.run({"--pin-file", wrong, "list"});
  CHECK(refused.exit_code == 3);
  CHECK(refused.err.find("9 more wrong PIN") != std::string::npos);
  CHECK(refused.err.find("0000000") == std::string::npos);  // the PIN is never echoed
  CHECK(tablet.with_pin({"list"}).exit_code == 0);           // and the store is intact
}

TEST_CASE("a coordinator's wipe order erases the store and says why", "[cli][encryption][wipe]") {
  Tablet tablet;
  tablet.record();
  const test_support::WipeOrderServer server;
  REQUIRE(tablet.run({"--pin-file", tablet.pin_file, "enroll", "--server", server.url(), "--token-file", "-"},
                     {.input = std::string(kToken) + "\n"})
              .exit_code == 0);
  const auto synced = tablet.with_pin({"sync", "--timeout", "5"});
  CHECK(synced.exit_code == 4);
  CHECK(synced.err.find("coordinator ordered this tablet wiped") != std::string::npos);
  CHECK(synced.err.find("enrol") != std::string::npos);
  CHECK(server.requests() == 1);
  CHECK(test_support::file_names_in(tablet.folder).empty());
  tablet.check_nothing_readable();

  SECTION("a plain store is erased alike, and sync --watch stops on the order too") {
    Tablet plain;
    plain.record();
    REQUIRE(plain.run({"enroll", "--server", server.url(), "--token", kToken}).exit_code == 0);
    const auto watched = plain.run({"sync", "--watch", "--timeout", "5"});
    CHECK(watched.exit_code == 4);
    CHECK(test_support::file_names_in(plain.folder).empty());
  }
}

TEST_CASE("a 410 without the wipe code, or a 401, erases nothing", "[cli][encryption][wipe]") {
  for (const auto& [status, body] : {std::pair{410, std::string(R"({"code":"gone"})")}, std::pair{410, std::string("not json")},
                                     std::pair{401, std::string(R"({"code":"wipe"})")}}) {
    INFO(status << " " << body);
    Tablet tablet;
    tablet.record();
    const test_support::WipeOrderServer server(status, body);
    REQUIRE(tablet.run({"enroll", "--server", server.url(), "--token", kToken}).exit_code == 0);
    const auto synced = tablet.run({"sync", "--timeout", "5"});
    CHECK(synced.exit_code == 1);
    CHECK_FALSE(test_support::files_containing(tablet.folder, kNote).empty());  // still there
  }
}
