// Regression tests for store bugs found by the first review; each is named after its bug.
#include <catch2/catch.hpp>

#include "store_fixture.h"

using namespace store_test;

namespace {

const std::string kHeader = "id,address,postcode,ward,target,assigned_to\n";

}  // namespace

// Bug (fixed): import_households (sync-server/src/store/import.cpp) stamps its rows with an HlcClock
// seeded from the greatest HLC ever applied and then applies them through apply_change,
// which checks them against the one-hour clock_skew rule meant for tablets. A device version
// stamped at the very limit (allowed), whose counter is 99999, forces the next tick one
// millisecond past it, and the whole import fails with "check the tablet's clock".
TEST_CASE("import after a device version at the clock-skew limit succeeds", "[regression][csv][import]") {
  StoreFixture fixture;
  auto tablet = fixture.enroll("coord-tablet", "coord.cat", Role::coordinator);
  REQUIRE(fixture.push(tablet, upsert(uuid(1), household(), Hlc{kNow + kHour, 99'999})).rejected.empty());
  const auto imported = fixture.store().import_households(kHeader + uuid(1) + ",1 Example Road,WD6 1WA,Shenley,1,\n");
  INFO((imported.ok() ? "" : imported.error().message));
  CHECK(imported.ok());
}

// The same bug, more likely in practice: a tablet 59 minutes fast pushes (allowed), then the
// server's clock is corrected back by two minutes. Importing even a brand-new household now
// fails, because every imported row is stamped after the greatest HLC ever seen.
TEST_CASE("import after the server clock was corrected backwards succeeds", "[regression][csv][import]") {
  StoreFixture fixture;
  auto tablet = fixture.enroll("coord-tablet", "coord.cat", Role::coordinator);
  REQUIRE(fixture.push(tablet, upsert(uuid(1), household(), Hlc{kNow + 59 * 60'000, 0})).rejected.empty());
  fixture.now = kNow - 2 * 60'000;
  const auto imported = fixture.store().import_households(kHeader + uuid(2) + ",2 Example Road,WD6 1WA,Shenley,1,\n");
  INFO((imported.ok() ? "" : imported.error().message));
  CHECK(imported.ok());
}
