// Enrolment codes (enrolment_codes.h, protocol.md §8.1): issued for one device, redeemed once,
// before they expire, for that device's token; refused with their reason otherwise.
#include <catch2/catch.hpp>

#include <set>

#include "net/enrolment.h"
#include "store_fixture.h"
#include "sync_server/audit.h"
#include "sync_server/enrolment_codes.h"

using namespace store_test;
using sync_server::EnrolmentCodes;
using sync_server::kEnrolmentCodeLifetime;

namespace {

const sync_server::Actor kCoordinator{"coord.eve", "dashboard", "127.0.0.1"};
const sync_server::Actor kTablet{"", "enrolment_code", "192.0.2.7"};
constexpr std::int64_t kLifetimeMs = std::chrono::duration_cast<std::chrono::milliseconds>(kEnrolmentCodeLifetime).count();

std::string issue(StoreFixture& fixture, const std::string& device = "tablet-nia", const std::string& user = "officer.nia") {
  auto issued = EnrolmentCodes(fixture.store()).issue(device, user, Role::officer, kCoordinator);
  INFO((issued.ok() ? "" : issued.error().message));
  REQUIRE(issued.ok());
  CHECK(issued->expires_at == fixture.now + kLifetimeMs);
  return issued->code;
}

std::vector<sync_server::AuditRecord> audit_of(StoreFixture& fixture, const char* action) {
  sync_server::AuditFilter filter;
  filter.action = action;
  auto listed = sync_server::AuditLog(fixture.store()).list(filter);
  REQUIRE(listed.ok());
  return *listed;
}

}  // namespace

TEST_CASE("an enrolment code is ten letters and digits from an alphabet without look-alikes", "[enrolment]") {
  StoreFixture fixture;
  std::set<std::string> seen;
  for (int i = 0; i < 50; ++i) {
    const auto code = issue(fixture);
    REQUIRE(code.size() == 11);
    CHECK(code[5] == '-');
    for (std::size_t at = 0; at < code.size(); ++at) {
      if (at == 5) continue;
      CHECK(sync_server::kEnrolmentCodeAlphabet.find(code[at]) != std::string_view::npos);
    }
    seen.insert(code);
  }
  CHECK(seen.size() == 50);
}

TEST_CASE("normalise_enrolment_code takes a code however it is typed, and nothing else", "[enrolment]") {
  using sync_server::normalise_enrolment_code;
  CHECK(normalise_enrolment_code("ABCDE-FGHJK") == "ABCDEFGHJK");
  CHECK(normalise_enrolment_code("abcde fghjk") == "ABCDEFGHJK");
  CHECK(normalise_enrolment_code(" a-b-c-d-e-f-g-h-j-k ") == "ABCDEFGHJK");
  CHECK_FALSE(normalise_enrolment_code("ABCDE-FGHJ"));     // 9
  CHECK_FALSE(normalise_enrolment_code("ABCDE-FGHJKM"));   // 11
  CHECK_FALSE(normalise_enrolment_code("ABCDE-FGHJ0"));    // 0 is not in the alphabet (nor O, 1, I, L, U)
  CHECK_FALSE(normalise_enrolment_code("ABCDE-FGHJI"));
  CHECK_FALSE(normalise_enrolment_code("ABCDE_FGHJK"));
  CHECK_FALSE(normalise_enrolment_code(""));
  CHECK_FALSE(normalise_enrolment_code(std::string(65, '-') + "ABCDEFGHJK"));
}

TEST_CASE("a code enrols its device once, with a token that then authenticates it", "[enrolment]") {
  StoreFixture fixture;
  const auto code = issue(fixture);
  // Nothing is enrolled until a tablet redeems the code.
  CHECK_FALSE(fixture.store().device("tablet-nia").has_value());

  auto enrolment = EnrolmentCodes(fixture.store()).redeem(code, kTablet);
  REQUIRE(enrolment.ok());
  CHECK(enrolment->identity.device_id == "tablet-nia");
  CHECK(enrolment->identity.user_id == "officer.nia");
  CHECK(enrolment->identity.role == Role::officer);
  const auto device = fixture.store().authenticate(enrolment->token);
  REQUIRE(device.has_value());
  CHECK(device->identity.device_id == "tablet-nia");

  auto again = EnrolmentCodes(fixture.store()).redeem(code, kTablet);
  REQUIRE_FALSE(again.ok());
  CHECK(again.error().code == "used");
  CHECK(again.error().field == "code");
  // The first token still works: a refused redemption changes nothing.
  CHECK(fixture.store().authenticate(enrolment->token).has_value());

  // Audited: the code, by the coordinator; the enrolment, from the tablet's address.
  const auto issued = audit_of(fixture, sync_server::kAuditEnrolmentCode);
  REQUIRE(issued.size() == 1);
  CHECK(issued[0].entry.actor.name == "coord.eve");
  CHECK(issued[0].entry.device == "tablet-nia");
  CHECK(issued[0].entry.username == "officer.nia");
  const auto enrolled = audit_of(fixture, sync_server::kAuditEnroll);
  REQUIRE(enrolled.size() == 1);
  CHECK(enrolled[0].entry.actor.via == "enrolment_code");
  CHECK(enrolled[0].entry.actor.address == "192.0.2.7");
  CHECK(enrolled[0].entry.detail == "role=officer by_code");
}

