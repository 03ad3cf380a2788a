// The harness of the fault-injection tests (faults_exactly_once_test.cpp): tablets driven
// through the real field-client binary, a fleet that records and syncs at random, and the
// exactly-once check that compares every tablet's records and the server's, and their stats.
#pragma once

#include <catch2/catch.hpp>

#include <cereal/archives/json.hpp>  // RapidJSON, configured as cereal configures it

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <thread>

#include "process.h"
#include "server_process.h"
#include "tcp_proxy.h"
#include "temp_dir.h"
#include "ws_test_client.h"

namespace faults_test {

using namespace std::chrono_literals;
using test_support::ServerProcess;
using test_support::TcpProxy;
using Clock = std::chrono::steady_clock;

class Problems {
 public:
  void add(std::string problem) {
    std::lock_guard lock(mutex_);
    list_.push_back(std::move(problem));
  }
  // Every problem, one a line: "" when there is none (CHECK(text() == "") shows them all).
  std::string text() const {
    std::lock_guard lock(mutex_);
    std::string all;
    for (const auto& problem : list_) all += problem + "\n";
    return all;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<std::string> list_;
};

inline std::uint64_t test_seed() {
  if (const char* fixed = std::getenv("FAULTS_SEED")) return std::strtoull(fixed, nullptr, 10);
  return std::random_device{}();
}

inline int pick(std::mt19937_64& random, int low, int high) { return std::uniform_int_distribution<int>(low, high)(random); }

inline std::optional<rapidjson::Document> parse(const std::string& text) {
  rapidjson::Document document;
  document.Parse(text.c_str());
  if (document.HasParseError()) return std::nullopt;
  return document;
}

// JSON with object members in name order, so that equal values have equal text.
inline void canonical(const rapidjson::Value& value, std::string& out) {
  if (value.IsObject()) {
    std::vector<std::string> names;
    for (const auto& member : value.GetObject()) names.emplace_back(member.name.GetString());
    std::sort(names.begin(), names.end());
    out += '{';
    for (std::size_t i = 0; i < names.size(); ++i) {
      out += (i ? ",\"" : "\"") + names[i] + "\":";
      canonical(value[names[i].c_str()], out);
    }
    out += '}';
  } else if (value.IsArray()) {
    out += '[';
    for (rapidjson::SizeType i = 0; i < value.Size(); ++i) {
      if (i) out += ',';
      canonical(value[i], out);
    }
    out += ']';
  } else {
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
    value.Accept(writer);
    out += buffer.GetString();
  }
}

// One record's winning version, as a tablet or the server holds it.
struct Version {
  std::string hlc, device_id;
  bool deleted = false;
  std::string data;  // canonical JSON; empty when deleted
  bool operator==(const Version&) const = default;
};
using Records = std::map<std::string, Version>;  // "entity/id" -> version

inline Version version_of(const rapidjson::Value& record, bool deleted) {
  std::string data;
  if (!deleted) {
    rapidjson::Document copy;
    copy.CopyFrom(record["data"], copy.GetAllocator());
    // An officer's tablet leaves out the server-owned household fields: their defaults (§9).
    if (std::string(record["entity"].GetString()) == "household") {
      if (!copy.HasMember("target")) copy.AddMember("target", false, copy.GetAllocator());
      if (!copy.HasMember("assigned_to")) copy.AddMember("assigned_to", rapidjson::Value(), copy.GetAllocator());
    }
    canonical(copy, data);
  }
  return {record["hlc"].GetString(), record["device_id"].GetString(), deleted, data};
}

const char* const kStatuses[] = {"completed", "no_answer", "declined", "rescheduled"};
const char* const kOutcomes[] = {"crime_prevention_advice", "fire_safety_check", "healthy_lifestyle_advice",
                                 "community_involvement_info", "first_aid_training", "follow_up_required"};
const char* const kStations[] = {"Potters Bar", "Elstree & Borehamwood", "Radlett"};

// An officer's tablet: a field-client store driven through the real binary. One thread at a time.
class Tablet {
 public:
  Tablet(std::string store, int number) : store_(std::move(store)), user_("officer." + std::to_string(number)) {}

