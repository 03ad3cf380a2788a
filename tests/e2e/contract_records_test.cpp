// protocol.md §5 (records) and §9 (clarifications) over the wire, against the real sync-server:
// every field rule rejects its violation with `invalid` naming the field, and accepts (and
// normalises) what protocol.md allows.
#include "contract_support.h"

#include <catch2/catch.hpp>

#include <map>
#include <string>
#include <vector>

namespace {

using namespace contract_test;
using test_support::http_get;

std::string repeat(const std::string& text, int times) {
  std::string out;
  for (int i = 0; i < times; ++i) out += text;
  return out;
}

const std::string kE = "\xC3\xA9";  // é: one code point, two bytes

// A household body with `fields` after the required ones; `required` replaces them.
std::string household(const std::string& fields = "", const std::string& required =
                          R"("address":"1 Example Road","postcode":"WD6 1WA","ward":"Elstree")") {
  return "{" + required + fields + "}";
}
std::string visit(const std::string& fields = "", const std::string& required =
                      R"("household_id":")" + uuid(1) + R"(","visited_at":"2026-11-20T10:00:00Z","status":"completed")") {
  return "{" + required + fields + "}";
}
std::string commute(const std::string& fields = "", const std::string& required =
                        R"("station":"Radlett","started_at":"2026-11-20T07:00:00Z","cards_distributed":40)") {
  return "{" + required + fields + "}";
}

struct Case {
  std::string entity;
  std::string data;       // "" for no data
  std::string field;      // the field named by the rejection; "" when the change must apply
  std::string op = "upsert";
  std::string id = "";    // "" for a fresh id
  std::string hlc = "";   // "" for now
};

// Pushes every case as one batch from a coordinator and checks each outcome. `capabilities`
// is what the hello announces, as the rest of a JSON array.
void check_cases(const std::vector<Case>& cases, const std::string& capabilities = "") {
  ServerProcess server;
  server.start();
  WsTestClient client;
  REQUIRE(client.connect(server.port(), server.enroll("tab-cat-1", "coord.cat", "coordinator")).ok);
  const auto welcome = parse(client.request(R"({"type":"hello","protocol":1,"device_id":"tab-cat-1","capabilities":[)" +
                                            capabilities + "]}"));
  REQUIRE(str(welcome, "type") == "welcome");
  std::string batch = R"({"type":"push","changes":[{"seq":1,"entity":"household","op":"upsert","id":")" + uuid(1) +
                      R"(","hlc":")" + hlc_now() + R"(","data":)" + household() + "}";
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const auto& c = cases[i];
    batch += R"(,{"seq":)" + std::to_string(i + 2) + R"(,"entity":")" + c.entity + R"(","op":")" + c.op +
             R"(","id":")" + (c.id.empty() ? uuid(static_cast<int>(100 + i)) : c.id) + R"(","hlc":")" +
             (c.hlc.empty() ? hlc_now() : c.hlc) + '"' + (c.data.empty() ? "" : R"(,"data":)" + c.data) + "}";
  }
  const auto ack = parse(client.request(batch + "]}"));
  REQUIRE(str(ack, "type") == "ack");
  CHECK(num(ack, "acked_seq") == static_cast<std::int64_t>(cases.size() + 1));
  std::map<std::int64_t, const rapidjson::Value*> rejected;
  for (const auto& item : ack["rejected"].GetArray()) rejected[*num(item, "seq")] = &item;
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const auto& c = cases[i];
    INFO(c.entity << " " << c.op << " " << c.data.substr(0, 160) << " id=" << c.id << " hlc=" << c.hlc);
    const auto found = rejected.find(static_cast<std::int64_t>(i + 2));
    if (c.field.empty()) {
      CHECK((found == rejected.end() ? std::string("applied") : str(*found->second, "message")) == "applied");
      continue;
    }
    REQUIRE(found != rejected.end());
    CHECK(str(*found->second, "code") == "invalid");
    CHECK(str(*found->second, "field") == c.field);
    CHECK(str(*found->second, "message").find(c.field) != std::string::npos);
  }
}

}  // namespace

