// Storage faults on the server, end to end: a real sync-server whose writes to its SQLite files
// fail — a full disk (ENOSPC) or a read-only file system (EROFS) — injected by an LD_PRELOAD
// shim (tests/support/storage_fault_preload.c) while a flag file exists. docs/protocol.md §3,
// "Server errors": such a push is answered {"type":"error","code":"unavailable","fatal":false}
// and nothing of it is applied or acked; the connection, pulls and the statistics keep
// working; once the storage is writable again the same changes are applied exactly once; and
// the database file is never left damaged.
//
// Catch2 v2 assertions are not thread-safe: fleet threads report into `Problems`, and only the
// test's own thread asserts. Set FAULTS_SEED to replay a run (the seed is in each failure).
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "contract_support.h"
#include "faults_harness.h"
#include "safer/sqlite.h"

namespace {

using namespace faults_test;
using contract_test::household_push;
using contract_test::num;
using contract_test::str;
using contract_test::uuid;

// The flag file the shim looks at: present (holding the mode) means writes fail.
class StorageFault {
 public:
  explicit StorageFault(std::string path) : path_(std::move(path)) {}
  ~StorageFault() { end(); }

  // "full" (ENOSPC) or "readonly" (EROFS) from now on, for every write to the server's database.
  // Written aside and renamed into place: the shim never sees the file empty (which would read
  // as "full" while "readonly" was meant).
  void begin(const std::string& mode) const {
    std::ofstream(path_ + ".new") << mode;
    std::rename((path_ + ".new").c_str(), path_.c_str());
  }
  void end() const { std::remove(path_.c_str()); }
  const std::string& path() const { return path_; }

  // The environment that puts the shim in front of the server's writes.
  std::map<std::string, std::string> server_env() const {
    std::map<std::string, std::string> env{{"SAFER_STORAGE_FAULT", path_}};
    const char* preload = std::getenv("LD_PRELOAD");
    env["LD_PRELOAD"] = std::string(preload != nullptr && *preload ? std::string(preload) + ":" : "") +
                        STORAGE_FAULT_PRELOAD;
#if defined(__SANITIZE_ADDRESS__)
    // An ASan server wants its runtime first among the initial libraries; the shim (built
    // without sanitizers, it only passes calls on to the runtime's interceptors) comes first.
    const char* options = std::getenv("ASAN_OPTIONS");
    env["ASAN_OPTIONS"] = std::string(options != nullptr && *options ? std::string(options) + ":" : "") +
                          "verify_asan_link_order=0";
#endif
    return env;
  }

 private:
  std::string path_;
};

// What a stopped server's database file holds, read straight from it.
struct StoredFile {
  std::string integrity;  // PRAGMA integrity_check, its rows joined: "ok" when undamaged
  long records = 0;       // rows of `records`, tombstones included
  long acked_seq(const std::string& device) const { return acked.count(device) ? acked.at(device) : -1; }
  std::map<std::string, long> acked;  // device -> acked_seq
};

StoredFile read_stored_file(const std::string& db_path) {
  StoredFile stored;
  safer::sqlite::Database db(db_path);
  safer::sqlite::Statement integrity(db.handle(), "PRAGMA integrity_check");
  while (integrity.step()) stored.integrity += (stored.integrity.empty() ? "" : "; ") + integrity.column_text(0);
  safer::sqlite::Statement records(db.handle(), "SELECT count(*) FROM records");
  if (records.step()) stored.records = static_cast<long>(records.column_int(0));
  safer::sqlite::Statement devices(db.handle(), "SELECT device_id, acked_seq FROM devices");
  while (devices.step()) stored.acked[devices.column_text(0)] = static_cast<long>(devices.column_int(1));
  return stored;
}

// A push of households `n` and `n + 1` as changes `seq` and `seq + 1`.
std::string two_household_push(std::int64_t seq, int n) {
  const auto change = [](const std::string& push) {
    const auto begin = push.find("[{") + 1;
    return push.substr(begin, push.rfind("}]") + 1 - begin);
  };
  return R"({"type":"push","changes":[)" + change(household_push(seq, n)) + "," +
         change(household_push(seq + 1, n + 1)) + "]}";
}

long count_in_log(const ServerProcess& server, const std::string& what) {
  const auto log = server.log();
  long count = 0;
  for (auto at = log.find(what); at != std::string::npos; at = log.find(what, at + 1)) ++count;
  return count;
}

int http_status(const ServerProcess& server, const std::string& target, const std::string& token = "") {
  return test_support::http_get(server.port(), target, token).status;
}

// Whether every record of `tablets` is on the server with the same version, and exactly the
// raw device's households besides; problems are added to `problems`.
void check_held(const Records& held, const Tablets& tablets, int raw_households, Problems& problems) {
  Records expected;
  for (const auto& tablet : tablets) expected.merge(tablet->records(problems));
  for (const auto& [key, version] : expected) {
    const auto it = held.find(key);
    if (it == held.end()) problems.add("lost: " + key);
    if (it != held.end() && !(it->second == version)) problems.add("differs: " + key);
  }
  for (int n = 1; n <= raw_households; ++n) {
    if (!held.count("household/" + uuid(n))) problems.add("lost: the raw device's household " + uuid(n));
  }
  if (held.size() != expected.size() + static_cast<std::size_t>(raw_households)) {
    problems.add("the server holds " + std::to_string(held.size()) + " records, not " +
                 std::to_string(expected.size()) + " + " + std::to_string(raw_households));
  }
}

}  // namespace

