// The login rate limits (sync-server/src/net/login_limits.h) and the password rules
// (password.h) on their own, with a hand-driven clock: no network, no waiting.
#include <catch2/catch.hpp>

#include <string>

#include "net/login_limits.h"
#include "sync_server/password.h"

using sync_server::LoginSettings;
using sync_server::net::LoginLimits;
using namespace std::chrono_literals;

namespace {

LoginSettings settings(double per_address_per_minute, double per_second, std::size_t max_addresses = 10'000) {
  LoginSettings limits;
  limits.per_address_per_minute = per_address_per_minute;
  limits.per_second = per_second;
  limits.max_addresses = max_addresses;
  return limits;
}

}  // namespace

TEST_CASE("one address gets its burst, then waits for its rate - other addresses are not affected", "[login]") {
  LoginLimits limits(settings(6, 1000));  // 6 at once, then one every 10 s
  const auto now = LoginLimits::Clock::now();
  for (int i = 0; i < 6; ++i) CHECK(limits.admit("192.0.2.1", false, now) == 0);
  const auto wait = limits.admit("192.0.2.1", false, now);
  CHECK(wait >= 9);
  CHECK(wait <= 10);
  CHECK(limits.admit("192.0.2.2", false, now) == 0);
  CHECK(limits.admit("192.0.2.1", false, now + 10s) == 0);  // one more after 10 s
  CHECK(limits.admit("192.0.2.1", false, now + 10s) > 0);
}

TEST_CASE("the global limit holds many addresses back, but not a trusted device", "[login]") {
  LoginLimits limits(settings(100, 1));  // 2 at once from everywhere, then one a second
  const auto now = LoginLimits::Clock::now();
  CHECK(limits.admit("192.0.2.1", false, now) == 0);
  CHECK(limits.admit("192.0.2.2", false, now) == 0);
  CHECK(limits.admit("192.0.2.3", false, now) == 1);
  CHECK(limits.admit("192.0.2.4", true, now) == 0);
  CHECK(limits.admit("192.0.2.3", false, now + 1s) == 0);
}

TEST_CASE("the table of addresses stays bounded, forgetting the least recent first", "[login]") {
  LoginLimits limits(settings(1, 100000, 100));  // one attempt per address, then a minute's wait
  const auto now = LoginLimits::Clock::now();
  for (int i = 0; i < 5000; ++i) limits.admit("10.0." + std::to_string(i / 256) + "." + std::to_string(i % 256), false, now);
  CHECK(limits.addresses() == 100);

  LoginLimits small(settings(1, 100000, 2));
  CHECK(small.admit("192.0.2.1", false, now) == 0);
  CHECK(small.admit("192.0.2.2", false, now) == 0);
  CHECK(small.admit("192.0.2.1", false, now) > 0);  // remembered, and now the most recent
  CHECK(small.admit("192.0.2.3", false, now) == 0);  // forgets 192.0.2.2, the least recent
  CHECK(small.admit("192.0.2.1", false, now) > 0);
  CHECK(small.admit("192.0.2.2", false, now) == 0);  // forgotten, so admitted afresh
}

TEST_CASE("common passwords are refused, with their digits and punctuation at the end - the demo's is not", "[login]") {
  for (const char* common : {"password", "Password1234!", "saferstreets", "SaferStreets2026", "qwertyuiop123",
                             "123456789012", "12345678", "iloveyou!!!!"}) {
    INFO(common);
    CHECK(sync_server::is_common_password(common));
  }
  for (const char* fine : {"safer-streets-demo", "Lantern-Harbour-Quartz-7319", "correct horse battery"}) {
    INFO(fine);
    CHECK_FALSE(sync_server::is_common_password(fine));
    CHECK_FALSE(sync_server::password_problem(fine));
  }
  CHECK(sync_server::password_problem("short")->find("12") != std::string::npos);
  CHECK(sync_server::password_problem("saferstreets2026")->find("common") != std::string::npos);
}

TEST_CASE("hashes carry their parameters: an older one verifies and asks to be replaced", "[login]") {
  const std::string old_hash =
      "scrypt$15$8$1$000102030405060708090a0b0c0d0e0f$03fa12bc9423a8b3ae8d5b46a87a65133c266200c4d5d5466b002893d53d043d";
  CHECK(sync_server::verify_password("Lantern-Harbour-Quartz-7319", old_hash));
  CHECK_FALSE(sync_server::verify_password("Lantern-Harbour-Quartz-7318", old_hash));
  CHECK(sync_server::needs_rehash(old_hash));
  const auto current = sync_server::hash_password("Lantern-Harbour-Quartz-7319");
  CHECK(current.rfind("scrypt$17$8$1$", 0) == 0);
  CHECK_FALSE(sync_server::needs_rehash(current));
  CHECK(sync_server::verify_password("Lantern-Harbour-Quartz-7319", current));
  CHECK_FALSE(sync_server::verify_password("x", "scrypt$30$8$1$00$00"));  // too costly a stored hash never runs
}