  test_support::ProcessResult run(std::vector<std::string> args) const {
    args.insert(args.begin(), {FIELD_CLIENT_BINARY, "--store", store_, "--json"});
    test_support::ProcessOptions options;
    options.deadline = 20s;
    return test_support::run_process(args, options);
  }

  // Runs a command that must succeed and parses its output; a failure becomes a problem.
  std::optional<rapidjson::Document> ok(const std::vector<std::string>& args, Problems& problems) const {
    const auto result = run(args);
    auto document = parse(result.out);
    if (result.exit_code != 0 || !document) {
      std::string command;
      for (const auto& arg : args) command += " " + arg;
      problems.add(user_ + ": field-client" + command + " failed (exit " + std::to_string(result.exit_code) +
                   "): " + result.err + result.out);
    }
    return result.exit_code == 0 ? std::move(document) : std::nullopt;
  }

  // Enrols the tablet's own device id as its officer's, at `url`, and adds its household.
  void set_up(const ServerProcess& server, const std::string& url, Problems& problems) {
    if (auto status = ok({"status"}, problems)) device_id_ = (*status)["device_id"].GetString();
    ok({"enroll", "--server", url, "--token", server.enroll(device_id_, user_, "officer")}, problems);
    auto household = ok({"household", "add", "--address", "9 Fictional Row", "--postcode", "wd6 1wa", "--ward",
                         "Elstree"}, problems);
    if (household) household_ = (*household)["id"].GetString();
  }

  bool sync() const { return run({"sync", "--timeout", "2"}).exit_code == 0; }

  long pending(Problems& problems) const {
    auto status = ok({"status"}, problems);
    if (!status) return -1;
    if ((*status)["rejected"].GetInt() != 0) problems.add(user_ + ": the server rejected a change");
    return (*status)["pending"].GetInt();
  }

  // One random change: mostly new visits, some commute sessions, edits and deletes of visits.
  void record_random(std::mt19937_64& random, Problems& problems) {
    const int dice = pick(random, 1, 100);
    const auto chosen = static_cast<std::size_t>(pick(random, 0, std::max(0, static_cast<int>(visits_.size()) - 1)));
    if (dice <= 10) {
      ok({"commute", "log", "--station", kStations[pick(random, 0, 2)], "--cards", std::to_string(pick(random, 0, 60))},
         problems);
    } else if (dice <= 20 && !visits_.empty()) {
      const auto& [id, completed] = visits_[chosen];
      std::vector<std::string> args = {"visit", "update", id, "--notes", "Edited " + std::to_string(dice)};
      if (completed) args.insert(args.end(), {"--smoke-detectors", std::to_string(pick(random, 0, 4))});
      ok(args, problems);
    } else if (dice <= 25 && !visits_.empty()) {
      if (ok({"visit", "delete", visits_[chosen].first}, problems)) {
        visits_.erase(visits_.begin() + static_cast<std::ptrdiff_t>(chosen));
      }
    } else {
      const std::string status = kStatuses[pick(random, 0, 7) % 4];  // completed half the time
      std::vector<std::string> args = {"visit", "record", "--household", household_, "--status", status};
      if (status == "completed") {
        for (std::string outcome : kOutcomes) {
          std::replace(outcome.begin(), outcome.end(), '_', '-');
          if (pick(random, 0, 1)) args.push_back("--" + outcome);
        }
        if (args.back() == "--follow-up-required") args.insert(args.end(), {"--follow-up-due", "2026-12-18"});
        args.insert(args.end(), {"--smoke-detectors", std::to_string(pick(random, 0, 3))});
      }
      if (status == "rescheduled") args.insert(args.end(), {"--rescheduled-for", "2026-12-01T18:30"});
      if (auto visit = ok(args, problems)) visits_.emplace_back((*visit)["id"].GetString(), status == "completed");
    }
  }

