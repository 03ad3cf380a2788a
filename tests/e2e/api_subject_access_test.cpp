// Subject access exports end to end (docs/api.md "Subject access", docs/server.md): from the
// dashboard's API and from `sync-server subject-access`, against the real server; who may ask,
// what a refusal says, the file the CLI writes, and what the audit trail and the log keep.
#include "api_support.h"

#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "temp_dir.h"

namespace {

using namespace api_test;

const std::string kAddress = "23 Thimbleweed Court";  // fictional
const std::string kNote = "Dog is friendly, \"ring twice\"";

// A server with a dashboard account, and household 1 with a visit recorded by Ann.
struct Borough {
  ServerProcess server;
  std::unique_ptr<Device> officer;
  WebSession session;

  Borough() {
    server.start();
    add_coordinator(server);
    officer = std::make_unique<Device>(server, "tablet-ann", "officer.ann", "officer");
    officer->write("household", 1, household(kAddress, "Elstree", false));
    officer->write("visit", 2, visit(1, "2026-11-20T10:00:00.000Z", "completed", R"(,"notes":)" + json_string(kNote)));
    session = log_in(server);
  }

  HttpReply get(const std::string& target, const Headers& headers) { return call(server, "GET", target, headers); }
  HttpReply get(const std::string& target) { return get(target, with_cookie(session, "")); }
};

std::string path_of(const std::string& id, const char* format) {
  return "/api/v1/households/" + id + "/subject-access." + format;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

TEST_CASE("a coordinator downloads a household's subject access export as JSON and CSV from the dashboard",
          "[e2e][api][subject_access]") {
  Borough borough;
  const auto as_json = borough.get(path_of(uuid(1), "json"));
  INFO(as_json.status << " " << as_json.body);
  REQUIRE(as_json.status == 200);
  CHECK(as_json.header("content-type") == "application/json");
  CHECK(as_json.header("content-disposition") == "attachment; filename=\"subject-access-" + uuid(1) + ".json\"");
  CHECK(as_json.header("cache-control") == "no-store");
  const auto document = parse(as_json.body);
  CHECK(str(document["household"]["data"], "address") == kAddress);
  REQUIRE(document["visits"].Size() == 1);
  CHECK(str(document["visits"][0]["data"], "notes") == kNote);

  const auto as_csv = borough.get(path_of(uuid(1), "csv"));
  REQUIRE(as_csv.status == 200);
  CHECK(as_csv.header("content-type") == "text/csv; charset=utf-8");
  CHECK(as_csv.body.rfind("section,id,time,", 0) == 0);
  CHECK(as_csv.body.find("\"Dog is friendly, \"\"ring twice\"\"\"") != std::string::npos);

  // Both audited: who, which household, the format and the row count; neither the address
  // nor the note in the audit trail or the log.
  const auto trail = call(borough.server, "GET", "/api/v1/audit?action=subject_access", with_cookie(borough.session, ""));
  REQUIRE(trail.status == 200);
  const auto entries = parse(trail.body);
  REQUIRE(entries["entries"].Size() == 2);
  const auto& newest = entries["entries"][0];
  CHECK(str(newest, "actor") == "cat");
  CHECK(str(newest, "via") == "dashboard");
  CHECK(str(newest, "household") == uuid(1));
  CHECK(str(newest, "kind") == "csv");
  // The household, its visit and, in its history by then, the JSON export before it.
  CHECK(str(newest, "detail") == "format=csv rows=3");
  CHECK(str(entries["entries"][1], "kind") == "json");
  CHECK(str(entries["entries"][1], "detail") == "format=json rows=2");
  CHECK(as_csv.body.find("subject_access") != std::string::npos);
  for (const auto& text : {trail.body, borough.server.log()}) {
    CHECK(text.find("Thimbleweed") == std::string::npos);
    CHECK(text.find("ring twice") == std::string::npos);
  }
}

TEST_CASE("subject access is refused to devices, to the unknown and for malformed or unknown ids",
          "[e2e][api][subject_access]") {
  Borough borough;
  SECTION("an officer's token") {
    const auto reply = borough.get(path_of(uuid(1), "json"), bearer(borough.officer->token));
    CHECK(reply.status == 403);
    CHECK(reply.body.find("Thimbleweed") == std::string::npos);
  }
  SECTION("a coordinator's device token: people only, through a dashboard login") {
    const auto token = borough.server.enroll("tablet-cat", "coord.cat", "coordinator");
    const auto reply = borough.get(path_of(uuid(1), "csv"), bearer(token));
    CHECK(reply.status == 403);
    CHECK(reply.body.find("dashboard login") != std::string::npos);
  }
  SECTION("no login") { CHECK(borough.get(path_of(uuid(1), "json"), {}).status == 401); }
  SECTION("a malformed id names what was wrong") {
    const auto reply = borough.get(path_of("not-a-uuid", "json"));
    CHECK(reply.status == 400);
    CHECK(reply.body.find("UUID") != std::string::npos);
  }
  SECTION("an id the server never held") {
    const auto reply = borough.get(path_of(uuid(77), "csv"));
    CHECK(reply.status == 404);
    CHECK(reply.body.find(uuid(77)) != std::string::npos);
  }
}

TEST_CASE("sync-server subject-access writes the export whole to a private file, and is audited",
          "[e2e][cli][subject_access]") {
  Borough borough;
  test_support::TempDir out_dir;
  const auto out = out_dir.file("household.csv");
  const auto exported = borough.server.admin({"subject-access", "--household", uuid(1), "--format", "csv", "--out", out});
  INFO(exported.out << exported.err);
  REQUIRE(exported.exit_code == 0);
  CHECK(exported.out.empty());
  CHECK(exported.err.find("Exported 2 rows") != std::string::npos);
  struct stat info {};
  REQUIRE(::stat(out.c_str(), &info) == 0);
  CHECK((info.st_mode & 0777) == 0600);
  const auto text = read_file(out);
  CHECK(text.find(kAddress) != std::string::npos);
  CHECK(text.find("ring twice") != std::string::npos);
  CHECK(std::distance(std::filesystem::directory_iterator(out_dir.path()), {}) == 1);  // no temporary left

  SECTION("JSON to standard output by default") {
    const auto printed = borough.server.admin({"subject-access", "--household", uuid(1)});
    REQUIRE(printed.exit_code == 0);
    CHECK(str(parse(printed.out)["household"]["data"], "address") == kAddress);
  }
  SECTION("a file that cannot be written fails with its path, and writes nothing") {
    const auto missing = out_dir.file("no-such-folder/household.csv");
    const auto failed = borough.server.admin({"subject-access", "--household", uuid(1), "--out", missing});
    CHECK(failed.exit_code == 2);
    CHECK(failed.err.find(missing) != std::string::npos);
    CHECK_FALSE(std::filesystem::exists(out_dir.file("no-such-folder")));
  }
  SECTION("an unknown household, or a bad format, is a clear refusal") {
    const auto unknown = borough.server.admin({"subject-access", "--household", uuid(78)});
    CHECK(unknown.exit_code == 1);
    CHECK(unknown.err.find("no household " + uuid(78)) != std::string::npos);
    const auto format = borough.server.admin({"subject-access", "--household", uuid(1), "--format", "xlsx"});
    CHECK(format.exit_code == 2);
    CHECK(format.err.find("--format") != std::string::npos);
  }
  const auto listed = test_support::run_process({test_support::sync_server_binary(), "audit", "list", "--db",
                                                 borough.server.db_path(), "--action", "subject_access"});
  REQUIRE(listed.exit_code == 0);
  CHECK(listed.out.find("subject_access ok household=" + uuid(1) + " kind=csv [format=csv rows=2]") != std::string::npos);
  CHECK(listed.out.find("(cli, local)") != std::string::npos);
}
