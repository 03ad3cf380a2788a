// Real field clients against a real server, as the programme works: two tablets of one
// officer, a second officer, a PCSO and a coordinator, each seeing exactly its scope, edits
// converging, rejections reported, and the coordinator's stats counting every visit once.
#include <catch2/catch.hpp>

#include <cereal/archives/json.hpp>  // RapidJSON, configured as cereal configures it

#include <filesystem>
#include <fstream>
#include <chrono>
#include <set>
#include <thread>

#include "contract_support.h"
#include "json_checks.h"
#include "raw_bytes.h"
#include "server_process.h"
#include "tcp_proxy.h"
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
  const std::string& token() const { return token_; }
  const std::string& store_path() const { return store_; }

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
  CHECK(std::string(rejection["code"].GetString()) == "erased");
  CHECK(std::string(rejection["field"].GetString()) == "household_id");
  CHECK(std::string(status["rejections"][0]["id"].GetString()) == visit);
  CHECK(ann.ok({"status"}).find("was erased by a coordinator") != std::string::npos);

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

TEST_CASE("a visit's lawful basis for sharing reaches the server and the officer's other tablet", "[e2e][field-client][share_basis]") {
  // A referral's basis recorded at the door must be the one the partners' records and the
  // coordinator see; and clearing the referrals on one tablet clears it everywhere.
  ServerProcess server;
  server.start();
  test_support::TempDir files;
  REQUIRE(server.admin({"import-households", write_register(files)}).exit_code == 0);
  const Tablet ann1(server, "tablet-ann-1", "officer.ann", "officer");
  const Tablet ann2(server, "tablet-ann-2", "officer.ann", "officer");
  const Tablet desk(server, "coordinator-desk", "coord.cat", "coordinator");
  ann1.sync();

  const auto visit = ann1.id_of({"visit", "record", "--household", kAnnsFirst, "--status", "completed",
                                 "--referral", "fire_service,adult_social_care", "--share-basis", "vital_interests"});
  ann1.sync();
  CHECK(parse(ann1.ok({"--json", "status"}))["pending"].GetInt() == 0);
  ann2.sync();
  desk.sync();
  for (const auto* tablet : {&ann2, &desk}) {
    const auto shown = tablet->show("visit", visit);
    REQUIRE(shown["data"].HasMember("share_basis"));
    CHECK(std::string(shown["data"]["share_basis"].GetString()) == "vital_interests");
    CHECK(shown["data"]["referrals"].Size() == 2);
  }

  // The other tablet changes the basis; then the first clears the referrals.
  ann2.ok({"visit", "update", visit, "--share-basis", "consent"});
  ann2.sync();
  ann1.sync();
  CHECK(std::string(ann1.show("visit", visit)["data"]["share_basis"].GetString()) == "consent");
  ann1.ok({"visit", "update", visit, "--no-referrals"});
  ann1.sync();
  ann2.sync();
  const auto cleared = ann2.show("visit", visit);
  CHECK(cleared["data"]["referrals"].Size() == 0);
  CHECK_FALSE(cleared["data"].HasMember("share_basis"));
}

