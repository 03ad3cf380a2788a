// protocol.md §4 (pull) over the wire, against the real sync-server: pages and cursors, limits,
// cursor_invalid, tombstones, only winning versions, no skipped change under concurrent
// writes, and the scope of officers versus coordinators.
#include "contract_support.h"

#include <catch2/catch.hpp>

#include <chrono>
#include <future>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace {

using namespace std::chrono_literals;
using namespace contract_test;

std::string household(int n, const std::string& extra = "") {
  return R"({"address":")" + std::to_string(n) + R"( Example Road","postcode":"WD6 1WA","ward":"Elstree")" + extra + "}";
}
std::string visit(int household_n) {
  return R"({"household_id":")" + uuid(household_n) + R"(","visited_at":"2026-11-20T10:00:00Z","status":"completed"})";
}
std::string commute() {
  return R"({"station":"Radlett","started_at":"2026-11-20T07:00:00Z","cards_distributed":12})";
}

struct Page {
  std::vector<std::string> ids;  // in the order received
  std::vector<std::string> ops, devices;
  std::string cursor;
  std::optional<bool> has_more;
};

// One device's session; write() pushes with the next seq and requires that it was applied.
struct Device {
  std::unique_ptr<WsTestClient> client;
  std::int64_t seq = 0;

  Device(const ServerProcess& server, const std::string& device, const std::string& user, const std::string& role)
      : client(join(server, device, server.enroll(device, user, role))) {}

  void write(const std::string& entity, int n, const std::string& data, const std::string& op = "upsert") {
    ++seq;
    const auto ack = parse(client->request(
        R"({"type":"push","changes":[{"seq":)" + std::to_string(seq) + R"(,"entity":")" + entity + R"(","op":")" + op +
        R"(","id":")" + uuid(n) + R"(","hlc":")" + next_hlc() + '"' + (data.empty() ? "" : R"(,"data":)" + data) + "}]}"));
    REQUIRE(num(ack, "acked_seq") == seq);
    REQUIRE(ack["rejected"].Empty());
  }

  Page pull(const std::string& cursor, int limit = 1000) {
    const auto reply = parse(client->request(R"({"type":"pull","cursor":")" + cursor + R"(","limit":)" +
                                             std::to_string(limit) + "}"));
    REQUIRE(str(reply, "type") == "changes");
    Page page{{}, {}, {}, str(reply, "cursor"), flag(reply, "has_more")};
    for (const auto& item : reply["changes"].GetArray()) {
      page.ids.push_back(str(item, "id"));
      page.ops.push_back(str(item, "op"));
      page.devices.push_back(str(item, "device_id"));
    }
    return page;
  }

  // The ids of everything from `cursor` on, following has_more; updates `cursor`.
  std::set<std::string> pull_all(std::string& cursor) {
    std::set<std::string> ids;
    for (int pages = 0; pages < 100; ++pages) {
      const auto page = pull(cursor, 1000);
      ids.insert(page.ids.begin(), page.ids.end());
      cursor = page.cursor;
      if (page.has_more != true) break;
    }
    return ids;
  }
};

std::set<std::string> ids(std::initializer_list<int> numbers) {
  std::set<std::string> out;
  for (int n : numbers) out.insert(uuid(n));
  return out;
}

}  // namespace

TEST_CASE("a pull from the empty cursor sends every change with its device_id, then only new ones", "[e2e][contract][pull]") {
  // protocol.md §4: device_id lets a device merge by (hlc, device_id), and the cursor resumes.
  ServerProcess server;
  server.start();
  Device cat(server, "tab-cat-1", "coord.cat", "coordinator");
  Device dan(server, "tab-dan-1", "coord.dan", "coordinator");
  cat.write("household", 1, household(1));
  dan.write("household", 2, household(2));

  const auto first = cat.pull("");
  CHECK(first.ids == std::vector<std::string>{uuid(1), uuid(2)});
  CHECK(first.devices == std::vector<std::string>{"tab-cat-1", "tab-dan-1"});
  CHECK(first.ops == std::vector<std::string>{"upsert", "upsert"});
  CHECK(first.has_more == false);
  REQUIRE_FALSE(first.cursor.empty());

  const auto nothing_new = cat.pull(first.cursor);
  CHECK(nothing_new.ids.empty());
  CHECK(nothing_new.has_more == false);
  dan.write("household", 3, household(3));
  CHECK(cat.pull(nothing_new.cursor).ids == std::vector<std::string>{uuid(3)});
}

