// protocol.md §3 (push) over the wire, against the real sync-server: acks and durability, resends,
// seq gaps, rejections, last writer wins, tombstones, identity from the token, clock skew.
#include "contract_support.h"

#include <catch2/catch.hpp>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace {

using namespace std::chrono_literals;
using namespace contract_test;

std::string change(std::int64_t seq, const std::string& entity, const std::string& op, const std::string& id,
                   const std::string& hlc_text, const std::string& data = "") {
  return R"({"seq":)" + std::to_string(seq) + R"(,"entity":")" + entity + R"(","op":")" + op + R"(","id":")" + id +
         R"(","hlc":")" + hlc_text + '"' + (data.empty() ? "" : R"(,"data":)" + data) + "}";
}

std::string push(const std::vector<std::string>& changes) {
  std::string text = R"({"type":"push","changes":[)";
  for (std::size_t i = 0; i < changes.size(); ++i) text += (i ? "," : "") + changes[i];
  return text + "]}";
}

std::string household(const std::string& address, const std::string& extra = "") {
  return R"({"address":")" + address + R"(","postcode":"WD6 1WA","ward":"Elstree")" + extra + "}";
}

std::string visit(const std::string& household_id, const std::string& status = "completed",
                  const std::string& extra = "") {
  return R"({"household_id":")" + household_id + R"(","visited_at":"2026-11-20T10:00:00Z","status":")" + status +
         '"' + extra + "}";
}

struct Pulled {
  std::string entity, op, hlc, device_id, data;  // data: the record as JSON text
};

// Every change of a pull from "", by id (a later page's version replaces an earlier one).
std::map<std::string, Pulled> pull_all(WsTestClient& client) {
  std::map<std::string, Pulled> out;
  std::string cursor;
  for (int page = 0; page < 50; ++page) {
    const auto reply = parse(client.request(R"({"type":"pull","cursor":")" + cursor + R"(","limit":1000})"));
    REQUIRE(str(reply, "type") == "changes");
    for (const auto& item : reply["changes"].GetArray()) {
      Pulled pulled{str(item, "entity"), str(item, "op"), str(item, "hlc"), str(item, "device_id"), ""};
      if (item.HasMember("data")) {
        rapidjson::StringBuffer buffer;
        rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
        item["data"].Accept(writer);
        pulled.data = buffer.GetString();
      }
      out[str(item, "id")] = pulled;
    }
    cursor = str(reply, "cursor");
    if (flag(reply, "has_more") != true) break;
  }
  return out;
}

// The `field` of data JSON text.
std::string data_field(const std::string& data, const char* name) { return str(parse(data), name); }

// The rejection of `seq` in an ack, as an object with seq/code/message/field; empty when none.
rapidjson::Document rejection(const rapidjson::Document& ack, std::int64_t seq) {
  rapidjson::Document out;
  out.SetObject();
  if (!ack.HasMember("rejected") || !ack["rejected"].IsArray()) return out;
  for (const auto& item : ack["rejected"].GetArray()) {
    if (num(item, "seq") == seq) out.CopyFrom(item, out.GetAllocator());
  }
  return out;
}

struct Server {
  ServerProcess process;
  std::string coordinator, second_coordinator, ann;  // tokens
  Server() {
    process.start();
    coordinator = process.enroll("tab-cat-1", "coord.cat", "coordinator");
    second_coordinator = process.enroll("tab-dan-1", "coord.dan", "coordinator");
    ann = process.enroll("tab-ann-1", "officer.ann", "officer");
  }
  std::string stats() const { return test_support::http_get(process.port(), "/api/v1/stats", coordinator).body; }
};

}  // namespace

