// Real field clients against a real server, as the programme works: two tablets of one
// officer, a second officer, a PCSO and a coordinator, each seeing exactly its scope, edits
// converging, rejections reported, and the coordinator's stats counting every visit once.
#include <catch2/catch.hpp>

#include <cereal/archives/json.hpp>  // RapidJSON, configured as cereal configures it

#include <filesystem>
#include <fstream>
#include <set>

#include "json_checks.h"
#include "server_process.h"
#include "ws_test_client.h"

namespace {

using test_support::ServerProcess;

rapidjson::Document parse(const std::string& text) { return test_support::parse_json(text); }

class Tablet {
 public:
  Tablet(const ServerProcess& server, const std::string& device, const std::string& user, const std::string& role)
      : store_(dir_.file(device + ".db")), device_(device), token_(server.enroll(device, user, role)) {
    point_to(server);
  }

  // After a restart the server listens on another port: tell the tablet.
  void point_to(const ServerProcess& server) const {
    ok({"enroll", "--server", server.url(), "--token", token_, "--device", device_});
  }

  test_support::ProcessResult run(std::vector<std::string> args) const {
    args.insert(args.begin(), {FIELD_CLIENT_BINARY, "--store", store_});
    auto result = test_support::run_process(args);
    REQUIRE_FALSE(result.timed_out);
    return result;
  }
  std::string ok(std::vector<std::string> args) const {
    const auto result = run(std::move(args));
    INFO(result.err);
    REQUIRE(result.exit_code == 0);
    return result.out;
  }
  void sync() const { ok({"sync"}); }
  std::string id_of(std::vector<std::string> args) const {
    args.insert(args.begin(), "--json");
    return parse(ok(std::move(args)))["id"].GetString();
  }
  // Ids of the live records of one kind on this tablet.
  std::set<std::string> ids(const std::string& kind) const {
    const auto list = parse(ok({"--json", "list", kind}));
    std::set<std::string> out;
    for (const auto& record : list.GetArray()) out.insert(record["id"].GetString());
    return out;
  }
  rapidjson::Document show(const std::string& kind, const std::string& id) const {
    return parse(ok({"--json", kind, "show", id}));
  }

 private:
  test_support::TempDir dir_;
  std::string store_;
  std::string device_;
  std::string token_;
};

std::string write_register(const test_support::TempDir& dir) {
  const std::string path = dir.file("households.csv");
  std::ofstream csv(path);
  csv << "id,address,postcode,ward,target,assigned_to\n"
         "0192f5e4-0000-7000-8000-000000000001,1 Imaginary Road,WD6 1AA,Borehamwood Hillside,1,officer.ann\n"
         "0192f5e4-0000-7000-8000-000000000002,2 Imaginary Road,WD6 1AB,Borehamwood Hillside,1,officer.ann\n"
         "0192f5e4-0000-7000-8000-000000000003,3 Example Close,EN6 2BD,Potters Bar Oakmere,1,officer.ben\n"
         "0192f5e4-0000-7000-8000-000000000004,4 Example Close,EN6 2BE,Potters Bar Oakmere,0,\n";
  return path;
}

constexpr const char* kAnnsFirst = "0192f5e4-0000-7000-8000-000000000001";
constexpr const char* kAnnsSecond = "0192f5e4-0000-7000-8000-000000000002";
constexpr const char* kBens = "0192f5e4-0000-7000-8000-000000000003";

}  // namespace

