// protocol.md §3 and §5 "who may write what" over the wire, against the real sync-server: each
// rule of the permission table with an allowed and a forbidden case.
#include "contract_support.h"

#include <catch2/catch.hpp>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace {

using namespace contract_test;

std::string household(const std::string& address, const std::string& extra = "") {
  return R"({"address":")" + address + R"(","postcode":"WD6 1WA","ward":"Elstree")" + extra + "}";
}

std::string visit(int household_n, const std::string& status = "completed") {
  return R"({"household_id":")" + uuid(household_n) + R"(","visited_at":"2026-11-20T10:00:00Z","status":")" + status + "\"}";
}

std::string commute(int cards) {
  return R"({"station":"Potters Bar","started_at":"2026-11-20T07:00:00Z","cards_distributed":)" + std::to_string(cards) + "}";
}

// One device's session; write() pushes one change with the device's next seq and returns the
// rejection's code and field ("" and "" when applied).
struct Device {
  std::unique_ptr<WsTestClient> client;
  std::int64_t seq = 0;
  std::string last_message;  // of the last rejection

  Device(const ServerProcess& server, const std::string& device, const std::string& user, const std::string& role)
      : client(join(server, device, server.enroll(device, user, role))) {}

  std::pair<std::string, std::string> write(const std::string& entity, const std::string& op, int n,
                                            const std::string& data = "") {
    ++seq;
    const auto ack = parse(client->request(
        R"({"type":"push","changes":[{"seq":)" + std::to_string(seq) + R"(,"entity":")" + entity + R"(","op":")" + op +
        R"(","id":")" + uuid(n) + R"(","hlc":")" + next_hlc() + '"' + (data.empty() ? "" : R"(,"data":)" + data) + "}]}"));
    REQUIRE(str(ack, "type") == "ack");
    REQUIRE(num(ack, "acked_seq") == seq);
    if (ack["rejected"].Empty()) return {"", ""};
    const auto& rejected = ack["rejected"][0];
    last_message = str(rejected, "message");
    if (rejected.HasMember("field")) CHECK(str(rejected, "message").find(str(rejected, "field")) != std::string::npos);
    return {str(rejected, "code"), rejected.HasMember("field") ? str(rejected, "field") : ""};
  }

  // The data of record `n` in a pull from "", as an object ("<absent>" fields when not received).
  rapidjson::Document pulled(int n) {
    const auto page = parse(client->request(R"({"type":"pull","cursor":"","limit":1000})"));
    rapidjson::Document out;
    out.SetObject();
    for (const auto& item : page["changes"].GetArray()) {
      if (str(item, "id") == uuid(n) && item.HasMember("data")) out.CopyFrom(item["data"], out.GetAllocator());
    }
    return out;
  }
};

const std::pair<std::string, std::string> kApplied{"", ""};
const std::pair<std::string, std::string> kForbidden{"forbidden", ""};

// Households 1 (assigned to Ann) and 2 (assigned to Bob), made by the coordinator.
struct Team {
  ServerProcess server;
  std::optional<Device> cat, ann, bob, pat;
  Team() {
    server.start();
    cat.emplace(server, "tab-cat-1", "coord.cat", "coordinator");
    ann.emplace(server, "tab-ann-1", "officer.ann", "officer");
    bob.emplace(server, "tab-bob-1", "officer.bob", "officer");
    pat.emplace(server, "tab-pat-1", "pcso.pat", "pcso");
    REQUIRE(cat->write("household", "upsert", 1, household("1 Example Road", R"(,"assigned_to":"officer.ann")")) == kApplied);
    REQUIRE(cat->write("household", "upsert", 2, household("2 Example Road", R"(,"assigned_to":"officer.bob")")) == kApplied);
  }
};

}  // namespace

TEST_CASE("an officer writes their own visits to households in scope and nobody else's", "[e2e][contract][permissions]") {
  // protocol.md §5: visits are per user, and only for households the officer is responsible for.
  Team team;
  CHECK(team.bob->write("visit", "upsert", 20, visit(2)) == kApplied);
  CHECK(team.ann->write("visit", "upsert", 10, visit(1)) == kApplied);
  CHECK(team.ann->write("visit", "upsert", 10, visit(1, "declined")) == kApplied);  // update own

  CHECK(team.ann->write("visit", "upsert", 20, visit(2, "declined")).first == "forbidden");  // Bob's visit
  CHECK(team.ann->last_message.find(uuid(20)) != std::string::npos);  // names the record (protocol.md §9.5)
  CHECK(team.ann->write("visit", "delete", 20).first == "forbidden");
  CHECK(team.ann->write("visit", "upsert", 11, visit(2)).first == "forbidden");  // Bob's household
  CHECK(team.ann->last_message.find(uuid(2)) != std::string::npos);
  CHECK(str(team.bob->pulled(20), "status") == "completed");  // unchanged by Ann's attempts

  CHECK(team.ann->write("visit", "delete", 10) == kApplied);  // delete own
}