TEST_CASE("an ack carries acked_seq and what it acks survives a killed server", "[e2e][contract][push]") {
  // protocol.md §3: once acked, a change survives a crash, so the device may forget it.
  Server server;
  auto cat = join(server.process, "tab-cat-1", server.coordinator);
  const auto ack = parse(cat->request(push({change(1, "household", "upsert", uuid(1), hlc(), household("1 Example Road")),
                                            change(2, "visit", "upsert", uuid(2), hlc(), visit(uuid(1)))})));
  CHECK(str(ack, "type") == "ack");
  CHECK(num(ack, "acked_seq") == 2);
  REQUIRE(ack.HasMember("rejected"));
  CHECK((ack["rejected"].IsArray() && ack["rejected"].Empty()));

  server.process.kill_hard();  // as a crash or power cut would
  server.process.start();
  auto again = join(server.process, "tab-cat-1", server.coordinator);
  const auto records = pull_all(*again);
  CHECK(records.count(uuid(1)) == 1);
  CHECK(records.count(uuid(2)) == 1);
  const auto stats = parse(server.stats());  // the aggregates were committed with the records
  REQUIRE(stats.HasMember("visits"));
  CHECK(num(stats["visits"], "total") == 1);
  WsTestClient fresh;
  REQUIRE(fresh.connect(server.process.port(), server.coordinator).ok);
  CHECK(num(parse(fresh.request(R"({"type":"hello","protocol":1,"device_id":"tab-cat-1"})")), "acked_seq") == 2);
}

TEST_CASE("a resend of acked seqs has no effect and is acked again", "[e2e][contract][push]") {
  // protocol.md §3: a device that lost an ack resends; the server must not apply it twice or anew.
  Server server;
  auto cat = join(server.process, "tab-cat-1", server.coordinator);
  const auto first_hlc = hlc(-2min);
  REQUIRE(num(parse(cat->request(push({change(1, "household", "upsert", uuid(1), first_hlc, household("1 Example Road")),
                                       change(2, "visit", "upsert", uuid(2), first_hlc, visit(uuid(1)))}))),
              "acked_seq") == 2);
  const auto stats_before = server.stats();

  // The same seqs again, even with other (newer) content: nothing changes.
  const auto resent = parse(cat->request(push({change(1, "household", "upsert", uuid(1), hlc(), household("9 Changed Road")),
                                               change(2, "visit", "upsert", uuid(2), hlc(), visit(uuid(1), "declined"))})));
  CHECK(str(resent, "type") == "ack");
  CHECK(num(resent, "acked_seq") == 2);
  CHECK(server.stats() == stats_before);
  auto records = pull_all(*cat);
  CHECK(records[uuid(1)].hlc == first_hlc);
  CHECK(data_field(records[uuid(1)].data, "address") == "1 Example Road");
  CHECK(data_field(records[uuid(2)].data, "status") == "completed");

  // A batch that starts with a resend and goes on with a new change applies only the new one.
  const auto mixed = parse(cat->request(push({change(2, "visit", "upsert", uuid(2), hlc(), visit(uuid(1), "declined")),
                                              change(3, "visit", "upsert", uuid(3), hlc(), visit(uuid(1), "no_answer"))})));
  CHECK(num(mixed, "acked_seq") == 3);
  records = pull_all(*cat);
  CHECK(data_field(records[uuid(2)].data, "status") == "completed");
  CHECK(data_field(records[uuid(3)].data, "status") == "no_answer");
}

TEST_CASE("a seq gap gets a non-fatal seq_gap with expected and applies nothing of the batch", "[e2e][contract][push]") {
  // protocol.md §3: changes must run on from acked_seq + 1 so that none is ever skipped.
  Server server;
  auto cat = join(server.process, "tab-cat-1", server.coordinator);
  const auto check_gap = [&](const std::vector<std::string>& changes, std::int64_t expected) {
    const auto error = parse(cat->request(push(changes)));
    CHECK(str(error, "type") == "error");
    CHECK(str(error, "code") == "seq_gap");
    CHECK(flag(error, "fatal") == false);
    CHECK(num(error, "expected") == expected);
  };
  check_gap({change(2, "household", "upsert", uuid(2), hlc(), household("2 Example Road"))}, 1);
  REQUIRE(num(parse(cat->request(push({change(1, "household", "upsert", uuid(1), hlc(), household("1 Example Road"))}))),
              "acked_seq") == 1);
  check_gap({change(2, "household", "upsert", uuid(2), hlc(), household("2 Example Road")),
             change(4, "household", "upsert", uuid(4), hlc(), household("4 Example Road"))},
            2);
  check_gap({change(3, "household", "upsert", uuid(3), hlc(), household("3 Example Road"))}, 2);
  auto records = pull_all(*cat);
  CHECK(records.count(uuid(2)) == 0);  // the valid seq 2 before the gap was not applied either
  CHECK(records.count(uuid(4)) == 0);

  const auto ack = parse(cat->request(push({change(2, "household", "upsert", uuid(2), hlc(), household("2 Example Road"))})));
  CHECK(num(ack, "acked_seq") == 2);
  CHECK(pull_all(*cat).count(uuid(2)) == 1);
}