// Why: a full disk or a read-only database must never cost a record or count one twice: the
// push is refused as a whole with a retryable error, everything else keeps working, and the
// same changes go through once the storage is writable again.
TEST_CASE("a server that cannot write its database refuses pushes with unavailable and resumes", "[e2e][faults][storage][sqlite-only]") {
  const std::string mode = GENERATE("full", "readonly");
  INFO("storage fault: " << mode);
  test_support::TempDir dir;
  const StorageFault fault(dir.file("storage-fault"));
  ServerProcess server({}, dir.file("server.db"), fault.server_env());
  server.start();
  const auto coordinator = server.enroll("coord-faults", "coord.cat", "coordinator");
  const auto raw_token = server.enroll("tablet-raw", "officer.raw", "officer");
  Problems problems;
  const Tablets tablets = make_tablets(dir, 1, server, server.url(), problems);
  Tablet& tablet = *tablets[0];
  std::mt19937_64 random(test_seed());

  // Before the fault: one change from the raw device, some from the tablet, all stored.
  auto raw = contract_test::join(server, "tablet-raw", raw_token);
  REQUIRE(num(contract_test::parse(raw->request(household_push(1, 1))), "acked_seq") == 1);
  for (int i = 0; i < 6; ++i) tablet.record_random(random, problems);
  REQUIRE(tablet.sync());
  const auto stats_before = server_stats(server.port(), coordinator, problems);
  const auto held_before = server_records(server.port(), coordinator, problems);
  REQUIRE(held_before.size() > 1);

  fault.begin(mode);
  // A two-change batch: refused as a whole, not fatally, and the connection stays usable.
  const std::string two_changes = two_household_push(2, 2);
  for (int attempt = 1; attempt <= 2; ++attempt) {
    INFO("push attempt " << attempt << " while the storage fails");
    const auto refused = contract_test::parse(raw->request(two_changes));
    CHECK(str(refused, "type") == "error");
    CHECK(str(refused, "code") == "unavailable");
    CHECK(contract_test::flag(refused, "fatal") == false);
    CHECK(str(refused, "message").find("nothing was applied") != std::string::npos);
  }
  CHECK(num(contract_test::parse(raw->request(contract_test::hello("tablet-raw"))), "acked_seq") == 1);
  {
    auto again = contract_test::join(server, "tablet-raw", raw_token);  // a new connection's welcome
    CHECK(num(contract_test::parse(again->request(contract_test::hello("tablet-raw"))), "acked_seq") == 1);
  }

  // Reads keep working while writes fail: pull (the raw device's own household), stats, health.
  const auto page = contract_test::parse(raw->request(R"({"type":"pull","limit":100,"cursor":""})"));
  REQUIRE(str(page, "type") == "changes");
  CHECK(page["changes"].Size() == 1);
  CHECK(http_status(server, "/healthz") == 200);
  CHECK(server_stats(server.port(), coordinator, problems) == stats_before);
  CHECK(server_records(server.port(), coordinator, problems) == held_before);

  // The real field client: its sync fails with a message, and its changes stay pending.
  for (int i = 0; i < 5; ++i) tablet.record_random(random, problems);
  const long pending = tablet.pending(problems);
  REQUIRE(pending > 0);
  const auto failed = tablet.run({"sync", "--timeout", "2"});
  CHECK(failed.exit_code != 0);
  CHECK((failed.err + failed.out).find("could not store") != std::string::npos);
  CHECK(tablet.pending(problems) == pending);
  CHECK(server_stats(server.port(), coordinator, problems) == stats_before);
  CHECK(server_records(server.port(), coordinator, problems) == held_before);
  CHECK(count_in_log(server, "push_failed") >= 3);
  CHECK(http_status(server, "/healthz") == 200);  // still running

  // Writable again: the same changes go through on the same connection, once.
  fault.end();
  CHECK(num(contract_test::parse(raw->request(two_changes)), "acked_seq") == 3);
  const auto resent = contract_test::parse(raw->request(two_changes));  // its ack lost, say
  CHECK(num(resent, "acked_seq") == 3);
  CHECK(resent["rejected"].Size() == 0);
  CHECK(tablet.sync());
  CHECK(tablet.pending(problems) == 0);
  const auto held = server_records(server.port(), coordinator, problems);
  check_held(held, tablets, 3, problems);
  Records tablet_records = tablet.records(problems);
  CHECK(server_stats(server.port(), coordinator, problems) == stats_of(tablet_records));
  CHECK(problems.text() == "");

  // The file: undamaged, and holding exactly what was acked.
  raw->close();
  REQUIRE(server.stop() == 0);
  const auto stored = read_stored_file(server.db_path());
  CHECK(stored.integrity == "ok");
  CHECK(stored.records == static_cast<long>(held.size()));
  CHECK(stored.acked_seq("tablet-raw") == 3);
}