  // The records this tablet wrote, deleted ones included.
  Records records(Problems& problems) const {
    Records records;
    for (const char* kind : {"household", "visit", "commute"}) {
      auto list = ok({kind, "list", "--deleted"}, problems);
      if (!list) continue;
      for (const auto& record : list->GetArray()) {
        if (record["device_id"].GetString() != device_id_) continue;
        const std::string key = std::string(record["entity"].GetString()) + "/" + record["id"].GetString();
        records[key] = version_of(record, record["deleted"].GetBool());
      }
    }
    return records;
  }

 private:
  std::string store_, user_, device_id_, household_;
  std::vector<std::pair<std::string, bool>> visits_;  // live visits: id, completed
};

using Tablets = std::vector<std::unique_ptr<Tablet>>;

// `count` tablets, set up side by side (each on its own thread: a fleet of 20 takes no longer
// to enrol than a few).
inline Tablets make_tablets(const test_support::TempDir& dir, int count, const ServerProcess& server, const std::string& url,
                     Problems& problems) {
  Tablets tablets;
  for (int i = 1; i <= count; ++i) {
    tablets.push_back(std::make_unique<Tablet>(dir.file("tablet" + std::to_string(i) + ".db"), i));
  }
  std::vector<std::thread> threads;
  for (const auto& tablet : tablets) {
    threads.emplace_back([&, tablet = tablet.get()] {
      try {
        tablet->set_up(server, url, problems);
      } catch (const std::exception& failure) {  // from ServerProcess::enroll
        problems.add(std::string("setting up a tablet failed: ") + failure.what());
      }
    });
  }
  for (auto& thread : threads) thread.join();
  return tablets;
}

// Each tablet, on its own thread, records a random number of changes in [min, max], running
// `sync` (which the faults may break) after every few; then syncs until nothing is pending.
inline void run_fleet(const Tablets& tablets, int min_changes, int max_changes, std::uint64_t seed, Problems& problems) {
  const auto deadline = Clock::now() + 60s;
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < tablets.size(); ++i) {
    threads.emplace_back([&, i, tablet = tablets[i].get()] {
      std::mt19937_64 random(seed + i);
      const int changes = pick(random, min_changes, max_changes);
      int until_sync = pick(random, 1, 12);
      for (int change = 0; change < changes; ++change) {
        tablet->record_random(random, problems);
        if (--until_sync > 0) continue;
        tablet->sync();
        until_sync = pick(random, 1, 12);
      }
      while (tablet->pending(problems) > 0) {
        if (Clock::now() > deadline) return problems.add("changes still pending after 60 s");
        if (!tablet->sync()) std::this_thread::sleep_for(50ms);
      }
    });
  }
  for (auto& thread : threads) thread.join();
}

// Everything the server holds, pulled as a coordinator straight from the server (no proxy).
inline Records server_records(unsigned short port, const std::string& token, Problems& problems) {
  Records records;
  test_support::WsTestClient client;
  if (!client.connect(port, token).ok) return problems.add("the coordinator cannot connect"), records;
  client.request(R"({"type":"hello","protocol":1,"device_id":"coord-faults","app_version":"faults"})");
  std::string cursor;
  for (bool more = true; more;) {
    auto reply = client.request(R"({"type":"pull","limit":1000,"cursor":")" + cursor + "\"}");
    auto page = reply ? parse(*reply) : std::nullopt;
    if (!page || !page->HasMember("changes")) return problems.add("pull failed: " + reply.value_or("-")), records;
    for (const auto& change : (*page)["changes"].GetArray()) {
      const std::string key = std::string(change["entity"].GetString()) + "/" + change["id"].GetString();
      const Version version = version_of(change, std::string(change["op"].GetString()) == "delete");
      if (!records.emplace(key, version).second) problems.add("the pull returned " + key + " twice");
    }
    cursor = (*page)["cursor"].GetString();
    more = (*page)["has_more"].GetBool();
  }
  return records;
}

