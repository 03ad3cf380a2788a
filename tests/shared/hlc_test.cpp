// The hybrid logical clock decides which edit wins (protocol.md §3): its wire form must compare
// as a string and its ticks must never go backwards, whatever the tablet's wall clock does.
#include <catch2/catch.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "safer/hlc.h"

using safer::Hlc;
using safer::HlcClock;

namespace {

constexpr std::int64_t kNow = 1'764'149'400'000;  // 2025-11-26T09:30:00Z
constexpr std::int64_t kHour = 3'600'000;

// Ticks `count` times and checks that each tick is greater than the one before.
void require_strictly_increasing(HlcClock& clock, int count) {
  Hlc previous = clock.last();
  for (int i = 0; i < count; ++i) {
    const Hlc next = clock.tick();
    if (!(previous < next) || !(previous.to_string() < next.to_string())) {
      INFO("tick " << i << ": " << previous.to_string() << " then " << next.to_string());
      REQUIRE(previous < next);
      REQUIRE(previous.to_string() < next.to_string());
    }
    previous = next;
  }
  CHECK(previous == clock.last());
}

}  // namespace

TEST_CASE("HLC wire form is 15 digits, a dash and 5 digits", "[hlc]") {
  CHECK(Hlc{1'764'149'400'000, 3}.to_string() == "001764149400000-00003");
  CHECK(Hlc{0, 0}.to_string() == "000000000000000-00000");
  CHECK(Hlc{Hlc::kMaxMillis, Hlc::kMaxCounter}.to_string() == "999999999999999-99999");
}

TEST_CASE("HLC parse and format round trip", "[hlc]") {
  for (const char* text : {"001764149400000-00003", "000000000000000-00000",
                           "999999999999999-99999", "000000000000001-10000"}) {
    const auto parsed = Hlc::parse(text);
    INFO(text);
    REQUIRE(parsed.has_value());
    CHECK(parsed->to_string() == text);
  }
  const auto parsed = Hlc::parse("001764149400000-00003");
  REQUIRE(parsed);
  CHECK(parsed->millis == 1'764'149'400'000);
  CHECK(parsed->counter == 3u);
}

TEST_CASE("HLC parse refuses anything but the exact wire form", "[hlc]") {
  for (const char* text : {
           "",                         // empty
           "01764149400000-00003",     // 14-digit millis
           "0001764149400000-00003",   // 16-digit millis
           "001764149400000-0003",     // 4-digit counter
           "001764149400000-000003",   // 6-digit counter
           "001764149400000_00003",    // wrong separator
           "00176414940000000003",     // no separator
           "001764149400000-0000a",    // non-digit counter
           "00176414940000x-00003",    // non-digit millis
           "+01764149400000-00003",    // sign
           "-01764149400000-00003",    // sign
           "001764149400000-+0003",    // sign in counter
           " 01764149400000-00003",    // space
           "001764149400000-00003 ",   // trailing space
           "1764149400000-3",          // unpadded
       }) {
    INFO("'" << text << "'");
    CHECK_FALSE(Hlc::parse(text).has_value());
  }
}