TEST_CASE("a protocol-1 device's referral without a basis reaches the tablet as it is, and an edit there needs one",
          "[e2e][field-client][share_basis]") {
  // Visits recorded before the basis was asked stay "not recorded"; the officer who edits one
  // on this client is asked for it, and the answer reaches the server.
  ServerProcess server;
  server.start();
  test_support::TempDir files;
  REQUIRE(server.admin({"import-households", write_register(files)}).exit_code == 0);
  const Tablet ann(server, "tablet-ann", "officer.ann", "officer");
  const Tablet desk(server, "coordinator-desk", "coord.cat", "coordinator");
  const auto old_tablet = contract_test::join(server, "old-tablet-ann", server.enroll("old-tablet-ann", "officer.ann", "officer"));
  const std::string visit = contract_test::uuid(77);
  const auto ack = contract_test::parse(old_tablet->request(
      R"({"type":"push","changes":[{"seq":1,"entity":"visit","op":"upsert","id":")" + visit + R"(","hlc":")" +
      contract_test::hlc_now() + R"(","data":{"household_id":")" + kAnnsFirst +
      R"(","visited_at":"2026-11-20T10:00:00Z","status":"completed","referrals":["health"]}}]})"));
  REQUIRE(contract_test::num(ack, "acked_seq") == 1);
  REQUIRE(ack["rejected"].Size() == 0);

  ann.sync();
  const auto pulled = ann.show("visit", visit);
  CHECK(pulled["data"]["referrals"].Size() == 1);
  CHECK_FALSE(pulled["data"].HasMember("share_basis"));
  CHECK(ann.ok({"visit", "list"}).find("share_basis=not_recorded") != std::string::npos);

  const auto refused = ann.run({"visit", "update", visit, "--notes", "Fictional follow-up."});
  CHECK(refused.exit_code == 2);
  CHECK(refused.err.find("share_basis is required with a referral") != std::string::npos);
  CHECK(parse(ann.ok({"--json", "pending"})).Size() == 0);

  ann.ok({"visit", "update", visit, "--notes", "Fictional follow-up.", "--share-basis", "consent"});
  ann.sync();
  desk.sync();
  CHECK(std::string(desk.show("visit", visit)["data"]["share_basis"].GetString()) == "consent");
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

namespace {

// Starts `server` holding write_register()'s households.
void start_with_register(ServerProcess& server, const test_support::TempDir& files) {
  server.start();
  REQUIRE(server.admin({"import-households", write_register(files)}).exit_code == 0);
}

// What a raw client that says hello with `capabilities` pulls from `cursor` to the end: each
// change as "op id", and the last cursor.
std::pair<std::vector<std::string>, std::string> raw_pull(const ServerProcess& server, const Tablet& tablet,
                                                          const std::string& device, const std::string& capabilities,
                                                          std::string cursor) {
  test_support::WsTestClient client;
  REQUIRE(client.connect(server.port(), tablet.token()).ok);
  const auto welcome = client.request(R"({"type":"hello","protocol":1,"device_id":")" + device + R"(")" + capabilities + "}");
  REQUIRE(welcome);
  std::vector<std::string> changes;
  for (int pages = 0; pages < 100; ++pages) {
    const auto page = client.request(R"({"type":"pull","limit":2,"cursor":")" + cursor + R"("})");
    REQUIRE(page);
    const auto document = parse(*page);
    REQUIRE(document.HasMember("changes"));
    for (const auto& change : document["changes"].GetArray()) {
      changes.push_back(std::string(change["op"].GetString()) + " " + change["id"].GetString());
    }
    cursor = document["cursor"].GetString();
    if (!document["has_more"].GetBool()) return {changes, cursor};
  }
  FAIL("the pull never finished");
  return {};
}

}  // namespace