using Stats = std::map<std::string, long>;

// "name=count …", so that a failed comparison shows which count is off.
inline std::string text(const Stats& stats) {
  std::string out;
  for (const auto& [name, count] : stats) out += name + "=" + std::to_string(count) + " ";
  return out;
}

// The statistics (§7, all time) that the server should show for `records`.
inline std::string stats_of(const Records& records) {
  Stats stats{{"visits", 0}, {"sessions", 0}, {"cards", 0}, {"smoke_detectors_fitted", 0}};
  for (const char* name : kStatuses) stats[name] = 0;
  for (const char* name : kOutcomes) stats[name] = 0;
  for (const auto& [key, version] : records) {
    if (version.deleted) continue;
    const auto data = parse(version.data);
    if (key.rfind("visit/", 0) == 0) {
      ++stats["visits"];
      ++stats[(*data)["status"].GetString()];
      for (const char* outcome : kOutcomes) stats[outcome] += (*data)[outcome].GetBool();
      stats["smoke_detectors_fitted"] += (*data)["smoke_detectors_fitted"].GetInt();
    } else if (key.rfind("commute_session/", 0) == 0) {
      ++stats["sessions"];
      stats["cards"] += (*data)["cards_distributed"].GetInt();
    }
  }
  return text(stats);
}

// The statistics the server shows, in the form of stats_of().
inline std::string server_stats(unsigned short port, const std::string& token, Problems& problems) {
  Stats stats;
  const auto reply = test_support::http_get(port, "/api/v1/stats", token);
  const auto body = parse(reply.body);
  if (reply.status != 200 || !body) return problems.add("stats: HTTP " + std::to_string(reply.status)), "";
  stats["visits"] = (*body)["visits"]["total"].GetInt64();
  for (const char* name : kStatuses) stats[name] = (*body)["visits"]["by_status"][name].GetInt64();
  for (const auto& outcome : (*body)["outcomes"].GetObject()) stats[outcome.name.GetString()] = outcome.value.GetInt64();
  stats["sessions"] = (*body)["commute_aware"]["sessions"].GetInt64();
  stats["cards"] = (*body)["commute_aware"]["cards_distributed"].GetInt64();
  return text(stats);
}

// The invariant: the server holds exactly the union of the tablets' records, and counts them.
inline void check_exactly_once(const ServerProcess& server, const std::string& coordinator, const Tablets& tablets) {
  Problems problems;
  Records expected;
  for (const auto& tablet : tablets) expected.merge(tablet->records(problems));
  const Records held = server_records(server.port(), coordinator, problems);
  for (const auto& [key, version] : expected) {
    const auto it = held.find(key);
    if (it == held.end()) problems.add("lost: " + key);
    if (it != held.end() && !(it->second == version)) {
      problems.add("differs: " + key + "\n  tablet " + version.hlc + " " + version.data + "\n  server " +
                   it->second.hlc + " " + it->second.data);
    }
  }
  for (const auto& [key, version] : held) {
    if (!expected.count(key)) problems.add("extra on the server: " + key);
  }
  CHECK(problems.text() == "");
  CHECK(server_stats(server.port(), coordinator, problems) == stats_of(expected));
  CHECK(expected.size() > tablets.size());  // the tablets did record something
  if (!problems.text().empty()) {
    const auto log = server.log();
    FAIL("server log tail:\n" + log.substr(log.size() > 3000 ? log.size() - 3000 : 0));
  }
}

// Resent changes that servers ignored (they were committed, but their ack was lost), by their logs.
inline long ignored_resends(const std::vector<std::unique_ptr<ServerProcess>>& servers) {
  long ignored = 0;
  for (const auto& server : servers) {
    const auto log = server->log();
    for (auto at = log.find(" ignored="); at != std::string::npos; at = log.find(" ignored=", at + 1)) {
      ignored += std::strtol(log.c_str() + at + 9, nullptr, 10);
    }
  }
  return ignored;
}

}  // namespace faults_test