TEST_CASE("a code works until the last millisecond before it expires, and not at it", "[enrolment]") {
  StoreFixture fixture;
  const auto late = issue(fixture, "tablet-a", "officer.a");
  const auto expired = issue(fixture, "tablet-b", "officer.b");
  fixture.now += kLifetimeMs - 1;
  CHECK(EnrolmentCodes(fixture.store()).redeem(late, kTablet).ok());
  fixture.now += 1;
  auto refused = EnrolmentCodes(fixture.store()).redeem(expired, kTablet);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().code == "expired");
  CHECK(refused.error().message.find("10 minutes") != std::string::npos);
  CHECK_FALSE(fixture.store().device("tablet-b").has_value());
}

TEST_CASE("a code never issued, or not a code at all, is refused with its reason", "[enrolment]") {
  StoreFixture fixture;
  issue(fixture);
  auto unknown = EnrolmentCodes(fixture.store()).redeem("ZZZZZ-ZZZZZ", kTablet);
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.error().code == "not_found");
  auto malformed = EnrolmentCodes(fixture.store()).redeem("sst_not-a-code", kTablet);
  REQUIRE_FALSE(malformed.ok());
  CHECK(malformed.error().code == "invalid");
  CHECK(malformed.error().field == "code");
  CHECK(malformed.error().message.find("sst_") == std::string::npos);  // what was sent is not echoed
}

TEST_CASE("a code for a device already enrolled replaces its token only when redeemed", "[enrolment]") {
  StoreFixture fixture;
  const auto old_token = fixture.store().enroll("tablet-nia", "officer.nia", Role::officer);
  REQUIRE(old_token.ok());
  const auto code = issue(fixture, "tablet-nia", "officer.nia");
  CHECK(fixture.store().authenticate(*old_token).has_value());
  auto enrolment = EnrolmentCodes(fixture.store()).redeem(code, kTablet);
  REQUIRE(enrolment.ok());
  CHECK_FALSE(fixture.store().authenticate(*old_token).has_value());
  CHECK(fixture.store().authenticate(enrolment->token).has_value());
}

TEST_CASE("issuing refuses bad ids, and forgets codes expired for more than a day", "[enrolment]") {
  StoreFixture fixture;
  auto bad_device = EnrolmentCodes(fixture.store()).issue("tablet nia", "officer.nia", Role::officer, kCoordinator);
  REQUIRE_FALSE(bad_device.ok());
  CHECK(bad_device.error().field == "device");
  auto bad_user = EnrolmentCodes(fixture.store()).issue("tablet-nia", "", Role::officer, kCoordinator);
  REQUIRE_FALSE(bad_user.ok());
  CHECK(bad_user.error().field == "user");
  CHECK(audit_of(fixture, sync_server::kAuditEnrolmentCode).empty());

  const auto old_code = issue(fixture, "tablet-a", "officer.a");
  fixture.now += kLifetimeMs + kDay;  // expired a day ago exactly: kept (it says "expired")
  issue(fixture, "tablet-b", "officer.b");
  auto kept = EnrolmentCodes(fixture.store()).redeem(old_code, kTablet);
  REQUIRE_FALSE(kept.ok());
  CHECK(kept.error().code == "expired");
  fixture.now += 1;  // more than a day: the next issue deletes it
  issue(fixture, "tablet-c", "officer.c");
  auto gone = EnrolmentCodes(fixture.store()).redeem(old_code, kTablet);
  REQUIRE_FALSE(gone.ok());
  CHECK(gone.error().code == "not_found");
}

TEST_CASE("the QR code's payload names the server and the code", "[enrolment]") {
  CHECK(sync_server::enrolment_payload("wss://sync.example.org:8443", "ABCDE-FGHJK") ==
        "safer-streets:enrol?server=wss%3A%2F%2Fsync.example.org%3A8443&code=ABCDE-FGHJK");
  const auto qr = sync_server::net::qr_json("safer-streets:enrol?server=ws%3A%2F%2F127.0.0.1%3A8080&code=ABCDE-FGHJK");
  // {"size": N, "rows": ["0101…", …]}: N rows of N modules, with the finder patterns (seven
  // dark modules across) in the top-left, top-right and bottom-left corners.
  std::vector<std::string> rows;
  for (auto at = qr.find("[\""); at != std::string::npos && qr[at] != ']';) {
    const auto start = qr.find('"', at) + 1;
    const auto end = qr.find('"', start);
    rows.push_back(qr.substr(start, end - start));
    at = end + 1;
  }
  REQUIRE(rows.size() >= 21);
  CHECK(qr.find("\"size\":" + std::to_string(rows.size())) != std::string::npos);
  for (const auto& row : rows) CHECK(row.size() == rows.size());
  CHECK(rows.front().substr(0, 7) == "1111111");
  CHECK(rows.front().substr(rows.size() - 7) == "1111111");
  CHECK(rows.back().substr(0, 7) == "1111111");
  CHECK(rows.back().substr(rows.size() - 7) != "1111111");
}