TEST_CASE("rejected changes are listed with code, message and field, and acked_seq moves past them", "[e2e][contract][push]") {
  // protocol.md §3: the device must be able to show each rejection beside its field and never resend it.
  Server server;
  auto ann = join(server.process, "tab-ann-1", server.ann);
  const auto ack = parse(ann->request(push({
      change(1, "household", "upsert", uuid(1), hlc(), household("1 Example Road")),
      change(2, "visit", "upsert", uuid(2), hlc(), visit(uuid(1), "completed", R"(,"smoke_detectors_fitted":11)")),
      change(3, "visit", "upsert", uuid(3), hlc(), visit(uuid(1), "no_answer", R"(,"fire_safety_check":true)")),
      change(4, "household", "upsert", uuid(4), hlc(), household("4 Example Road", R"(,"target":true)")),
      change(5, "household", "upsert", uuid(5), hlc(2h), household("5 Example Road")),
      change(6, "visit", "upsert", uuid(6), hlc(), visit(uuid(1))),
  })));
  REQUIRE(str(ack, "type") == "ack");
  CHECK(num(ack, "acked_seq") == 6);
  REQUIRE(ack["rejected"].IsArray());
  CHECK(ack["rejected"].Size() == 4);
  const struct {
    std::int64_t seq;
    const char* code;
    const char* field;
  } expected[] = {{2, "invalid", "smoke_detectors_fitted"},
                  {3, "invalid", "fire_safety_check"},
                  {4, "forbidden", "target"},
                  {5, "clock_skew", "hlc"}};
  for (const auto& want : expected) {
    INFO("seq " << want.seq);
    const auto rejected = rejection(ack, want.seq);
    CHECK(str(rejected, "code") == want.code);
    CHECK(str(rejected, "field") == want.field);
    CHECK(str(rejected, "message").find(want.field) != std::string::npos);
  }
  const auto records = pull_all(*ann);
  CHECK(records.count(uuid(1)) == 1);
  CHECK(records.count(uuid(6)) == 1);
  for (int rejected_id : {2, 3, 4, 5}) CHECK(records.count(uuid(rejected_id)) == 0);

  // The next change is 7: the rejected ones were consumed, not left as a gap.
  CHECK(num(parse(ann->request(push({change(7, "visit", "upsert", uuid(7), hlc(), visit(uuid(1)))}))), "acked_seq") == 7);
}

