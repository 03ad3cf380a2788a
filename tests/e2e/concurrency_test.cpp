// Many devices pushing at once: every change is acked exactly once, the stats count each
// once, and a coordinator pulling all the while never skips a change.
#include <catch2/catch.hpp>

#include <cereal/archives/json.hpp>  // RapidJSON, configured as cereal configures it

#include <atomic>
#include <mutex>
#include <set>
#include <thread>

#include "safer/protocol_json.h"
#include "safer/time.h"
#include "safer/uuid.h"
#include "server_process.h"
#include "ws_test_client.h"

namespace {

constexpr int kDevices = 16;
constexpr int kBatches = 10;
constexpr int kBatchSize = 25;

std::string hello(const std::string& device) {
  return safer::to_json(safer::Hello{safer::kProtocolVersion, device, "concurrency-test"});
}

// A device that creates its household and then pushes its visits; returns the visit ids.
std::set<std::string> push_visits(unsigned short port, const std::string& device, const std::string& token,
                                  std::atomic<int>& failures) {
  std::set<std::string> ids;
  test_support::WsTestClient client;
  if (!client.connect(port, token).ok || !client.request(hello(device))) {
    ++failures;
    return ids;
  }
  safer::HlcClock clock(safer::now_unix_millis);
  std::int64_t seq = 1;
  safer::Household household;
  household.address = "1 Concurrent Road";
  household.postcode = "WD6 1AA";
  household.ward = "Elstree";
  const std::string household_id = safer::new_uuid_v7();
  safer::Push first{{{seq++, {safer::Entity::household, safer::Op::upsert, household_id, clock.tick(), household}}}};
  if (client.request(safer::to_json(first)).value_or("").find("\"acked_seq\":1,") == std::string::npos) ++failures;
  for (int b = 0; b < kBatches; ++b) {
    safer::Push push;
    for (int i = 0; i < kBatchSize; ++i) {
      safer::Visit visit;
      visit.household_id = household_id;
      visit.visited_at = safer::now_unix_millis();
      visit.status = safer::VisitStatus::completed;
      visit.smoke_detectors_fitted = 1;
      const std::string id = safer::new_uuid_v7();
      ids.insert(id);
      push.changes.push_back({seq++, {safer::Entity::visit, safer::Op::upsert, id, clock.tick(), visit}});
    }
    const auto ack = client.request(safer::to_json(push));
    const std::string expected = "\"acked_seq\":" + std::to_string(seq - 1) + ",\"rejected\":[]";
    if (!ack || ack->find(expected) == std::string::npos) ++failures;
  }
  client.close();
  return ids;
}

}  // namespace

TEST_CASE("many devices push at once and a pull running meanwhile never skips a change", "[e2e][concurrency]") {
  test_support::ServerProcess server;
  server.start();
  std::vector<std::string> tokens;
  for (int d = 0; d < kDevices; ++d) {
    tokens.push_back(server.enroll("device-" + std::to_string(d), "officer." + std::to_string(d), "officer"));
  }
  const auto coordinator = server.enroll("coordinator-desk", "coord.cat", "coordinator");

  std::atomic<int> failures{0};
  std::atomic<bool> pushing{true};
  std::mutex ids_mutex;
  std::set<std::string> pushed;
  std::set<std::string> pulled;
  std::int64_t pages = 0;

  // The coordinator pulls from its cursor in a loop while the devices push.
  std::thread puller([&] {
    test_support::WsTestClient client;
    if (!client.connect(server.port(), coordinator).ok || !client.request(hello("coordinator-desk"))) {
      ++failures;
      return;
    }
    std::string cursor;
    bool last_round = false;
    for (;;) {
      const bool done_pushing = !pushing.load();
      bool has_more = true;
      while (has_more) {
        const auto answer = client.request(safer::to_json(safer::Pull{cursor, 37}));
        const auto page = answer ? safer::decode_server_message(*answer) : safer::Result<safer::ServerMessage>(safer::Error{});
        if (!page || !std::holds_alternative<safer::ChangesPage>(*page)) {
          ++failures;
          return;
        }
        const auto& changes = std::get<safer::ChangesPage>(*page);
        for (const auto& change : changes.changes) {
          if (change.change.entity == safer::Entity::visit) pulled.insert(change.change.id);
        }
        cursor = changes.cursor;
        has_more = changes.has_more;
        ++pages;
      }
      if (last_round) break;
      last_round = done_pushing;  // one more full pass after the pushes ended
    }
    client.close();
  });

  std::vector<std::thread> devices;
  for (int d = 0; d < kDevices; ++d) {
    devices.emplace_back([&, d] {
      auto ids = push_visits(server.port(), "device-" + std::to_string(d), tokens[static_cast<std::size_t>(d)], failures);
      std::lock_guard lock(ids_mutex);
      pushed.insert(ids.begin(), ids.end());
    });
  }
  for (auto& device : devices) device.join();
  pushing = false;
  puller.join();

  CHECK(failures.load() == 0);
  CHECK(pushed.size() == static_cast<std::size_t>(kDevices * kBatches * kBatchSize));
  CHECK(pulled == pushed);
  CHECK(pages > 1);

  rapidjson::Document stats;
  stats.Parse(test_support::http_get(server.port(), "/api/v1/stats", coordinator).body.c_str());
  REQUIRE(stats.IsObject());
  CHECK(stats["visits"]["total"].GetInt() == kDevices * kBatches * kBatchSize);
  CHECK(stats["outcomes"]["smoke_detectors_fitted"].GetInt() == kDevices * kBatches * kBatchSize);
  // Group commit: with 16 devices pushing at once, some commits carried several batches.
  const std::string log = server.log();
  int largest_group = 0;
  for (auto at = log.find(" group="); at != std::string::npos; at = log.find(" group=", at + 1)) {
    largest_group = std::max(largest_group, std::stoi(log.substr(at + 7)));
  }
  CHECK(largest_group > 1);
  CHECK(server.stop() == 0);
}