TEST_CASE("limit bounds a page, has_more and the cursor lead through the rest in commit order", "[e2e][contract][pull]") {
  // protocol.md §4: a device pulls a large backlog in pages without missing or reordering a change.
  ServerProcess server;
  server.start();
  Device cat(server, "tab-cat-1", "coord.cat", "coordinator");
  for (int n = 1; n <= 5; ++n) cat.write("household", n, household(n));

  std::vector<std::string> received;
  std::vector<std::optional<bool>> more;
  std::string cursor;
  for (int pages = 0; pages < 3; ++pages) {
    const auto page = cat.pull(cursor, 2);
    CHECK(page.ids.size() <= 2);
    received.insert(received.end(), page.ids.begin(), page.ids.end());
    more.push_back(page.has_more);
    cursor = page.cursor;
  }
  CHECK(received == std::vector<std::string>{uuid(1), uuid(2), uuid(3), uuid(4), uuid(5)});
  CHECK(more == std::vector<std::optional<bool>>{true, true, false});
  CHECK(cat.pull("", 1).ids.size() == 1);
  CHECK(cat.pull("", 1000).ids.size() == 5);
  std::string batch = R"({"type":"push","changes":[)";
  for (int n = 6; n <= 505; ++n) {
    batch += std::string(n > 6 ? "," : "") + R"({"seq":)" + std::to_string(n) + R"(,"entity":"household","op":"upsert","id":")" +
             uuid(n) + R"(","hlc":")" + next_hlc() + R"(","data":)" + household(n) + "}";
  }
  REQUIRE(num(parse(cat.client->request(batch + "]}")), "acked_seq") == 505);
  const auto defaulted = parse(cat.client->request(R"({"type":"pull","cursor":""})"));  // limit defaults to 500
  CHECK(defaulted["changes"].Size() == 500);
  CHECK(flag(defaulted, "has_more") == true);

  for (const char* limit : {"0", "1001", "-1"}) {
    INFO("limit " << limit);
    const auto error = parse(cat.client->request(std::string(R"({"type":"pull","cursor":"","limit":)") + limit + "}"));
    CHECK(str(error, "code") == "bad_message");
    CHECK(flag(error, "fatal") == false);
  }
}

TEST_CASE("a cursor the server cannot honour gets cursor_invalid, not fatal", "[e2e][contract][pull]") {
  // protocol.md §4: a device with a bad cursor must be told to start again from "", not be cut off.
  ServerProcess server, other_server;
  server.start();
  other_server.start();
  Device cat(server, "tab-cat-1", "coord.cat", "coordinator");
  Device elsewhere(other_server, "tab-cat-1", "coord.cat", "coordinator");
  cat.write("household", 1, household(1));
  elsewhere.write("household", 1, household(1));
  const std::string foreign = elsewhere.pull("").cursor;  // issued by another server's database

  const std::string valid = cat.pull("").cursor;
  for (const std::string& cursor : {std::string("garbage"), foreign, valid + "0", std::string("-1")}) {
    INFO("cursor " << cursor);
    const auto error = parse(cat.client->request(R"({"type":"pull","cursor":")" + cursor + R"(","limit":10})"));
    CHECK(str(error, "type") == "error");
    CHECK(str(error, "code") == "cursor_invalid");
    CHECK(flag(error, "fatal") == false);
  }
  CHECK(cat.pull("").ids == std::vector<std::string>{uuid(1)});  // still connected, and "" works
  CHECK(cat.pull(valid).ids.empty());
}

TEST_CASE("deleted records come as op delete and only the winning version is sent", "[e2e][contract][pull]") {
  // protocol.md §4 and §9: devices must learn of deletes, also from "", and never see stale versions.
  ServerProcess server;
  server.start();
  Device cat(server, "tab-cat-1", "coord.cat", "coordinator");
  cat.write("household", 1, household(1));
  cat.write("household", 2, household(2));
  const auto before = cat.pull("");
  cat.write("household", 1, "", "delete");
  cat.write("household", 2, household(2, R"(,"target":true)"));
  cat.write("household", 2, household(2, R"(,"target":false)"));

  const auto since = cat.pull(before.cursor);
  REQUIRE(since.ids.size() == 2);
  CHECK(since.ids[0] == uuid(1));
  CHECK(since.ops[0] == "delete");
  const auto everything = cat.pull("");
  CHECK(everything.ids == std::vector<std::string>{uuid(1), uuid(2)});  // each once: the winner
  CHECK(everything.ops == std::vector<std::string>{"delete", "upsert"});
  const auto raw = parse(cat.client->request(R"({"type":"pull","cursor":"","limit":10})"));
  CHECK(raw["changes"][0].HasMember("data") == false);
  CHECK(raw["changes"][1]["data"]["target"].GetBool() == false);
}