// Why: issue 14 §2: a household reassigned away leaves the first officer's tablet with its
// visits, and stays on the new one's; a protocol-1 client is sent no new op (protocol.md §10).
TEST_CASE("a reassignment evicts the household and its visits from the old officer's tablet only",
          "[e2e][field-client][evict]") {
  ServerProcess server;
  test_support::TempDir files;
  start_with_register(server, files);
  const Tablet ann(server, "tablet-ann", "officer.ann", "officer");
  const Tablet ben(server, "tablet-ben", "officer.ben", "officer");
  const Tablet desk(server, "coordinator-desk", "coord.cat", "coordinator");
  ann.sync();
  const auto synced = ann.id_of({"visit", "record", "--household", kAnnsFirst, "--status", "completed",
                                 "--notes", "Fictional note about the porch light"});
  ann.sync();
  // Where a protocol-1 client and an "evict" client of Ann's stand before the reassignment.
  const auto before = raw_pull(server, ann, "tablet-ann", "", "").second;
  // Offline, Ann records another visit: still unsynced when the household leaves her scope.
  const auto pending = ann.id_of({"visit", "record", "--household", kAnnsFirst, "--status", "no_answer",
                                  "--notes", "Fictional refused note by the side gate"});

  desk.sync();
  desk.ok({"household", "update", kAnnsFirst, "--assigned-to", "officer.ben"});
  desk.sync();
  ben.sync();
  ann.sync();

  // The synced visit is evicted; the unsynced one was rejected, and goes with its household:
  // its rejection stays (code and message) without the visit's data (protocol.md §4.6).
  CHECK(ann.ids("visits").empty());
  CHECK(ann.ids("households") == std::set<std::string>{kAnnsSecond});
  const auto status = parse(ann.ok({"--json", "status"}));
  REQUIRE(status["rejected"].GetInt() == 1);
  CHECK(std::string(status["rejections"][0]["id"].GetString()) == pending);
  CHECK(std::string(status["rejections"][0]["rejection"]["code"].GetString()) == "forbidden");
  CHECK_FALSE(status["rejections"][0].HasMember("data"));
  // Ann's store is plain here: its bytes hold nothing of the household that left her scope.
  const auto folder = std::filesystem::path(ann.store_path()).parent_path();
  for (const auto& gone : {"1 Imaginary Road", "Fictional note about the porch light", "Fictional refused note by the side gate"}) {
    CHECK(test_support::files_containing(folder, gone).empty());
  }

  CHECK(ben.ids("households") == std::set<std::string>{kAnnsFirst, kBens});
  CHECK(ben.ids("visits") == std::set<std::string>{synced});

  SECTION("a protocol-1 client gets no evict op; one that announced evict does") {
    const auto protocol1 = raw_pull(server, ann, "tablet-ann", "", before).first;
    for (const auto& change : protocol1) CHECK(change.rfind("evict ", 0) != 0);
    const auto with_evict = raw_pull(server, ann, "tablet-ann", R"(,"capabilities":["evict"])", before).first;
    CHECK(std::count(with_evict.begin(), with_evict.end(), std::string("evict ") + kAnnsFirst) == 1);
  }
}

// Why: issue 14 §3: a coordinator's delete erases the household and every visit to it, on the
// server and on the tablets, whoever recorded them, and the statistics lose them.
TEST_CASE("an erasure reaches every tablet and the statistics", "[e2e][field-client][erase]") {
  ServerProcess server;
  test_support::TempDir files;
  start_with_register(server, files);
  const Tablet ben(server, "tablet-ben", "officer.ben", "officer");
  const Tablet desk(server, "coordinator-desk", "coord.cat", "coordinator");
  ben.sync();
  const auto bens_visit = ben.id_of({"visit", "record", "--household", kBens, "--status", "completed",
                                     "--notes", "Fictional erasable note"});
  ben.sync();
  desk.sync();
  REQUIRE(desk.ids("visits") == std::set<std::string>{bens_visit});

  desk.ok({"household", "delete", kBens});
  desk.sync();
  ben.sync();
  CHECK(ben.ids("households").empty());
  CHECK(ben.ids("visits").empty());
  CHECK(desk.ids("visits").empty());
  const auto stats = parse(test_support::http_get(server.port(), "/api/v1/stats", desk.token()).body);
  CHECK(stats["visits"]["total"].GetInt() == 0);
  // An officer's newer upsert of the household cannot bring it back.
  test_support::WsTestClient client;
  REQUIRE(client.connect(server.port(), ben.token()).ok);
  const auto welcome = parse(client.request(R"({"type":"hello","protocol":1,"device_id":"tablet-ben"})").value());
  const auto seq = std::to_string(welcome["acked_seq"].GetInt64() + 1);
  const auto ack = parse(client.request(
      R"({"type":"push","changes":[{"seq":)" + seq + R"(,"entity":"household","op":"upsert","id":")" +
      std::string(kBens) +
      R"(","hlc":"001795685400000-00000","data":{"address":"3 Example Close","postcode":"EN6 2BD","ward":"Potters Bar Oakmere"}}]})").value());
  REQUIRE(ack["rejected"].Size() == 1);
  CHECK(std::string(ack["rejected"][0]["code"].GetString()) == "erased");
  desk.sync();
  CHECK(desk.ids("households").count(kBens) == 0);
}