// Why: the disk can fill and free at any moment — mid-commit, between one tablet's push and
// the next — and every tablet must still end with everything acked exactly once, and the
// database undamaged.
TEST_CASE("a disk that fills and frees at random moments during syncs loses and doubles nothing",
          "[e2e][faults][storage][sqlite-only]") {
  const auto seed = test_seed();
  INFO("FAULTS_SEED=" << seed);
  test_support::TempDir dir;
  const StorageFault fault(dir.file("storage-fault"));
  ServerProcess server({}, dir.file("server.db"), fault.server_env());
  server.start();
  const auto coordinator = server.enroll("coord-faults", "coord.cat", "coordinator");
  Problems problems;
  const Tablets tablets = make_tablets(dir, 5, server, server.url(), problems);

  std::atomic<bool> fleet_done{false};
  std::thread fleet([&] {
    // Another round while the fault has not yet refused a few pushes: on a fast machine one
    // round can finish between two faults.
    for (int round = 0; round < 4 && (round == 0 || count_in_log(server, "push_failed") < 3); ++round) {
      run_fleet(tablets, 15, 30, seed + static_cast<std::uint64_t>(round), problems);
    }
    fleet_done = true;
  });
  std::mt19937_64 random(seed);
  int faults = 0;
  for (; !fleet_done && faults < 40; ++faults) {  // then writable, so that the fleet finishes
    std::this_thread::sleep_for(std::chrono::milliseconds(pick(random, 100, 300)));
    fault.begin(pick(random, 0, 1) ? "full" : "readonly");
    std::this_thread::sleep_for(std::chrono::milliseconds(pick(random, 50, 250)));
    fault.end();
  }
  fleet.join();
  const long refused = count_in_log(server, "push_failed");
  INFO("storage faults: " << faults << ", pushes refused: " << refused);
  CHECK(refused >= 1);  // the faults did hit pushes
  CHECK(problems.text() == "");
  check_exactly_once(server, coordinator, tablets);
  const auto held = server_records(server.port(), coordinator, problems);

  REQUIRE(server.stop() == 0);
  const auto stored = read_stored_file(server.db_path());
  CHECK(stored.integrity == "ok");
  CHECK(stored.records == static_cast<long>(held.size()));
}
