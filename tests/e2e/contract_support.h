// Helpers shared by the end-to-end contract tests (tests/e2e/contract_*_test.cpp), which drive
// a real sync-server over WebSocket and HTTP: reading replies as JSON, making HLCs, record ids
// and messages, and opening a session. What only one test file needs stays in that file.
#pragma once

#include <cereal/archives/json.hpp>  // RapidJSON, with cereal's throwing RAPIDJSON_ASSERT

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>

#include "server_process.h"
#include "ws_test_client.h"

namespace contract_test {

using test_support::ServerProcess;
using test_support::WsTestClient;

// ---- Reading replies ----

// `text` as a JSON document; an empty object when absent or not a JSON object.
inline rapidjson::Document parse(const std::optional<std::string>& text) {
  rapidjson::Document document;
  if (!text || document.Parse(text->c_str(), text->size()).HasParseError() || !document.IsObject()) {
    document.SetObject();
  }
  return document;
}

// String member `name`; "<absent>", "<null>" or "<not a string>" when there is no string.
inline std::string str(const rapidjson::Value& object, const char* name) {
  const auto member = object.FindMember(name);
  if (member == object.MemberEnd()) return "<absent>";
  if (!member->value.IsString()) return member->value.IsNull() ? "<null>" : "<not a string>";
  return {member->value.GetString(), member->value.GetStringLength()};
}

// Integer member `name`; nullopt when absent or not an integer.
inline std::optional<std::int64_t> num(const rapidjson::Value& object, const char* name) {
  const auto member = object.FindMember(name);
  if (member == object.MemberEnd() || !member->value.IsInt64()) return std::nullopt;
  return member->value.GetInt64();
}

// Boolean member `name`; nullopt when absent or not a boolean.
inline std::optional<bool> flag(const rapidjson::Value& object, const char* name) {
  const auto member = object.FindMember(name);
  if (member == object.MemberEnd() || !member->value.IsBool()) return std::nullopt;
  return member->value.GetBool();
}

// The integer at a path of object members ("visits", "by_status", "completed"); -1 when absent.
inline std::int64_t at(const rapidjson::Value& root, std::initializer_list<const char*> path) {
  const rapidjson::Value* value = &root;
  for (const char* name : path) {
    if (!value->IsObject() || !value->HasMember(name)) return -1;
    value = &(*value)[name];
  }
  return value->IsInt64() ? value->GetInt64() : -1;
}

// ---- Building messages ----

// An HLC `offset` from now (protocol.md §3.5: 15-digit unix ms, '-', 5-digit counter).
inline std::string hlc(std::chrono::milliseconds offset = {}, int counter = 0) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::system_clock::now().time_since_epoch()) + offset;
  char text[32];
  std::snprintf(text, sizeof text, "%015lld-%05d", static_cast<long long>(ms.count()), counter);
  return text;
}

// An HLC for now, counter 0.
inline std::string hlc_now() { return hlc(); }

// An HLC `offset` from now whose counter goes up with every call (from any thread), so that
// of two edits within one millisecond the later one wins.
inline std::string next_hlc(std::chrono::milliseconds offset = {}) {
  static std::atomic<int> counter = 0;
  return hlc(offset, ++counter % 100000);
}

// Record id `n` (a fixed UUIDv7 prefix, `n` in the last 12 digits).
inline std::string uuid(int n) {
  char id[40];
  std::snprintf(id, sizeof id, "0192f5e4-7c1a-7d3e-9b2a-%012d", n);
  return id;
}

inline std::string hello(const std::string& device, int protocol = 1) {
  return R"({"type":"hello","protocol":)" + std::to_string(protocol) + R"(,"device_id":")" + device +
         R"(","app_version":"e2e"})";
}

// A one-change push: household `n` (a fictional address), or a change that fails validation.
inline std::string household_push(std::int64_t seq, int n, bool valid = true) {
  return R"({"type":"push","changes":[{"seq":)" + std::to_string(seq) + R"(,"entity":"household","op":"upsert","id":")" +
         uuid(n) + R"(","hlc":")" + hlc_now() + R"(","data":{"address":")" + std::to_string(n) +
         R"( Example Road","postcode":"WD6 1WA","ward":")" + (valid ? "Elstree" : "Atlantis") + R"("}}]})";
}

// ---- Sessions ----

// A WebSocket session after hello; fails the test when the upgrade or the hello fails.
inline std::unique_ptr<WsTestClient> join(const ServerProcess& server, const std::string& device,
                                          const std::string& token) {
  auto client = std::make_unique<WsTestClient>();
  REQUIRE(client->connect(server.port(), token).ok);
  REQUIRE(str(parse(client->request(R"({"type":"hello","protocol":1,"device_id":")" + device + R"("})")), "type") ==
          "welcome");
  return client;
}

}  // namespace contract_test