// Why: issue 14 §2: a wipe order must reach the device unmistakably (410 with a fixed body),
// while a plain revoke stays a plain 401 (protocol.md §1.2).
TEST_CASE("a device ordered wiped gets 410 with the wipe body - a revoked one 401", "[e2e][wipe]") {
  ServerProcess server;
  server.start();
  const auto lost = server.enroll("tablet-lost", "officer.ann", "officer");
  const auto revoked = server.enroll("tablet-old", "officer.ben", "officer");
  REQUIRE(server.admin({"revoke", "--device", "tablet-lost", "--wipe"}).exit_code == 0);
  REQUIRE(server.admin({"revoke", "--device", "tablet-old"}).exit_code == 0);
  const auto upgrade = [&](const std::string& token) {
    return test_support::http_request(server.port(), "GET", "/v1/sync",
                                      {{"Authorization", "Bearer " + token}, {"Upgrade", "websocket"},
                                       {"Connection", "Upgrade"}, {"Sec-WebSocket-Version", "13"},
                                       {"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="}});
  };
  const auto gone = upgrade(lost);
  CHECK(gone.status == 410);
  CHECK(gone.body == R"({"code":"wipe","message":"This device was revoked and must erase its data."})");
  CHECK(upgrade(lost).status == 410);  // at every attempt
  const auto refused = upgrade(revoked);
  CHECK(refused.status == 401);
  CHECK(refused.body.find("wipe") == std::string::npos);
  // Enrolled again: the order is lifted with the new token, and the old one is unknown.
  const auto fresh = server.enroll("tablet-lost", "officer.ann", "officer");
  test_support::WsTestClient client;
  CHECK(client.connect(server.port(), fresh).ok);
  CHECK(upgrade(lost).status == 401);
}

// Why: issue 14 §2: the whole path with the real binaries — an officer's encrypted tablet syncs
// a visit, a coordinator revokes it and orders it wiped with the server's command, and the
// tablet's next sync erases everything: no file of its folder holds an address, a note or the
// token, before the wipe (encrypted) or after it (gone).
TEST_CASE("revoke and wipe erases an encrypted tablet at its next sync, leaving no address, note or token",
          "[e2e][field-client][wipe]") {
  ServerProcess server;
  test_support::TempDir files;
  start_with_register(server, files);
  const test_support::TempDir tablet("safer-tablet");
  const std::string pin_file = files.file("pin");
  std::ofstream(pin_file) << "4938172\n";
  const std::string token = server.enroll("tablet-ann", "officer.ann", "officer");
  const auto fc = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {FIELD_CLIENT_BINARY, "--store", tablet.file("store.db"), "--pin-file", pin_file});
    auto result = test_support::run_process(args);
    REQUIRE_FALSE(result.timed_out);
    return result;
  };
  REQUIRE(fc({"enroll", "--server", server.url(), "--token", token, "--device", "tablet-ann"}).exit_code == 0);
  REQUIRE(fc({"sync"}).exit_code == 0);
  const std::string note = "Fictional note: the spare key is under the blue pot";
  REQUIRE(fc({"visit", "record", "--household", kAnnsFirst, "--status", "completed", "--notes", note}).exit_code == 0);
  REQUIRE(fc({"sync"}).exit_code == 0);
  const auto secrets = {std::string("1 Imaginary Road"), std::string("WD6 1AA"), note, token};
  for (const auto& secret : secrets) CHECK(test_support::files_containing(tablet.path(), secret).empty());
  CHECK_FALSE(test_support::file_names_in(tablet.path()).empty());

  REQUIRE(server.admin({"revoke", "--device", "tablet-ann", "--wipe"}).exit_code == 0);
  const auto wiped = fc({"sync"});
  CHECK(wiped.exit_code == 4);
  CHECK(wiped.err.find("coordinator ordered this tablet wiped") != std::string::npos);
  CHECK(test_support::file_names_in(tablet.path()).empty());
  for (const auto& secret : secrets) CHECK(test_support::files_containing(tablet.path(), secret).empty());
  // The server kept what was synced, and the audit trail holds the order.
  const auto audit = test_support::run_process({test_support::sync_server_binary(), "audit", "list", "--db",
                                                server.db_path(), "--action", "revoke_and_wipe"});
  INFO(audit.err);
  CHECK(audit.out.find("tablet-ann") != std::string::npos);
}

