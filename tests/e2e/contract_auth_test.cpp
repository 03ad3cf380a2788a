// protocol.md §1 (transport) over the wire, against the real sync-server: who may upgrade, how
// tokens are stored, the 1 MiB message bound, and binary frames.
#include "contract_support.h"

#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace {

using namespace std::chrono_literals;
using namespace contract_test;

// `message` (a JSON object) padded with spaces before its closing brace to exactly `size` bytes.
std::string padded_to(const std::string& message, std::size_t size) {
  REQUIRE(message.size() < size);
  REQUIRE(message.back() == '}');
  return message.substr(0, message.size() - 1) + std::string(size - message.size(), ' ') + "}";
}

std::string file_bytes(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  std::stringstream bytes;
  bytes << file.rdbuf();
  return bytes.str();
}

constexpr std::size_t kOneMiB = 1'048'576;

}  // namespace

TEST_CASE("an upgrade without a token or with an unknown token gets 401 and no WebSocket", "[e2e][contract][auth]") {
  // protocol.md §1: only enrolled devices may open the sync socket, and refusal is a plain HTTP 401.
  ServerProcess server;
  server.start();
  const auto token = server.enroll("tab-ann-1", "officer.ann", "officer");

  WsTestClient anonymous;
  const auto no_header = anonymous.connect(server.port(), "");
  CHECK_FALSE(no_header.ok);
  CHECK(no_header.http_status == 401);

  WsTestClient guesser;
  const auto unknown = guesser.connect(server.port(), "f3a9c1d2e4b5a6978877665544332211");
  CHECK_FALSE(unknown.ok);
  CHECK(unknown.http_status == 401);

  WsTestClient truncated;  // a prefix of a real token is not that token
  const auto prefix = truncated.connect(server.port(), token.substr(0, token.size() / 2));
  CHECK_FALSE(prefix.ok);
  CHECK(prefix.http_status == 401);

  WsTestClient enrolled;
  const auto valid = enrolled.connect(server.port(), token);  // at /v1/sync, the path of protocol.md §1.1
  CHECK(valid.ok);
  CHECK(str(parse(enrolled.request(hello("tab-ann-1"))), "type") == "welcome");
}

TEST_CASE("a revoked token gets 401 where it was upgraded before", "[e2e][contract][auth]") {
  // protocol.md §1 and §8: revoking a lost tablet must lock it out at the next handshake.
  ServerProcess server;
  server.start();
  const auto token = server.enroll("tab-ann-1", "officer.ann", "officer");
  const auto other = server.enroll("tab-bob-1", "officer.bob", "officer");
  {
    WsTestClient before;
    CHECK(before.connect(server.port(), token).ok);
    before.close();
  }
  const auto revoke = server.admin({"revoke", "--device", "tab-ann-1"});
  REQUIRE(revoke.exit_code == 0);

  WsTestClient after;
  const auto refused = after.connect(server.port(), token);
  CHECK_FALSE(refused.ok);
  CHECK(refused.http_status == 401);
  WsTestClient bystander;  // revoking one device leaves the others alone
  CHECK(bystander.connect(server.port(), other).ok);
}

TEST_CASE("the server stores only a hash of each token", "[e2e][contract][auth][sqlite-only]") {
  // protocol.md §1: a copy of the database must not hand out working tokens.
  ServerProcess server;
  server.start();
  const auto token = server.enroll("tab-ann-1", "officer.ann", "officer");
  REQUIRE(token.size() >= 16);
  WsTestClient client;  // the token works, so the server can check it from what it stores
  REQUIRE(client.connect(server.port(), token).ok);
  client.close();
  REQUIRE(server.stop() == 0);
  for (const auto& suffix : {"", "-wal", "-shm", "-journal"}) {
    const std::string path = server.db_path() + suffix;
    if (!std::filesystem::exists(path)) continue;
    INFO(path);
    CHECK(file_bytes(path).find(token) == std::string::npos);
  }
  CHECK(file_bytes(server.db_path()).find("tab-ann-1") != std::string::npos);  // the search does see text
}

TEST_CASE("a text frame of exactly 1 MiB is answered and one byte more closes with 1009", "[e2e][contract][auth][size]") {
  // protocol.md §1 and §9: the message bound is exact, and exceeding it closes with 1009.
  ServerProcess server;
  server.start();
  const auto token = server.enroll("tab-cat-1", "coord.cat", "coordinator");
  WsTestClient client;
  REQUIRE(client.connect(server.port(), token).ok);
  REQUIRE(str(parse(client.request(hello("tab-cat-1"))), "type") == "welcome");

  const auto largest = padded_to(household_push(1, 1), kOneMiB);
  REQUIRE(largest.size() == kOneMiB);
  const auto ack = parse(client.request(largest));
  CHECK(str(ack, "type") == "ack");
  CHECK(num(ack, "acked_seq") == 1);

  const auto too_large = padded_to(household_push(2, 2), kOneMiB + 1);
  REQUIRE(too_large.size() == kOneMiB + 1);
  client.send(too_large);  // the server may close before it has read all of it
  CHECK_FALSE(client.receive(5s).has_value());
  CHECK(client.close_code() == 1009);

  WsTestClient again;  // and the oversized push changed nothing
  REQUIRE(again.connect(server.port(), token).ok);
  CHECK(num(parse(again.request(hello("tab-cat-1"))), "acked_seq") == 1);
}

TEST_CASE("a binary frame gets bad_message and the connection stays usable", "[e2e][contract][auth]") {
  // protocol.md §1 and §6: messages are JSON text frames; a binary one is an error the device survives.
  ServerProcess server;
  server.start();
  const auto token = server.enroll("tab-cat-1", "coord.cat", "coordinator");
  WsTestClient client;
  REQUIRE(client.connect(server.port(), token).ok);
  REQUIRE(str(parse(client.request(hello("tab-cat-1"))), "type") == "welcome");

  REQUIRE(client.send_binary(household_push(1, 1)));  // valid JSON, but in a binary frame
  const auto error = parse(client.receive());
  CHECK(str(error, "type") == "error");
  CHECK(str(error, "code") == "bad_message");
  CHECK(flag(error, "fatal") == false);

  const auto ack = parse(client.request(household_push(1, 1)));
  CHECK(str(ack, "type") == "ack");
  CHECK(num(ack, "acked_seq") == 1);  // the binary push was not applied: seq 1 was still free
}
