// Record ids are chosen offline by devices: they must be canonical (protocol.md §3) and UUIDv7
// ids must keep increasing, also when a tablet's clock steps back.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "safer/uuid.h"

using safer::is_canonical_uuid;
using safer::UuidV7Generator;

namespace {

// The 48-bit Unix-millisecond prefix of a UUIDv7, read back from its hex digits.
std::int64_t timestamp_of(const std::string& uuid) {
  const std::string hex = uuid.substr(0, 8) + uuid.substr(9, 4);
  return static_cast<std::int64_t>(std::stoull(hex, nullptr, 16));
}

int hex_value(char c) { return (c >= '0' && c <= '9') ? c - '0' : c - 'a' + 10; }

}  // namespace

TEST_CASE("canonical UUIDs are 8-4-4-4-12 lowercase hex digits", "[uuid]") {
  CHECK(is_canonical_uuid("0192f5e4-7c1a-7d3e-9b2a-4c5d6e7f8a9b"));
  CHECK(is_canonical_uuid("00000000-0000-0000-0000-000000000000"));
  CHECK(is_canonical_uuid("ffffffff-ffff-ffff-ffff-ffffffffffff"));
  // Any valid UUID from another client is accepted, whatever its version.
  CHECK(is_canonical_uuid("6f1c2a9e-3b4d-4e5f-8a6b-7c8d9e0f1a2b"));
}

TEST_CASE("non-canonical UUIDs are refused", "[uuid]") {
  SECTION("upper case") {
    CHECK_FALSE(is_canonical_uuid("0192F5E4-7C1A-7D3E-9B2A-4C5D6E7F8A9B"));
    CHECK_FALSE(is_canonical_uuid("0192f5e4-7c1a-7d3e-9b2a-4c5d6e7f8a9B"));
  }
  SECTION("wrong lengths") {
    CHECK_FALSE(is_canonical_uuid(""));
    CHECK_FALSE(is_canonical_uuid("0192f5e4-7c1a-7d3e-9b2a-4c5d6e7f8a9"));
    CHECK_FALSE(is_canonical_uuid("0192f5e4-7c1a-7d3e-9b2a-4c5d6e7f8a9bb"));
    CHECK_FALSE(is_canonical_uuid("{0192f5e4-7c1a-7d3e-9b2a-4c5d6e7f8a9b}"));
  }
  SECTION("missing or misplaced dashes") {
    CHECK_FALSE(is_canonical_uuid("0192f5e47c1a7d3e9b2a4c5d6e7f8a9b"));
    CHECK_FALSE(is_canonical_uuid("0192f5e4a7c1a-7d3e-9b2a-4c5d6e7f8a9b"));
    CHECK_FALSE(is_canonical_uuid("0192f5e-47c1a-7d3e-9b2a-4c5d6e7f8a9b"));
    CHECK_FALSE(is_canonical_uuid("0192f5e4-7c1a-7d3e-9b2a4-c5d6e7f8a9b"));
    CHECK_FALSE(is_canonical_uuid("0192f5e4_7c1a_7d3e_9b2a_4c5d6e7f8a9b"));
  }
  SECTION("characters that are not hex digits") {
    CHECK_FALSE(is_canonical_uuid("0192f5e4-7c1a-7d3e-9b2a-4c5d6e7f8a9g"));
    CHECK_FALSE(is_canonical_uuid("z192f5e4-7c1a-7d3e-9b2a-4c5d6e7f8a9b"));
    CHECK_FALSE(is_canonical_uuid("0192f5e4-7c1a-7d3e-9b2a-4c5d6e7f8a9 "));
    CHECK_FALSE(is_canonical_uuid("0192f5e4-7c1a-7d3e-9b2a-4c5d6e7f8a-b"));
  }
}

TEST_CASE("UUIDv7 ids carry version 7 and variant 10", "[uuid]") {
  UuidV7Generator generator([] { return std::int64_t{1'764'149'400'000}; });
  int failures = 0;
  for (int i = 0; i < 1000; ++i) {
    const std::string id = generator.next();
    const bool good = is_canonical_uuid(id) && id[14] == '7' &&
                      (hex_value(id[19]) & 0xC) == 0x8;  // variant: binary 10xx
    if (!good && failures++ == 0) FAIL_CHECK("bad version or variant: " << id);
  }
  CHECK(failures == 0);
  const std::string id = generator.next();
  CHECK(id[14] == '7');
  CHECK((hex_value(id[19]) & 0xC) == 0x8);
}