TEST_CASE("household fields are checked as protocol.md section 5 says", "[e2e][contract][records]") {
  // protocol.md §5 and §9: the server validates exactly what the device validates offline.
  check_cases({
      {"household", household(R"(,"target":true,"vulnerability":["elderly","lives_alone"],"assigned_to":null)"), ""},
      {"household", household("", R"("address":")" + repeat(kE, 200) + R"(","postcode":"wd61wa","ward":"Shenley")"), ""},
      {"household", household("", R"("address":"","postcode":"WD6 1WA","ward":"Elstree")"), "address"},
      {"household", household("", R"("address":"   ","postcode":"WD6 1WA","ward":"Elstree")"), "address"},
      {"household", household("", R"("address":")" + repeat(kE, 201) + R"(","postcode":"WD6 1WA","ward":"Elstree")"), "address"},
      {"household", household("", R"("address":"1 Example Road","postcode":"WD6 1W","ward":"Elstree")"), "postcode"},
      {"household", household("", R"("address":"1 Example Road","postcode":"WD6 1WA","ward":"Atlantis")"), "ward"},
      {"household", household(R"(,"vulnerability":["rich"])"), "vulnerability"},
      {"household", household(R"(,"target":"yes")"), "target"},
      {"household", household("", R"("postcode":"WD6 1WA","ward":"Elstree")"), "address"},
      {"household", household("", R"("address":"1 Example Road","ward":"Elstree")"), "postcode"},
      {"household", household("", R"("address":"1 Example Road","postcode":"WD6 1WA")"), "ward"},
  });
}

TEST_CASE("visit fields are checked as protocol.md section 5 says", "[e2e][contract][records]") {
  // protocol.md §5: a visit's outcomes, counts and references are what the statistics are built on.
  const std::string outcomes =
      R"(,"crime_prevention_advice":true,"fire_safety_check":true,"healthy_lifestyle_advice":true,)"
      R"("community_involvement_info":true,"first_aid_training":true,"follow_up_required":true,"smoke_detectors_fitted":10)";
  check_cases({
      {"visit", visit(outcomes + R"(,"referrals":["fire_service","health"],"notes":")" + repeat(kE, 2000) + "\""), ""},
      {"visit", visit(R"(,"smoke_detectors_fitted":0,"referrals":["other"])", R"("household_id":")" + uuid(1) +
                      R"(","visited_at":"2026-11-20T10:00:00+01:00","status":"no_answer")"), ""},
      {"visit", visit("", R"("household_id":")" + uuid(99) + R"(","visited_at":"2026-11-20T10:00:00Z","status":"completed")"), "household_id"},
      {"visit", visit("", R"("household_id":")" + uuid(1) + R"(","visited_at":"yesterday","status":"completed")"), "visited_at"},
      {"visit", visit("", R"("household_id":")" + uuid(1) + R"(","visited_at":"2026-11-20T10:00:00Z","status":"maybe")"), "status"},
      {"visit", visit(R"(,"smoke_detectors_fitted":11)"), "smoke_detectors_fitted"},
      {"visit", visit(R"(,"smoke_detectors_fitted":-1)"), "smoke_detectors_fitted"},
      {"visit", visit(R"(,"smoke_detectors_fitted":"2")"), "smoke_detectors_fitted"},
      {"visit", visit(R"(,"fire_safety_check":"true")"), "fire_safety_check"},
      {"visit", visit(R"(,"referrals":["police"])"), "referrals"},
      {"visit", visit(R"(,"notes":")" + repeat(kE, 2001) + "\""), "notes"},
      {"visit", visit(R"(,"crime_prevention_advice":true)", R"("household_id":")" + uuid(1) +
                      R"(","visited_at":"2026-11-20T10:00:00Z","status":"no_answer")"), "crime_prevention_advice"},
      {"visit", visit(R"(,"smoke_detectors_fitted":1)", R"("household_id":")" + uuid(1) +
                      R"(","visited_at":"2026-11-20T10:00:00Z","status":"declined")"), "smoke_detectors_fitted"},
      {"visit", visit("", R"("visited_at":"2026-11-20T10:00:00Z","status":"completed")"), "household_id"},
      {"visit", visit("", R"("household_id":")" + uuid(1) + R"(","status":"completed")"), "visited_at"},
      {"visit", visit("", R"("household_id":")" + uuid(1) + R"(","visited_at":"2026-11-20T10:00:00Z")"), "status"},
      // share_basis (§5.2): optional to a client that did not announce it, and then dropped
      // when there is no referral; always one of its three values.
      {"visit", visit(R"(,"referrals":["health"],"share_basis":"vital_interests")"), ""},
      {"visit", visit(R"(,"referrals":["health"])"), ""},
      {"visit", visit(R"(,"share_basis":"consent")"), ""},
      {"visit", visit(R"(,"referrals":["health"],"share_basis":"Consent")"), "share_basis"},
      {"visit", visit(R"(,"referrals":["health"],"share_basis":null)"), "share_basis"},
      // follow_up_due and rescheduled_for (§5.2) likewise: optional, dropped without their
      // condition, and real dates in their forms when given.
      {"visit", visit(R"(,"follow_up_required":true)"), ""},
      {"visit", visit(R"(,"follow_up_required":true,"follow_up_due":"2026-12-18")"), ""},
      {"visit", visit(R"(,"follow_up_due":"2026-12-18")"), ""},
      {"visit", visit(R"(,"follow_up_required":true,"follow_up_due":"2026-02-29")"), "follow_up_due"},
      {"visit", visit(R"(,"follow_up_required":true,"follow_up_due":null)"), "follow_up_due"},
      {"visit", visit("", R"("household_id":")" + uuid(1) + R"(","visited_at":"2026-11-20T10:00:00Z","status":"rescheduled")"), ""},
      {"visit", visit(R"(,"rescheduled_for":"2026-12-01T18:30")", R"("household_id":")" + uuid(1) +
                      R"(","visited_at":"2026-11-20T10:00:00Z","status":"rescheduled")"), ""},
      {"visit", visit(R"(,"rescheduled_for":"2026-12-01T18:30:00Z")", R"("household_id":")" + uuid(1) +
                      R"(","visited_at":"2026-11-20T10:00:00Z","status":"rescheduled")"), "rescheduled_for"},
  });
}

