// The visit form's questions end to end (protocol.md §5.8): configured with `sync-server
// questions`, sent in welcome, answered in a push checked by the server, kept through a
// protocol-1 client's edit, and counted in the statistics.
#include <catch2/catch.hpp>

#include <cereal/archives/json.hpp>  // RapidJSON, configured as cereal configures it

#include <fstream>

#include "server_process.h"
#include "ws_test_client.h"

namespace {

std::string write_file(const test_support::TempDir& dir, const std::string& name, const std::string& text) {
  const std::string path = dir.file(name);
  std::ofstream(path) << text;
  return path;
}

const std::string kExtras =
    R"([{"id":"feels_safe","kind":"scale","label":"How safe does the resident feel at home?"},)"
    R"({"id":"satisfaction","kind":"scale","label":"How satisfied was the resident with the visit?"},)"
    R"({"id":"feedback","kind":"text","label":"Resident's feedback","withdrawn":true},)"
    R"({"id":"owl_signup","kind":"yes_no","label":"OWL sign-up"}])";

std::string visit_change(int seq, const std::string& id, const std::string& hlc, const std::string& extra) {
  return R"({"seq":)" + std::to_string(seq) + R"(,"entity":"visit","op":"upsert","id":")" + id + R"(","hlc":")" + hlc +
         R"(","data":{"household_id":"0192f5e4-0000-7000-8000-000000000001","visited_at":"2026-11-20T10:00:00Z",)"
         R"("status":"completed")" + extra + "}}";
}

}  // namespace

TEST_CASE("sync-server questions refuses a bad file naming the entry, and changes nothing", "[e2e][questions]") {
  test_support::TempDir dir;
  test_support::ServerProcess server;
  const auto shown = server.admin({"questions"});
  REQUIRE(shown.exit_code == 0);
  CHECK(shown.out.find(R"({"id":"feels_safe","kind":"scale")") != std::string::npos);

  const auto not_json = server.admin({"questions", "--file", write_file(dir, "bad.json", "[{")});
  CHECK(not_json.exit_code == 2);
  CHECK(not_json.err.find("not valid JSON") != std::string::npos);
  const auto bad_kind = server.admin(
      {"questions", "--file", write_file(dir, "kind.json", R"([{"id":"x","kind":"stars","label":"X"}])")});
  CHECK(bad_kind.exit_code == 2);
  CHECK(bad_kind.err.find("questions[0].kind must be one of scale, text, yes_no or referral") != std::string::npos);
  const auto dropped = server.admin(
      {"questions", "--file", write_file(dir, "drop.json", R"([{"id":"feels_safe","kind":"scale","label":"X"}])")});
  CHECK(dropped.exit_code == 2);
  CHECK(dropped.err.find("\"satisfaction\"") != std::string::npos);
  CHECK(server.admin({"questions"}).out == shown.out);  // nothing half-written

  const auto saved = server.admin({"questions", "--file", write_file(dir, "good.json", kExtras)});
  INFO(saved.err);
  REQUIRE(saved.exit_code == 0);
  CHECK(saved.out.find(R"("id":"owl_signup")") != std::string::npos);
  CHECK(server.admin({"questions"}).out == saved.out);
}

TEST_CASE("welcome carries the questions - answers are pushed, kept and counted", "[e2e][questions]") {
  test_support::TempDir dir;
  test_support::ServerProcess server;
  REQUIRE(server.admin({"questions", "--file", write_file(dir, "questions.json", kExtras)}).exit_code == 0);
  server.start();
  const auto token = server.enroll("coordinator-desk", "coord.cat", "coordinator");
  test_support::WsTestClient current;
  REQUIRE(current.connect(server.port(), token).ok);
  const auto welcome = current.request(
      R"({"type":"hello","protocol":1,"device_id":"coordinator-desk","capabilities":["share_basis","questions"]})");
  REQUIRE(welcome);
  CHECK(welcome->find(R"("questions":[{"id":"feels_safe","kind":"scale")") != std::string::npos);
  CHECK(welcome->find(R"({"id":"feedback","kind":"text","label":"Resident's feedback","withdrawn":true})") !=
        std::string::npos);
  CHECK(welcome->find(R"("capabilities":["evict","share_basis","work_dates","questions","pull_progress"])") != std::string::npos);

  const auto ack = current.request(
      R"({"type":"push","changes":[)"
      R"({"seq":1,"entity":"household","op":"upsert","id":"0192f5e4-0000-7000-8000-000000000001","hlc":"001764149400000-00000",)"
      R"("data":{"address":"1 Example Road","postcode":"WD6 1AA","ward":"Elstree"}},)" +
      visit_change(2, "0192f5e4-0000-7000-8000-000000000011", "001764149400000-00001",
                   R"(,"answers":{"feels_safe":4,"feedback":"Fictional thanks","owl_signup":true})") + "," +
      visit_change(3, "0192f5e4-0000-7000-8000-000000000012", "001764149400000-00002",
                   R"(,"answers":{"feels_safe":6})") + "," +
      visit_change(4, "0192f5e4-0000-7000-8000-000000000013", "001764149400000-00003",
                   R"(,"answers":{"age_uk":true})") + "]}");
  REQUIRE(ack);
  INFO(*ack);
  CHECK(ack->find(R"({"seq":3,"code":"invalid","message":"answers.feels_safe must be an integer from 1 to 5","field":"answers.feels_safe"})") !=
        std::string::npos);
  CHECK(ack->find(R"("field":"answers.age_uk")") != std::string::npos);
  CHECK(ack->find(R"("seq":2,)") == std::string::npos);

  // A protocol-1 client edits the visit without knowing of answers: they are kept.
  const auto old_token = server.enroll("old-desk", "coord.old", "coordinator");
  test_support::WsTestClient older;
  REQUIRE(older.connect(server.port(), old_token).ok);
  REQUIRE(older.request(R"({"type":"hello","protocol":1,"device_id":"old-desk"})"));
  const auto edited = older.request(R"({"type":"push","changes":[)" +
                                    visit_change(1, "0192f5e4-0000-7000-8000-000000000011", "001764149400001-00000",
                                                 R"(,"notes":"Edited on an old tablet")") + "]}");
  REQUIRE(edited);
  CHECK(edited->find(R"("rejected":[])") != std::string::npos);
  const auto page = older.request(R"({"type":"pull","cursor":"","limit":100})");
  REQUIRE(page);
  CHECK(page->find(R"("notes":"Edited on an old tablet","answers":{"feedback":"Fictional thanks","feels_safe":4,"owl_signup":true})") !=
        std::string::npos);

  const auto stats = test_support::http_get(server.port(), "/api/v1/stats", token);
  INFO(stats.body);
  CHECK(stats.body.find(R"("feels_safe":{"kind":"scale","label":"How safe does the resident feel at home?","answered":1,)"
                        R"("counts":{"1":0,"2":0,"3":0,"4":1,"5":0},"mean":4.0,"by_ward":{"Elstree":{"answered":1,)") !=
        std::string::npos);
  CHECK(stats.body.find(R"("owl_signup":{"kind":"yes_no","label":"OWL sign-up","answered":1,)") != std::string::npos);
  CHECK(stats.body.find(R"("feedback":{"kind":"text","label":"Resident's feedback","answered":1,)") != std::string::npos);
  CHECK(server.stop() == 0);
}