TEST_CASE("UUIDv7 timestamp prefix is the wall clock's millisecond", "[uuid]") {
  std::int64_t now = 1'764'149'400'000;  // 2025-11-26T09:30:00Z
  UuidV7Generator generator([&now] { return now; });
  CHECK(timestamp_of(generator.next()) == now);
  now += 1;
  CHECK(timestamp_of(generator.next()) == now);
  now += 3'600'000;
  CHECK(timestamp_of(generator.next()) == now);
  now = 0;  // the epoch itself, far behind: the prefix stays where it was
  CHECK(timestamp_of(generator.next()) == 1'764'149'400'001 + 3'600'000);
}

TEST_CASE("UUIDv7 ids increase strictly within one millisecond", "[uuid]") {
  UuidV7Generator generator([] { return std::int64_t{1'764'149'400'000}; });
  std::string previous = generator.next();
  bool increasing = true;
  for (int i = 0; i < 100'000 && increasing; ++i) {
    const std::string id = generator.next();
    if (!(previous < id)) {
      increasing = false;
      INFO(previous << " then " << id);
      CHECK(previous < id);
    }
    previous = id;
  }
  CHECK(increasing);
  CHECK(timestamp_of(previous) == 1'764'149'400'000);
}

TEST_CASE("UUIDv7 ids keep increasing when the wall clock steps back or stalls", "[uuid]") {
  std::int64_t now = 1'764'149'400'000;
  std::int64_t step = 0;
  // Mostly forwards, with an hour's step back every 1000 ids and stalls in between.
  UuidV7Generator generator([&] {
    ++step;
    if (step % 1000 == 0) now -= 3'600'000;
    else if (step % 3 == 0) now += 1;
    return now;
  });
  std::string previous = generator.next();
  int failures = 0;
  for (int i = 0; i < 100'000; ++i) {
    const std::string id = generator.next();
    if (!(previous < id)) ++failures;
    previous = id;
  }
  CHECK(failures == 0);
}

TEST_CASE("UUIDv7 ids from the system clock are canonical and increasing", "[uuid]") {
  UuidV7Generator generator;
  std::string previous = generator.next();
  int failures = 0;
  for (int i = 0; i < 10'000; ++i) {
    const std::string id = generator.next();
    if (!is_canonical_uuid(id) || !(previous < id)) ++failures;
    previous = id;
  }
  CHECK(failures == 0);
  const std::string a = safer::new_uuid_v7();
  const std::string b = safer::new_uuid_v7();
  CHECK(is_canonical_uuid(a));
  CHECK(a[14] == '7');
  CHECK(a < b);
}

TEST_CASE("two generators in the same millisecond make different ids", "[uuid]") {
  // Random bits, not only the clock, keep two devices' ids apart.
  const auto clock = [] { return std::int64_t{1'764'149'400'000}; };
  UuidV7Generator first(clock);
  UuidV7Generator second(clock);
  CHECK(first.next() != second.next());
}

TEST_CASE("one generator shared by threads never repeats an id", "[uuid]") {
  UuidV7Generator generator([] { return std::int64_t{1'764'149'400'000}; });
  constexpr int kThreads = 4;
  constexpr int kPerThread = 5'000;
  std::vector<std::vector<std::string>> made(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&generator, &made, t] {
      for (int i = 0; i < kPerThread; ++i) made[static_cast<std::size_t>(t)].push_back(generator.next());
    });
  }
  for (auto& thread : threads) thread.join();
  std::set<std::string> unique;
  for (const auto& list : made) {
    // Each thread sees its own ids in increasing order.
    CHECK(std::is_sorted(list.begin(), list.end()));
    unique.insert(list.begin(), list.end());
  }
  CHECK(unique.size() == static_cast<std::size_t>(kThreads * kPerThread));
}