TEST_CASE("a client that announces share_basis must give one with every referral", "[e2e][contract][records]") {
  // protocol.md §5.2 and §10: the capability makes the basis required with a referral, and a
  // basis without one invalid.
  check_cases({
      {"visit", visit(R"(,"referrals":["victim_support"],"share_basis":"consent")"), ""},
      {"visit", visit(R"(,"referrals":["victim_support","health"],"share_basis":"safeguarding")", R"("household_id":")" +
                      uuid(1) + R"(","visited_at":"2026-11-20T10:00:00Z","status":"declined")"), ""},
      {"visit", visit(R"(,"notes":"no referral, no basis")"), ""},
      {"visit", visit(R"(,"referrals":["victim_support"])"), "share_basis"},
      {"visit", visit(R"(,"share_basis":"consent")"), "share_basis"},
      {"visit", visit(R"(,"referrals":[],"share_basis":"vital_interests")"), "share_basis"},
  }, R"("evict","share_basis")");
}

TEST_CASE("a client that announces work_dates must date its follow-ups and reschedules", "[e2e][contract][records]") {
  // protocol.md §5.2 and §10: the capability makes each date required under its condition and
  // invalid without it.
  const std::string rescheduled = R"("household_id":")" + uuid(1) + R"(","visited_at":"2026-11-20T10:00:00Z","status":"rescheduled")";
  check_cases({
      {"visit", visit(R"(,"follow_up_required":true,"follow_up_due":"2026-12-18")"), ""},
      {"visit", visit(R"(,"rescheduled_for":"2026-12-01T18:30")", rescheduled), ""},
      {"visit", visit(R"(,"notes":"no follow-up, no date")"), ""},
      {"visit", visit(R"(,"follow_up_required":true)"), "follow_up_due"},
      {"visit", visit("", rescheduled), "rescheduled_for"},
      {"visit", visit(R"(,"follow_up_due":"2026-12-18")"), "follow_up_due"},
      {"visit", visit(R"(,"rescheduled_for":"2026-12-01T18:30")"), "rescheduled_for"},
      {"visit", visit(R"(,"follow_up_required":true,"follow_up_due":"18/12/2026")"), "follow_up_due"},
  }, R"("evict","share_basis","work_dates")");
}