TEST_CASE("each device receives its scope and the stats count every visit once", "[e2e][field-client]") {
  ServerProcess server;
  server.start();
  test_support::TempDir files;
  REQUIRE(server.admin({"import-households", write_register(files)}).exit_code == 0);

  const Tablet ann1(server, "tablet-ann-1", "officer.ann", "officer");
  const Tablet ann2(server, "tablet-ann-2", "officer.ann", "officer");
  const Tablet ben(server, "tablet-ben", "officer.ben", "officer");
  const Tablet dee(server, "tablet-dee", "pcso.dee", "pcso");
  const Tablet desk(server, "coordinator-desk", "coord.cat", "coordinator");
  for (const auto* tablet : {&ann1, &ann2, &ben, &dee, &desk}) tablet->sync();

  CHECK(ann1.ids("households") == std::set<std::string>{kAnnsFirst, kAnnsSecond});
  CHECK(ann2.ids("households") == ann1.ids("households"));
  CHECK(ben.ids("households") == std::set<std::string>{kBens});
  CHECK(dee.ids("households").empty());
  CHECK(desk.ids("households").size() == 4);

  // Offline on Ann's first tablet: a visit to an assigned household, a household found in
  // the field and a visit to it.
  const auto visit = ann1.id_of({"visit", "record", "--household", kAnnsFirst, "--status", "completed",
                                 "--fire-safety-check", "--smoke-detectors", "2"});
  const auto found = ann1.id_of({"household", "add", "--address", "9 Pretend Way", "--postcode", "WD6 3DD",
                                 "--ward", "Elstree"});
  const auto second = ann1.id_of({"visit", "record", "--household", found, "--status", "no_answer"});
  const auto session = dee.id_of({"commute", "log", "--station", "Potters Bar", "--cards", "25"});
  const auto bens_visit = ben.id_of({"visit", "record", "--household", kBens, "--status", "declined"});
  for (const auto* tablet : {&ann1, &dee, &ben}) tablet->sync();
  for (const auto* tablet : {&ann2, &ben, &dee, &desk}) tablet->sync();

  SECTION("scope: the user's other tablet gets everything, other users nothing of it") {
    CHECK(ann2.ids("visits") == std::set<std::string>{visit, second});
    CHECK(ann2.ids("households").count(found) == 1);
    CHECK(ben.ids("visits") == std::set<std::string>{bens_visit});
    CHECK(ben.ids("households") == std::set<std::string>{kBens});
    CHECK(dee.ids("visits").empty());
    CHECK(dee.ids("commute").size() == 1);
    CHECK(desk.ids("visits") == std::set<std::string>{visit, second, bens_visit});
    CHECK(desk.ids("commute") == std::set<std::string>{session});
  }

  SECTION("concurrent edits on two tablets converge to one version everywhere") {
    ann1.ok({"visit", "update", visit, "--smoke-detectors", "3"});
    ann2.ok({"visit", "update", visit, "--smoke-detectors", "4"});
    for (int round = 0; round < 2; ++round) {
      for (const auto* tablet : {&ann1, &ann2, &desk}) tablet->sync();
    }
    const auto on_ann1 = ann1.show("visit", visit)["data"]["smoke_detectors_fitted"].GetInt();
    CHECK((on_ann1 == 3 || on_ann1 == 4));
    CHECK(ann2.show("visit", visit)["data"]["smoke_detectors_fitted"].GetInt() == on_ann1);
    CHECK(desk.show("visit", visit)["data"]["smoke_detectors_fitted"].GetInt() == on_ann1);
    const auto stats = parse(test_support::http_get(server.port(), "/api/v1/stats",
                                                    server.enroll("stats-reader", "coord.cat", "coordinator"))
                                 .body);
    CHECK(stats["outcomes"]["smoke_detectors_fitted"].GetInt() == on_ann1);
  }

  SECTION("the coordinator's stats count each visit and session once") {
    ann1.sync();  // a second sync sends nothing again
    const auto token = server.enroll("stats-reader", "coord.cat", "coordinator");
    const auto stats = parse(test_support::http_get(server.port(), "/api/v1/stats", token).body);
    CHECK(stats["visits"]["total"].GetInt() == 3);
    CHECK(stats["visits"]["by_status"]["completed"].GetInt() == 1);
    CHECK(stats["visits"]["by_status"]["no_answer"].GetInt() == 1);
    CHECK(stats["visits"]["by_status"]["declined"].GetInt() == 1);
    CHECK(stats["visits"]["by_ward"]["Borehamwood Hillside"].GetInt() == 1);
    CHECK(stats["visits"]["by_ward"]["Elstree"].GetInt() == 1);
    CHECK(stats["outcomes"]["smoke_detectors_fitted"].GetInt() == 2);
    CHECK(stats["households"]["target"].GetInt() == 3);
    CHECK(stats["households"]["visited"].GetInt() == 1);
    CHECK(stats["commute_aware"]["by_station"]["Potters Bar"].GetInt() == 25);
  }
}