TEST_CASE("the greatest hlc wins whatever the order of arrival, ties broken by device_id", "[e2e][contract][push]") {
  // protocol.md §3: every device must converge on the same version of a record edited on two tablets.
  Server server;
  auto cat = join(server.process, "tab-cat-1", server.coordinator);
  auto dan = join(server.process, "tab-dan-1", server.second_coordinator);
  const auto older = hlc(-2min), newer = hlc(-1min);

  // Newer first, older second: the older one loses, and losing is not an error.
  REQUIRE(num(parse(cat->request(push({change(1, "household", "upsert", uuid(1), newer, household("1 Newer Road"))}))), "acked_seq") == 1);
  const auto late = parse(dan->request(push({change(1, "household", "upsert", uuid(1), older, household("1 Older Road"))})));
  CHECK(num(late, "acked_seq") == 1);
  CHECK(late["rejected"].Empty());
  // Older first, newer second: the newer one wins.
  REQUIRE(num(parse(dan->request(push({change(2, "household", "upsert", uuid(2), older, household("2 Older Road"))}))), "acked_seq") == 2);
  REQUIRE(num(parse(cat->request(push({change(2, "household", "upsert", uuid(2), newer, household("2 Newer Road"))}))), "acked_seq") == 2);
  // Equal hlc: the greater device_id ("tab-dan-1" > "tab-cat-1") wins, in either order.
  REQUIRE(num(parse(dan->request(push({change(3, "household", "upsert", uuid(3), newer, household("3 Dan Road"))}))), "acked_seq") == 3);
  REQUIRE(num(parse(cat->request(push({change(3, "household", "upsert", uuid(3), newer, household("3 Cat Road"))}))), "acked_seq") == 3);
  REQUIRE(num(parse(cat->request(push({change(4, "household", "upsert", uuid(4), newer, household("4 Cat Road"))}))), "acked_seq") == 4);
  REQUIRE(num(parse(dan->request(push({change(4, "household", "upsert", uuid(4), newer, household("4 Dan Road"))}))), "acked_seq") == 4);

  for (auto* client : {cat.get(), dan.get()}) {
    auto records = pull_all(*client);
    CHECK(data_field(records[uuid(1)].data, "address") == "1 Newer Road");
    CHECK(records[uuid(1)].device_id == "tab-cat-1");
    CHECK(data_field(records[uuid(2)].data, "address") == "2 Newer Road");
    CHECK(records[uuid(2)].hlc == newer);
    CHECK(data_field(records[uuid(3)].data, "address") == "3 Dan Road");
    CHECK(data_field(records[uuid(4)].data, "address") == "4 Dan Road");
    CHECK(records[uuid(4)].device_id == "tab-dan-1");
  }
}

TEST_CASE("an older upsert after a newer delete does not bring the record back, a newer one does", "[e2e][contract][push]") {
  // protocol.md §3: a delete is a version too, so a late edit from an offline tablet cannot resurrect it.
  Server server;
  auto cat = join(server.process, "tab-cat-1", server.coordinator);
  auto dan = join(server.process, "tab-dan-1", server.second_coordinator);
  REQUIRE(num(parse(cat->request(push({change(1, "household", "upsert", uuid(9), hlc(-4min), household("9 Example Road")),
                                       change(2, "visit", "upsert", uuid(1), hlc(-3min), visit(uuid(9))),
                                       change(3, "visit", "delete", uuid(1), hlc(-1min))}))), "acked_seq") == 3);
  const auto stats_after_delete = server.stats();
  const auto late = parse(dan->request(push({change(1, "visit", "upsert", uuid(1), hlc(-2min), visit(uuid(9), "no_answer"))})));
  CHECK(num(late, "acked_seq") == 1);
  CHECK(late["rejected"].Empty());
  auto records = pull_all(*cat);
  CHECK(records[uuid(1)].op == "delete");
  CHECK(server.stats() == stats_after_delete);  // not counted again

  REQUIRE(num(parse(dan->request(push({change(2, "visit", "upsert", uuid(1), hlc(), visit(uuid(9), "declined"))}))), "acked_seq") == 2);
  records = pull_all(*cat);
  CHECK(records[uuid(1)].op == "upsert");
  CHECK(data_field(records[uuid(1)].data, "status") == "declined");

  // And a delete older than the current upsert loses like any older version.
  REQUIRE(num(parse(cat->request(push({change(4, "visit", "delete", uuid(1), hlc(-1min))}))), "acked_seq") == 4);
  CHECK(pull_all(*cat)[uuid(1)].op == "upsert");

  // A household is different: a coordinator's delete erases it, and nothing brings it back (§5.7).
  REQUIRE(num(parse(cat->request(push({change(5, "household", "delete", uuid(9), hlc(-1min))}))), "acked_seq") == 5);
  const auto revived = parse(dan->request(push({change(3, "household", "upsert", uuid(9), hlc(), household("9 Rebuilt Road"))})));
  REQUIRE(revived["rejected"].Size() == 1);
  CHECK(str(revived["rejected"][0], "code") == "erased");
  records = pull_all(*cat);
  CHECK(records[uuid(9)].op == "delete");
  CHECK(records[uuid(1)].op == "delete");  // its visit went with it
}