TEST_CASE("the welcome offers share_basis and work_dates, and pulls and statistics carry them", "[e2e][contract][records]") {
  ServerProcess server;
  server.start();
  const auto token = server.enroll("tab-cat-1", "coord.cat", "coordinator");
  WsTestClient client;
  REQUIRE(client.connect(server.port(), token).ok);
  const auto welcome = parse(client.request(
      R"({"type":"hello","protocol":1,"device_id":"tab-cat-1","capabilities":["share_basis","unknown-thing"]})"));
  REQUIRE(str(welcome, "type") == "welcome");
  std::vector<std::string> offered;
  for (const auto& name : welcome["capabilities"].GetArray()) offered.emplace_back(name.GetString());
  CHECK(offered == std::vector<std::string>{"evict", "share_basis", "work_dates", "questions", "pull_progress"});  // protocol.md §5.2, §5.8, §4.2

  const auto change = [](int seq, const std::string& entity, int id, const std::string& data) {
    return R"({"seq":)" + std::to_string(seq) + R"(,"entity":")" + entity + R"(","op":"upsert","id":")" + uuid(id) +
           R"(","hlc":")" + hlc_now() + R"(","data":)" + data + "}";
  };
  const auto ack = parse(client.request(
      R"({"type":"push","changes":[)" + change(1, "household", 1, household()) + "," +
      change(2, "visit", 11, visit(R"(,"referrals":["adult_social_care"],"share_basis":"vital_interests")")) + "," +
      change(3, "visit", 12, visit(R"(,"referrals":["health"],"share_basis":"consent","follow_up_required":true,)"
                                   R"("follow_up_due":"2026-12-18")")) + "]}"));
  REQUIRE(str(ack, "type") == "ack");
  CHECK(ack["rejected"].Empty());

  const auto page = parse(client.request(R"({"type":"pull","cursor":""})"));
  REQUIRE(str(page, "type") == "changes");
  std::map<std::string, std::string> bases, due;
  for (const auto& pulled : page["changes"].GetArray()) {
    if (str(pulled, "entity") != "visit") continue;
    bases[str(pulled, "id")] = str(pulled["data"], "share_basis");
    due[str(pulled, "id")] = str(pulled["data"], "follow_up_due");
  }
  CHECK(bases == std::map<std::string, std::string>{{uuid(11), "vital_interests"}, {uuid(12), "consent"}});
  CHECK(due == std::map<std::string, std::string>{{uuid(11), "<absent>"}, {uuid(12), "2026-12-18"}});

  const auto stats = http_get(server.port(), "/api/v1/stats", token);
  REQUIRE(stats.status == 200);
  const auto body = parse(stats.body);
  CHECK(at(body, {"referrals", "visits"}) == 2);
  CHECK(at(body, {"referrals", "by_share_basis", "consent"}) == 1);
  CHECK(at(body, {"referrals", "by_share_basis", "vital_interests"}) == 1);
  CHECK(at(body, {"referrals", "by_share_basis", "safeguarding"}) == 0);
  CHECK(at(body, {"referrals", "by_share_basis", "not_recorded"}) == 0);
}