TEST_CASE("ownership is per user, so an officer's second tablet may edit the first one's visit", "[e2e][contract][permissions]") {
  // protocol.md §5.7: a visit belongs to the user whose device created it, not to the device.
  Team team;
  Device ann_spare(team.server, "tab-ann-2", "officer.ann", "officer");
  CHECK(team.ann->write("visit", "upsert", 10, visit(1)) == kApplied);
  CHECK(ann_spare.write("visit", "upsert", 10, visit(1, "rescheduled")) == kApplied);
  CHECK(str(team.ann->pulled(10), "status") == "rescheduled");
}

TEST_CASE("an officer may not set target or assigned_to, nor delete a household", "[e2e][contract][permissions]") {
  // protocol.md §5 and §9: the target list and assignments belong to coordinators.
  Team team;
  CHECK(team.ann->write("household", "upsert", 1, household("1 Example Road", R"(,"target":true)")) ==
        std::pair<std::string, std::string>{"forbidden", "target"});
  CHECK(team.ann->write("household", "upsert", 1, household("1 Example Road", R"(,"assigned_to":"officer.bob")")) ==
        std::pair<std::string, std::string>{"forbidden", "assigned_to"});
  CHECK(team.ann->write("household", "upsert", 1, household("1 Example Road", R"(,"assigned_to":null)")).first == "forbidden");
  CHECK(team.ann->write("household", "upsert", 3, household("3 New Road", R"(,"target":true)")) ==
        std::pair<std::string, std::string>{"forbidden", "target"});
  CHECK(team.ann->write("household", "delete", 1).first == "forbidden");
  CHECK(str(team.cat->pulled(1), "address") == "1 Example Road");  // still there, still Ann's

  // Allowed: the same values as now, or the fields left out ("unchanged").
  CHECK(team.ann->write("household", "upsert", 1,
                        household("1a Example Road", R"(,"target":false,"assigned_to":"officer.ann")")) == kApplied);
  CHECK(team.ann->write("household", "upsert", 1, household("1b Example Road")) == kApplied);
  const auto after = team.cat->pulled(1);
  CHECK(str(after, "address") == "1b Example Road");
  CHECK(str(after, "assigned_to") == "officer.ann");  // left out means unchanged, not null
  CHECK(team.ann->write("household", "upsert", 3, household("3 New Road")) == kApplied);  // found in the field
}

TEST_CASE("an officer may not edit a household out of scope", "[e2e][contract][permissions]") {
  // protocol.md §5: an officer updates only households assigned to or created by their user.
  Team team;
  CHECK(team.ann->write("household", "upsert", 2, household("2 Renamed Road")).first == "forbidden");
  CHECK(str(team.bob->pulled(2), "address") == "2 Example Road");
  CHECK(team.bob->write("household", "upsert", 2, household("2 Renamed Road")) == kApplied);
}

TEST_CASE("a pcso creates, updates and deletes their own commute sessions and no one else's", "[e2e][contract][permissions]") {
  // protocol.md §5: commute sessions belong to the user who recorded them.
  Team team;
  CHECK(team.pat->write("commute_session", "upsert", 30, commute(40)) == kApplied);
  CHECK(team.pat->write("commute_session", "upsert", 30, commute(55)) == kApplied);
  CHECK(num(team.pat->pulled(30), "cards_distributed") == 55);
  CHECK(team.ann->write("commute_session", "upsert", 30, commute(0)).first == "forbidden");
  CHECK(team.ann->write("commute_session", "delete", 30).first == "forbidden");
  CHECK(num(team.pat->pulled(30), "cards_distributed") == 55);
  CHECK(team.pat->write("commute_session", "delete", 30) == kApplied);
  CHECK(team.pat->write("visit", "upsert", 31, visit(1)).first == "forbidden");  // household 1 is Ann's
}

TEST_CASE("a coordinator may do everything", "[e2e][contract][permissions]") {
  // protocol.md §5: coordinators manage the register and correct anyone's records.
  Team team;
  REQUIRE(team.bob->write("visit", "upsert", 20, visit(2)) == kApplied);
  REQUIRE(team.pat->write("commute_session", "upsert", 30, commute(40)) == kApplied);
  CHECK(team.cat->write("visit", "upsert", 20, visit(2, "declined")) == kApplied);
  CHECK(team.cat->write("commute_session", "upsert", 30, commute(41)) == kApplied);
  CHECK(team.cat->write("household", "upsert", 2,
                        household("2 Example Road", R"(,"target":true,"assigned_to":"officer.ann")")) == kApplied);
  CHECK(team.cat->write("visit", "upsert", 21, visit(1)) == kApplied);
  CHECK(team.cat->write("visit", "delete", 20) == kApplied);
  CHECK(team.cat->write("commute_session", "delete", 30) == kApplied);
  CHECK(team.cat->write("household", "delete", 2) == kApplied);
  CHECK(team.cat->write("household", "upsert", 5, household("5 Example Road", R"(,"target":true)")) == kApplied);
  const auto five = team.cat->pulled(5);
  CHECK(five["target"].IsBool());
  CHECK(five["target"].GetBool());
}