// Why: issue 14 §3: once a deletion's tombstone is compacted away, a tablet that still holds
// the record must not keep it for ever; the horizon refuses its old cursor (cursor_invalid),
// and the full pull that follows drops what the server no longer has.
TEST_CASE("a tablet that held a record whose tombstone was compacted drops it", "[e2e][field-client][retention]") {
  ServerProcess server({"--purge-interval", "0"});
  test_support::TempDir files;
  start_with_register(server, files);
  const Tablet ann1(server, "tablet-ann-1", "officer.ann", "officer");
  const Tablet ann2(server, "tablet-ann-2", "officer.ann", "officer");
  ann1.sync();
  const auto visit = ann1.id_of({"visit", "record", "--household", kAnnsFirst, "--status", "no_answer"});
  const auto kept = ann1.id_of({"visit", "record", "--household", kAnnsSecond, "--status", "no_answer"});
  ann1.sync();
  ann2.sync();
  REQUIRE(ann2.ids("visits") == std::set<std::string>{visit, kept});

  ann1.ok({"visit", "delete", visit});
  ann1.sync();
  REQUIRE(server.admin({"retention", "--tombstones", "0d"}).exit_code == 0);
  const auto dry = server.admin({"purge", "--dry-run"});
  REQUIRE(dry.exit_code == 0);
  CHECK(dry.out.find("tombstones_compacted=1 ") != std::string::npos);
  const auto purged = server.admin({"purge"});
  INFO(purged.err);
  REQUIRE(purged.exit_code == 0);
  CHECK(purged.out.find("tombstones_compacted=1 ") != std::string::npos);

  ann2.sync();
  CHECK(ann2.ids("visits") == std::set<std::string>{kept});
  ann1.sync();
  CHECK(ann1.ids("visits") == std::set<std::string>{kept});
}