TEST_CASE("a change the server rejects is shown with its message and never resent", "[e2e][field-client]") {
  ServerProcess server;
  server.start();
  test_support::TempDir files;
  REQUIRE(server.admin({"import-households", write_register(files)}).exit_code == 0);
  const Tablet ann(server, "tablet-ann", "officer.ann", "officer");
  const Tablet desk(server, "coordinator-desk", "coord.cat", "coordinator");
  ann.sync();
  desk.sync();

  // The coordinator deletes a household while Ann, offline, records a visit to it.
  desk.ok({"household", "delete", kAnnsSecond});
  desk.sync();
  const auto visit = ann.id_of({"visit", "record", "--household", kAnnsSecond, "--status", "completed"});
  const auto kept = ann.id_of({"visit", "record", "--household", kAnnsFirst, "--status", "completed"});
  ann.sync();

  const auto status = parse(ann.ok({"--json", "status"}));
  CHECK(status["pending"].GetInt() == 0);
  REQUIRE(status["rejected"].GetInt() == 1);
  const auto& rejection = status["rejections"][0]["rejection"];
  CHECK(std::string(rejection["code"].GetString()) == "invalid");
  CHECK(std::string(rejection["field"].GetString()) == "household_id");
  CHECK(std::string(status["rejections"][0]["id"].GetString()) == visit);
  CHECK(ann.ok({"status"}).find("household_id names a household that was deleted") != std::string::npos);

  ann.sync();  // never resent: the server's log shows one push with one change
  const auto log = server.log();
  std::size_t pushes = 0;
  for (std::size_t at = log.find(" push device=tablet-ann "); at != std::string::npos;
       at = log.find(" push device=tablet-ann ", at + 1)) {
    ++pushes;
  }
  CHECK(pushes == 1);
  desk.sync();
  CHECK(desk.ids("visits") == std::set<std::string>{kept});
}

TEST_CASE("a server restored from a backup gets back from the tablets what it lost", "[e2e][field-client][sqlite-only]") {
  test_support::TempDir files;
  const std::string db = files.file("server.db");
  const std::string backup = files.file("backup.db");
  std::set<std::string> visits;
  std::unique_ptr<Tablet> ann;
  {
    ServerProcess server({}, db);
    server.start();
    REQUIRE(server.admin({"import-households", write_register(files)}).exit_code == 0);
    server.enroll("coordinator-desk", "coord.cat", "coordinator");
    ann = std::make_unique<Tablet>(server, "tablet-ann", "officer.ann", "officer");
    ann->sync();
    visits.insert(ann->id_of({"visit", "record", "--household", kAnnsFirst, "--status", "completed"}));
    ann->sync();
    REQUIRE(server.stop() == 0);
  }
  std::filesystem::copy_file(db, backup);  // the nightly backup
  {
    ServerProcess server({}, db);
    server.start();
    ann->point_to(server);
    visits.insert(ann->id_of({"visit", "record", "--household", kAnnsFirst, "--status", "no_answer"}));
    visits.insert(ann->id_of({"visit", "record", "--household", kAnnsSecond, "--status", "declined"}));
    ann->sync();
    REQUIRE(server.stop() == 0);
  }
  std::filesystem::copy_file(backup, db, std::filesystem::copy_options::overwrite_existing);  // disk lost
  std::filesystem::remove(db + "-wal");
  std::filesystem::remove(db + "-shm");

  ServerProcess server({}, db);
  server.start();
  ann->point_to(server);
  ann->sync();  // nothing new on the tablet: the server's acked_seq tells it what to resend
  const Tablet desk(server, "coordinator-desk-2", "coord.cat", "coordinator");
  desk.sync();
  CHECK(desk.ids("visits") == visits);
  CHECK(parse(ann->ok({"--json", "status"}))["pending"].GetInt() == 0);
  const auto stats = parse(test_support::http_get(server.port(), "/api/v1/stats",
                                                  server.enroll("stats-reader", "coord.cat", "coordinator")).body);
  CHECK(stats["visits"]["total"].GetInt() == 3);
}