TEST_CASE("an officer receives only their scope, a coordinator everything", "[e2e][contract][pull][scope]") {
  // protocol.md §4: nothing outside a device's scope ever reaches it.
  ServerProcess server;
  server.start();
  Device cat(server, "tab-cat-1", "coord.cat", "coordinator");
  Device ann(server, "tab-ann-1", "officer.ann", "officer");
  Device bob(server, "tab-bob-1", "officer.bob", "officer");
  Device pat(server, "tab-pat-1", "pcso.pat", "pcso");
  cat.write("household", 1, household(1, R"(,"assigned_to":"officer.ann")"));
  cat.write("household", 2, household(2, R"(,"assigned_to":"officer.bob")"));
  cat.write("household", 3, household(3));
  cat.write("visit", 11, visit(1));  // the coordinator's visit to Ann's household
  ann.write("household", 5, household(5));
  ann.write("visit", 15, visit(5));
  ann.write("visit", 16, visit(1));
  ann.write("commute_session", 17, commute());
  bob.write("household", 4, household(4));
  bob.write("visit", 12, visit(2));
  bob.write("visit", 14, visit(4));
  bob.write("commute_session", 18, commute());
  pat.write("commute_session", 19, commute());

  std::string ann_cursor, bob_cursor, pat_cursor, cat_cursor;
  CHECK(ann.pull_all(ann_cursor) == ids({1, 5, 11, 15, 16, 17}));
  CHECK(bob.pull_all(bob_cursor) == ids({2, 4, 12, 14, 18}));
  CHECK(pat.pull_all(pat_cursor) == ids({19}));
  CHECK(cat.pull_all(cat_cursor) == ids({1, 2, 3, 4, 5, 11, 12, 14, 15, 16, 17, 18, 19}));

  // The coordinator assigns Bob's household 2 to Ann: she now receives it and its visits.
  cat.write("household", 2, household(2, R"(,"assigned_to":"officer.ann")"));
  CHECK(ann.pull_all(ann_cursor) == ids({2, 12}));
  std::string fresh;
  CHECK(ann.pull_all(fresh) == ids({1, 2, 5, 11, 12, 15, 16, 17}));
  CHECK(pat.pull_all(pat_cursor).empty());
}

TEST_CASE("pages skip no change while another device writes at the same time", "[e2e][contract][pull]") {
  // protocol.md §4: a device pulling during others' pushes must still end up with every change.
  ServerProcess server;
  server.start();
  Device reader(server, "tab-cat-1", "coord.cat", "coordinator");
  constexpr int kBatches = 30, kPerBatch = 10;
  Device writer(server, "tab-dan-1", "coord.dan", "coordinator");
  auto writing = std::async(std::launch::async, [&writer] {  // no Catch2 assertions in this thread
    for (int batch = 0; batch < kBatches; ++batch) {
      std::string text = R"({"type":"push","changes":[)";
      for (int i = 0; i < kPerBatch; ++i) {
        const int n = batch * kPerBatch + i + 1;
        text += std::string(i ? "," : "") + R"({"seq":)" + std::to_string(n) + R"(,"entity":"household","op":"upsert","id":")" +
                uuid(n) + R"(","hlc":")" + next_hlc() + R"(","data":)" + household(n) + "}";
      }
      if (num(parse(writer.client->request(text + "]}")), "acked_seq") != (batch + 1) * kPerBatch) return false;
    }
    return true;
  });
  std::set<std::string> seen;
  std::string cursor;
  const auto until = std::chrono::steady_clock::now() + 20s;
  while (writing.wait_for(0ms) != std::future_status::ready && std::chrono::steady_clock::now() < until) {
    const auto page = reader.pull(cursor, 7);
    seen.insert(page.ids.begin(), page.ids.end());
    cursor = page.cursor;
  }
  REQUIRE(writing.get());
  for (const auto& id : reader.pull_all(cursor)) seen.insert(id);
  CHECK(seen.size() == static_cast<std::size_t>(kBatches * kPerBatch));
}