// Why: `serve` must apply the policy by itself (issue 14 §3), leaving its audit entry.
TEST_CASE("serve runs the retention purge on its interval", "[e2e][retention]") {
  ServerProcess server({"--purge-interval", "0.2"});
  server.start();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  while (server.log().find("retention_purge visits_erased=") == std::string::npos &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  REQUIRE(server.log().find("retention_purge visits_erased=0 ") != std::string::npos);
  const auto entries = server.admin({"audit", "list", "--action", "retention_purge"});
  REQUIRE(entries.exit_code == 0);
  CHECK(entries.out.find("sync-server (serve, local) retention_purge ok") != std::string::npos);
  CHECK(server.stop() == 0);
}

// Why: the policy's audit age is a floor for `audit purge --before` (issue 14 §4).
TEST_CASE("audit purge refuses a date younger than the policy allows", "[e2e][retention][audit]") {
  ServerProcess server({"--purge-interval", "0"});
  server.start();
  const auto refused = server.admin({"audit", "purge", "--before", "2999-01-01"});
  CHECK(refused.exit_code == 2);
  CHECK(refused.err.find("keeps audit entries for 6y: --before must be no later than") != std::string::npos);
  CHECK(server.admin({"audit", "purge", "--before", "2001-01-01"}).exit_code == 0);
  const auto bad = server.admin({"retention", "--notes", "7y"});
  CHECK(bad.exit_code == 2);
  CHECK(bad.err.find("notes (7y) must not be kept longer than visits (6y)") != std::string::npos);
  const auto typo = server.admin({"retention", "--visits", "6y notes=1y"});
  CHECK(typo.exit_code == 2);
  CHECK(typo.err.find("--visits must be a number of days or years") != std::string::npos);
  const auto shown = server.admin({"retention"});
  CHECK(shown.out == "visits=6y notes=3y commute_sessions=6y tombstones=90d audit=6y\n");
}

// Why: the earlier years' figures come from the partnership's spreadsheets by the host's command
// too (docs/server.md "Earlier years"): a bad file changes nothing and names its line, a good one
// replaces the baseline, and the command prints what is loaded in the form it reads.
TEST_CASE("sync-server baseline loads a CSV whole, refuses a bad one by line, and prints it", "[e2e][baseline]") {
  ServerProcess server;
  server.start();
  test_support::TempDir files;
  const std::string header = "financial_year,households_visited,visits,smoke_detectors_fitted,cards_distributed\n";
  const std::string good = files.file("earlier.csv"), bad = files.file("bad.csv");
  std::ofstream(good) << header << "2011/12,310,420,95,0\n2012,350,480,120,400\n";
  std::ofstream(bad) << header << "2013,1,1,1,1\n2014,1,1,1\n";

  const auto refused = server.admin({"baseline", bad});
  CHECK(refused.exit_code == 2);
  CHECK(refused.err.find("nothing was loaded; 1 problem(s):\nline 3: expected 5 cells") != std::string::npos);
  CHECK(server.admin({"baseline"}).out == header);

  const auto loaded = server.admin({"baseline", good});
  INFO(loaded.err);
  REQUIRE(loaded.exit_code == 0);
  CHECK(loaded.out.find("Loaded 2 earlier years") != std::string::npos);
  CHECK(server.admin({"baseline"}).out == header + "2011/12,310,420,95,0\n2012/13,350,480,120,400\n");
  const auto missing = server.admin({"baseline", files.file("none.csv")});
  CHECK(missing.exit_code == 2);
  const auto entries = server.admin({"audit", "list", "--action", "baseline_load"});
  CHECK(entries.out.find("baseline_load ok") != std::string::npos);
}

namespace {

// A register of `count` fictional target households assigned to officer.ann, for import-households.
void write_register(const std::string& path, int count) {
  std::ofstream csv(path);
  csv << "id,address,postcode,ward,target,assigned_to\n";
  for (int n = 0; n < count; ++n) csv << "," << n << " Imaginary Road,WD6 1AA,Borehamwood Hillside,1,officer.ann\n";
}

}  // namespace

TEST_CASE("a long first sync prints its progress: records, page and the server's estimate", "[e2e][field-client][pull_progress]") {
  ServerProcess server;
  server.start();
  test_support::TempDir files;
  const std::string path = files.file("many.csv");
  write_register(path, 1200);
  std::ofstream(path, std::ios::app) << ",1 Elsewhere Road,WD6 1AA,Borehamwood Hillside,1,officer.ben\n";  // not Ann's
  REQUIRE(server.admin({"import-households", path}).exit_code == 0);
  const Tablet ann(server, "tablet-ann", "officer.ann", "officer");
  const auto result = ann.run({"sync"});
  INFO(result.err);
  REQUIRE(result.exit_code == 0);
  // Pages of 500: the first progress line comes after the second page, whatever the timing.
  CHECK_THAT(result.err, Catch::Contains("  received 1000 changes (page 2, about 200 more)\n"));
  CHECK_THAT(result.out, Catch::Contains("1200 received"));
  // --json prints no progress.
  const Tablet again(server, "tablet-ann-2", "officer.ann", "officer");
  CHECK_THAT(again.run({"--json", "sync"}).err, !Catch::Contains("received"));
}

// Why: a first pull stores its pages several at a time (B2); a connection lost part way must
// still keep every page that arrived before it, and the next sync carries on from there.
TEST_CASE("a pull cut part way keeps the pages it received, and the next sync carries on", "[e2e][field-client][faults]") {
  ServerProcess server;
  server.start();
  test_support::TempDir files;
  const std::string path = files.file("register.csv");
  write_register(path, 1700);
  REQUIRE(server.admin({"import-households", path}).exit_code == 0);
  const Tablet ann(server, "tablet-ann", "officer.ann", "officer");
  test_support::TcpProxy proxy(server.port());
  ann.ok({"enroll", "--server", proxy.url(), "--token", ann.token(), "--device", "tablet-ann"});

  // Replies: 1 the upgrade, 2 the welcome, 3 and 4 the first two pages of 500; the third is cut.
  proxy.arm_cut_at_server_reply(5);
  const auto cut = ann.run({"sync"});
  REQUIRE(proxy.reply_cuts() == 1);
  CHECK(cut.exit_code != 0);
  CHECK(ann.ids("households").size() == 1000);

  const auto resumed = ann.run({"sync"});
  INFO(resumed.err);
  REQUIRE(resumed.exit_code == 0);
  CHECK_THAT(resumed.out, Catch::Contains("700 received"));
  CHECK(ann.ids("households").size() == 1700);
}