TEST_CASE("HLC string order equals HLC order", "[hlc]") {
  const std::vector<Hlc> values{
      {0, 0},         {0, 1},         {0, 99'999},        {1, 0},
      {9, 5},         {10, 0},        {kNow, 0},          {kNow, 9},
      {kNow, 10},     {kNow + 1, 0},  {Hlc::kMaxMillis, 0}, {Hlc::kMaxMillis, 99'999}};
  for (std::size_t i = 0; i < values.size(); ++i) {
    for (std::size_t j = 0; j < values.size(); ++j) {
      INFO(values[i].to_string() << " vs " << values[j].to_string());
      CHECK((values[i] < values[j]) == (values[i].to_string() < values[j].to_string()));
      CHECK((values[i] == values[j]) == (i == j));
    }
  }
  // Millis dominate the counter.
  CHECK(Hlc{kNow, 99'999} < Hlc{kNow + 1, 0});
}

TEST_CASE("HLC ticks follow a wall clock that moves forward", "[hlc]") {
  std::int64_t now = kNow;
  HlcClock clock([&now] { return now; });
  CHECK(clock.tick() == Hlc{kNow, 0});
  now += 5;
  CHECK(clock.tick() == Hlc{kNow + 5, 0});
  now += kHour;  // a jump forward is taken as it is
  CHECK(clock.tick() == Hlc{kNow + 5 + kHour, 0});
  CHECK(clock.last() == Hlc{kNow + 5 + kHour, 0});
}

TEST_CASE("HLC ticks increase strictly when the wall clock stalls", "[hlc]") {
  HlcClock clock([] { return kNow; });
  CHECK(clock.tick() == Hlc{kNow, 0});
  CHECK(clock.tick() == Hlc{kNow, 1});
  CHECK(clock.tick() == Hlc{kNow, 2});
  require_strictly_increasing(clock, 10'000);
}

TEST_CASE("HLC ticks increase strictly when the wall clock steps back an hour", "[hlc]") {
  std::int64_t now = kNow;
  HlcClock clock([&now] { return now; });
  const Hlc before = clock.tick();
  now -= kHour;
  const Hlc after = clock.tick();
  CHECK(before < after);
  CHECK(after == Hlc{kNow, 1});  // stays on the greater time, counting up
  // Until the wall clock catches up, ticks keep counting on the old time.
  now += kHour - 1;
  CHECK(clock.tick() == Hlc{kNow, 2});
  now += 2;
  CHECK(clock.tick() == Hlc{kNow + 1, 0});
}

TEST_CASE("HLC ticks increase strictly under an erratic wall clock", "[hlc]") {
  std::int64_t now = kNow;
  int step = 0;
  HlcClock clock([&] {
    ++step;
    if (step % 97 == 0) now -= kHour;       // step back
    else if (step % 89 == 0) now += kHour;  // jump forward
    else if (step % 2 == 0) now += 1;       // otherwise advance or stall
    return now;
  });
  require_strictly_increasing(clock, 20'000);
}

TEST_CASE("HLC counter overflow borrows the next millisecond", "[hlc]") {
  HlcClock clock([] { return kNow; }, Hlc{kNow, Hlc::kMaxCounter - 1});
  CHECK(clock.tick() == Hlc{kNow, Hlc::kMaxCounter});
  const Hlc borrowed = clock.tick();
  CHECK(borrowed == Hlc{kNow + 1, 0});
  CHECK(borrowed.to_string() == "001764149400001-00000");
  // The wall clock is now behind the clock: it counts on from the borrowed millisecond.
  CHECK(clock.tick() == Hlc{kNow + 1, 1});
}

TEST_CASE("HLC ticks stay greater than an observed remote timestamp", "[hlc]") {
  HlcClock clock([] { return kNow; });
  clock.tick();
  SECTION("a remote from the future") {
    const Hlc remote{kNow + kHour, 42};
    clock.observe(remote);
    CHECK(clock.last() == remote);
    const Hlc next = clock.tick();
    CHECK(remote < next);
    CHECK(next == Hlc{kNow + kHour, 43});
    require_strictly_increasing(clock, 100);
  }
  SECTION("a remote at the end of its millisecond's counter") {
    const Hlc remote{kNow + 10, Hlc::kMaxCounter};
    clock.observe(remote);
    CHECK(clock.tick() == Hlc{kNow + 11, 0});
  }
  SECTION("a remote in the same millisecond with a greater counter") {
    const Hlc remote{kNow, 9};
    clock.observe(remote);
    CHECK(clock.last() == remote);
    CHECK(clock.tick() == Hlc{kNow, 10});
  }
  SECTION("a remote from the past changes nothing") {
    const Hlc last = clock.last();
    clock.observe(Hlc{kNow - kHour, 99});
    CHECK(clock.last() == last);
    CHECK(clock.tick() == Hlc{kNow, last.counter + 1});
  }
  SECTION("the same remote observed twice") {
    const Hlc remote{kNow + 1, 7};
    clock.observe(remote);
    clock.observe(remote);
    CHECK(clock.tick() == Hlc{kNow + 1, 8});
  }
}

TEST_CASE("HLC restarted from a persisted last timestamp stays monotonic", "[hlc]") {
  std::int64_t now = kNow;
  Hlc persisted;
  {
    HlcClock first_run([&now] { return now; });
    for (int i = 0; i < 5; ++i) first_run.tick();
    persisted = first_run.last();
    CHECK(persisted == Hlc{kNow, 4});
  }
  SECTION("with the wall clock set back after the restart") {
    now -= kHour;
    HlcClock second_run([&now] { return now; }, persisted);
    CHECK(second_run.last() == persisted);
    const Hlc next = second_run.tick();
    CHECK(persisted < next);
    CHECK(next == Hlc{kNow, 5});
  }
  SECTION("with the persisted text parsed back") {
    const auto parsed = Hlc::parse(persisted.to_string());
    REQUIRE(parsed);
    HlcClock second_run([&now] { return now; }, *parsed);
    CHECK(persisted < second_run.tick());
  }
  SECTION("with the wall clock ahead: the wall clock wins") {
    now += 1000;
    HlcClock second_run([&now] { return now; }, persisted);
    CHECK(second_run.tick() == Hlc{kNow + 1000, 0});
  }
}