TEST_CASE("deletes within an officer's scope reach the officer as op delete", "[e2e][contract][pull][scope]") {
  // protocol.md §4: an officer's tablet must drop a household the coordinator removed, and its own deleted visits.
  ServerProcess server;
  server.start();
  Device cat(server, "tab-cat-1", "coord.cat", "coordinator");
  Device ann(server, "tab-ann-1", "officer.ann", "officer");
  Device bob(server, "tab-bob-1", "officer.bob", "officer");
  cat.write("household", 1, household(1, R"(,"assigned_to":"officer.ann")"));
  cat.write("household", 2, household(2, R"(,"assigned_to":"officer.ann")"));
  ann.write("visit", 11, visit(1));
  std::string ann_cursor, bob_cursor;
  REQUIRE(ann.pull_all(ann_cursor) == ids({1, 2, 11}));
  REQUIRE(bob.pull_all(bob_cursor).empty());

  cat.write("household", 2, "", "delete");
  ann.write("visit", 11, "", "delete");
  const auto page = ann.pull(ann_cursor);
  CHECK(page.ids == std::vector<std::string>{uuid(2), uuid(11)});
  CHECK(page.ops == std::vector<std::string>{"delete", "delete"});
  CHECK(bob.pull(bob_cursor).ids.empty());
}

TEST_CASE("a page never exceeds the 1 MiB message bound, whatever the limit", "[e2e][contract][pull][size]") {
  // protocol.md §1: a message over 1 MiB closes the connection, so the server must not send one either.
  ServerProcess server;
  server.start();
  Device cat(server, "tab-cat-1", "coord.cat", "coordinator");
  cat.write("household", 1, household(1));
  std::string notes;
  for (int i = 0; i < 2000; ++i) notes += "\xE2\x82\xAC";  // the euro sign: 3 bytes, one code point
  constexpr int kBatches = 3, kPerBatch = 100;
  for (int batch = 0; batch < kBatches; ++batch) {
    std::string text = R"({"type":"push","changes":[)";
    for (int i = 0; i < kPerBatch; ++i) {
      const int n = 100 + batch * kPerBatch + i;
      text += std::string(i ? "," : "") + R"({"seq":)" + std::to_string(cat.seq + 1 + i) +
              R"(,"entity":"visit","op":"upsert","id":")" + uuid(n) + R"(","hlc":")" + next_hlc() +
              R"(","data":{"household_id":")" + uuid(1) +
              R"(","visited_at":"2026-11-20T10:00:00Z","status":"completed","notes":")" + notes + R"("}})";
    }
    cat.seq += kPerBatch;
    REQUIRE(num(parse(cat.client->request(text + "]}")), "acked_seq") == cat.seq);
  }
  std::set<std::string> seen;
  std::string cursor;
  for (int pages = 0; pages < 20; ++pages) {
    const auto reply = cat.client->request(R"({"type":"pull","cursor":")" + cursor + R"(","limit":1000})");
    REQUIRE(reply);
    CHECK(reply->size() <= 1'048'576u);
    const auto page = parse(reply);
    for (const auto& item : page["changes"].GetArray()) seen.insert(str(item, "id"));
    cursor = str(page, "cursor");
    if (flag(page, "has_more") != true) break;
  }
  CHECK(seen.size() == static_cast<std::size_t>(1 + kBatches * kPerBatch));
}

TEST_CASE("pages carry remaining only to a client that announced pull_progress, counting down to 0",
          "[e2e][contract][pull][pull_progress]") {
  ServerProcess server;
  server.start();
  Device writer(server, "tab-cat-1", "coord.cat", "coordinator");
  for (int n = 1; n <= 7; ++n) writer.write("household", n, household(n));

  WsTestClient client;
  REQUIRE(client.connect(server.port(), server.enroll("tab-cat-2", "coord.cat", "coordinator")).ok);
  const auto welcome = parse(client.request(
      R"({"type":"hello","protocol":1,"device_id":"tab-cat-2","capabilities":["pull_progress"]})"));
  REQUIRE(str(welcome, "type") == "welcome");
  std::set<std::string> offered;
  for (const auto& name : welcome["capabilities"].GetArray()) offered.insert(name.GetString());
  CHECK(offered.count("pull_progress") == 1);

  std::string cursor;
  std::vector<std::int64_t> remaining;
  for (int pages = 0; pages < 10; ++pages) {
    const auto reply = parse(client.request(R"({"type":"pull","cursor":")" + cursor + R"(","limit":3})"));
    REQUIRE(str(reply, "type") == "changes");
    REQUIRE(num(reply, "remaining").has_value());
    remaining.push_back(*num(reply, "remaining"));
    cursor = str(reply, "cursor");
    if (flag(reply, "has_more") != true) break;
  }
  CHECK(remaining == std::vector<std::int64_t>{4, 1, 0});

  // The writer's hello named no capability: protocol 1's pages, without the field.
  const auto plain = parse(writer.client->request(R"({"type":"pull","cursor":"","limit":3})"));
  CHECK(flag(plain, "has_more") == true);
  CHECK_FALSE(plain.HasMember("remaining"));
}