TEST_CASE("identity comes from the token, not from data", "[e2e][contract][push]") {
  // protocol.md §3 and §9: a tablet must not record work in another officer's name.
  Server server;
  const auto bob = server.process.enroll("tab-bob-1", "officer.bob", "officer");
  auto ann = join(server.process, "tab-ann-1", server.ann);
  auto bob_session = join(server.process, "tab-bob-1", bob);
  const std::string spoof = R"(,"recorded_by":"officer.bob","user_id":"officer.bob","device_id":"tab-bob-1")";
  REQUIRE(num(parse(ann->request(push({change(1, "household", "upsert", uuid(1), hlc(), household("1 Example Road", spoof)),
                                       change(2, "commute_session", "upsert", uuid(2), hlc(),
                                              R"({"station":"Radlett","started_at":"2026-11-20T07:00:00Z","cards_distributed":40)" + spoof + "}")}))),
              "acked_seq") == 2);
  const auto ann_view = pull_all(*ann);
  CHECK(ann_view.at(uuid(1)).device_id == "tab-ann-1");
  CHECK(ann_view.at(uuid(2)).device_id == "tab-ann-1");
  const auto bob_view = pull_all(*bob_session);  // not Bob's, so not in his scope
  CHECK(bob_view.count(uuid(1)) == 0);
  CHECK(bob_view.count(uuid(2)) == 0);
  const auto takeover = parse(bob_session->request(push({change(1, "commute_session", "upsert", uuid(2), hlc(),
      R"({"station":"Radlett","started_at":"2026-11-20T07:00:00Z","cards_distributed":0})")})));
  CHECK(str(rejection(takeover, 1), "code") == "forbidden");
}

TEST_CASE("an hlc more than an hour ahead is rejected with clock_skew, less than an hour is applied", "[e2e][contract][push]") {
  // protocol.md §3: a tablet with a wrong clock must not win every later edit.
  Server server;
  auto cat = join(server.process, "tab-cat-1", server.coordinator);
  const auto ack = parse(cat->request(push({change(1, "household", "upsert", uuid(1), hlc(61min), household("1 Example Road")),
                                            change(2, "household", "upsert", uuid(2), hlc(55min), household("2 Example Road")),
                                            change(3, "household", "delete", uuid(2), hlc(62min))})));
  CHECK(num(ack, "acked_seq") == 3);
  CHECK(str(rejection(ack, 1), "code") == "clock_skew");
  CHECK(str(rejection(ack, 1), "field") == "hlc");
  CHECK(str(rejection(ack, 2), "code") == "<absent>");
  CHECK(str(rejection(ack, 3), "code") == "clock_skew");  // deletes too
  const auto records = pull_all(*cat);
  CHECK(records.count(uuid(1)) == 0);
  CHECK(records.at(uuid(2)).op == "upsert");
}

TEST_CASE("two connections of one device pushing the same batch apply it once", "[e2e][contract][push]") {
  // protocol.md §9: one device's batches are applied one at a time in seq order, whatever the connection.
  Server server;
  auto first = join(server.process, "tab-cat-1", server.coordinator);
  auto second = join(server.process, "tab-cat-1", server.coordinator);
  std::vector<std::string> changes = {change(1, "household", "upsert", uuid(1), hlc(), household("1 Example Road"))};
  for (int seq = 2; seq <= 200; ++seq) changes.push_back(change(seq, "visit", "upsert", uuid(seq), hlc(), visit(uuid(1))));
  const auto batch = push(changes);
  REQUIRE(first->send(batch));
  REQUIRE(second->send(batch));
  CHECK(num(parse(first->receive()), "acked_seq") == 200);
  CHECK(num(parse(second->receive()), "acked_seq") == 200);
  const auto stats = parse(server.stats());
  REQUIRE(stats.HasMember("visits"));
  CHECK(num(stats["visits"], "total") == 199);
}