TEST_CASE("commute session fields are checked as protocol.md section 5 says", "[e2e][contract][records]") {
  // protocol.md §5: Commute Aware sessions feed the station figures of the statistics.
  check_cases({
      {"commute_session", commute(R"(,"ended_at":"2026-11-20T07:00:00Z","messages":["vehicle_security","garden_tools"])"), ""},
      {"commute_session", commute(R"(,"ended_at":null)", R"("station":"Elstree & Borehamwood","started_at":"2026-11-20T07:00:00Z","cards_distributed":5000)"), ""},
      {"commute_session", commute("", R"("station":"Kings Cross","started_at":"2026-11-20T07:00:00Z","cards_distributed":4)"), "station"},
      {"commute_session", commute("", R"("station":"Radlett","started_at":"2026-11-20T07:00:00Z","cards_distributed":5001)"), "cards_distributed"},
      {"commute_session", commute("", R"("station":"Radlett","started_at":"2026-11-20T07:00:00Z","cards_distributed":-1)"), "cards_distributed"},
      {"commute_session", commute(R"(,"ended_at":"2026-11-20T06:59:59Z")"), "ended_at"},
      {"commute_session", commute(R"(,"messages":["weather"])"), "messages"},
      {"commute_session", commute("", R"("started_at":"2026-11-20T07:00:00Z","cards_distributed":4)"), "station"},
      {"commute_session", commute("", R"("station":"Radlett","cards_distributed":4)"), "started_at"},
      {"commute_session", commute("", R"("station":"Radlett","started_at":"2026-11-20T07:00:00Z")"), "cards_distributed"},
  });
}

TEST_CASE("a malformed entity, op, id, hlc or missing data rejects that change alone as invalid", "[e2e][contract][records]") {
  // protocol.md §9: problems inside one change reject it alone; the rest of the batch applies.
  check_cases({
      {"vehicle", household(), "entity"},
      {"household", household(), "op", "merge"},
      {"household", household(), "id", "upsert", "0192F5E4-7C1A-7D3E-9B2A-4C5D6E7F8A9B"},
      {"household", household(), "id", "upsert", "0192f5e47c1a7d3e9b2a4c5d6e7f8a9b"},
      {"household", household(), "hlc", "upsert", "", "2026-11-26T09:30:00Z"},
      {"household", household(), "hlc", "upsert", "", "01764149400000-00000"},
      {"household", "", "data"},
      {"household", household(), "", "upsert", "0192f5e4-7c1a-7d3e-9b2a-4c5d6e7f8a9b"},
  });
}

TEST_CASE("postcodes and times are normalised as protocol.md section 9 says", "[e2e][contract][records]") {
  // protocol.md §5 and §9: every device sees the stored, normalised form, not what one tablet typed.
  ServerProcess server;
  server.start();
  WsTestClient client;
  REQUIRE(client.connect(server.port(), server.enroll("tab-cat-1", "coord.cat", "coordinator")).ok);
  REQUIRE(str(parse(client.request(R"({"type":"hello","protocol":1,"device_id":"tab-cat-1"})")), "type") == "welcome");
  const auto change = [](int seq, const std::string& entity, int n, const std::string& data) {
    return R"({"seq":)" + std::to_string(seq) + R"(,"entity":")" + entity + R"(","op":"upsert","id":")" + uuid(n) +
           R"(","hlc":")" + hlc_now() + R"(","data":)" + data + "}";
  };
  const auto ack = parse(client.request(
      R"({"type":"push","changes":[)" +
      change(1, "household", 1, R"({"address":"1 Example Road","postcode":"wd6 1wa","ward":"Elstree"})") + "," +
      change(2, "household", 2, R"({"address":"2 Example Road","postcode":"wd61wa","ward":"Elstree"})") + "," +
      change(3, "visit", 3, R"({"household_id":")" + uuid(1) + R"(","visited_at":"2026-07-01T00:30:00+01:00","status":"declined"})") +
      "]}"));
  REQUIRE(num(ack, "acked_seq") == 3);
  REQUIRE(ack["rejected"].Empty());
  const auto page = parse(client.request(R"({"type":"pull","cursor":"","limit":10})"));
  std::map<std::string, std::string> seen;
  for (const auto& item : page["changes"].GetArray()) {
    const auto& data = item["data"];
    seen[str(item, "id")] = str(item, "entity") == "visit" ? str(data, "visited_at") : str(data, "postcode");
  }
  CHECK(seen[uuid(1)] == "WD6 1WA");
  CHECK(seen[uuid(2)] == "WD6 1WA");
  const auto& visited_at = seen[uuid(3)];  // the same instant, in UTC
  CHECK(visited_at.rfind("2026-06-30T23:30:00", 0) == 0);
  CHECK(visited_at.back() == 'Z');
}
