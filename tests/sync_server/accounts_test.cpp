// Coordinators' accounts managed from the dashboard (server_store.h, account_admin.cpp): on
// both backends, as every store test.
#include <catch2/catch.hpp>

#include "audit_entries.h"
#include "store_fixture.h"
#include "sync_server/audit.h"

using namespace store_test;
using sync_server::Actor;
using sync_server::AuditLog;

namespace {

constexpr const char* kAnnPassword = "correct horse battery staple";
constexpr const char* kBobPassword = "another long passphrase here";

Actor dashboard(const std::string& name) { return Actor{name, "dashboard", "192.0.2.10"}; }

// A session cookie for `username`; REQUIRES the password is right.
std::string logged_in(ServerStore& store, const std::string& username, const std::string& password) {
  const auto login = store.log_in({username, password, "192.0.2.10", false});
  REQUIRE(login.outcome == ServerStore::Login::Outcome::ok);
  return login.session_token;
}

std::optional<ServerStore::Account> account(ServerStore& store, const std::string& username) {
  for (auto& found : store.accounts()) {
    if (found.username == username) return found;
  }
  return std::nullopt;
}

}  // namespace

// Why: a coordinator who leaves must lose the dashboard at once, not when their session expires.
TEST_CASE("a disabled account cannot log in and its sessions end at once", "[accounts]") {
  StoreFixture fixture;
  auto& store = fixture.store();
  REQUIRE(store.add_coordinator("coord.ann", kAnnPassword).ok());
  REQUIRE(store.create_account("coord.bob", kBobPassword, dashboard("coord.ann")).ok());
  const auto bob_session = logged_in(store, "coord.bob", kBobPassword);
  REQUIRE(store.web_session(bob_session).has_value());
  CHECK(account(store, "coord.bob")->sessions == 1);

  REQUIRE(store.set_account_enabled("coord.bob", false, dashboard("coord.ann")).ok());
  CHECK_FALSE(store.web_session(bob_session).has_value());
  CHECK(store.log_in({"coord.bob", kBobPassword, "192.0.2.11", false}).outcome == ServerStore::Login::Outcome::disabled);
  CHECK(store.log_in({"coord.bob", "not the password at all", "192.0.2.11", false}).outcome ==
        ServerStore::Login::Outcome::wrong);
  const auto listed = account(store, "coord.bob");
  REQUIRE(listed.has_value());
  CHECK(listed->disabled_at == kNow);
  CHECK(listed->sessions == 0);

  SECTION("enabled again, it logs in") {
    REQUIRE(store.set_account_enabled("coord.bob", true, dashboard("coord.ann")).ok());
    CHECK_FALSE(account(store, "coord.bob")->disabled_at.has_value());
    CHECK(store.log_in({"coord.bob", kBobPassword, "192.0.2.11", false}).outcome == ServerStore::Login::Outcome::ok);
  }
  SECTION("the command line's add-coordinator enables it with a new password") {
    REQUIRE(store.add_coordinator("coord.bob", "a third long passphrase").ok());
    CHECK(store.log_in({"coord.bob", "a third long passphrase", "192.0.2.11", false}).outcome ==
          ServerStore::Login::Outcome::ok);
  }
}

// Why: without these limits one coordinator could lock everyone out, themselves included.
TEST_CASE("nobody disables their own account or the last enabled one", "[accounts]") {
  StoreFixture fixture;
  auto& store = fixture.store();
  REQUIRE(store.add_coordinator("coord.ann", kAnnPassword).ok());
  REQUIRE(store.create_account("coord.bob", kBobPassword, dashboard("coord.ann")).ok());

  auto own = store.set_account_enabled("coord.ann", false, dashboard("coord.ann"));
  REQUIRE_FALSE(own.ok());
  CHECK(own.error().code == "forbidden");
  CHECK_FALSE(account(store, "coord.ann")->disabled_at.has_value());

  REQUIRE(store.set_account_enabled("coord.bob", false, dashboard("coord.ann")).ok());
  // coord.ann is now the only enabled account: even another (for example the command line) may not disable it.
  auto last = store.set_account_enabled("coord.ann", false, dashboard("cli:root"));
  REQUIRE_FALSE(last.ok());
  CHECK(last.error().code == "forbidden");
  CHECK(last.error().message.find("last enabled") != std::string::npos);
  CHECK_FALSE(account(store, "coord.ann")->disabled_at.has_value());

  auto missing = store.set_account_enabled("coord.nobody", false, dashboard("coord.ann"));
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().code == "not_found");

  // The refusals are in the trail with their outcome, the change with ok.
  const auto disabled = entries_of(store, sync_server::kAuditAccountDisable);  // newest first
  REQUIRE(disabled.size() == 4);
  CHECK(disabled[0].entry.outcome == "not_found");
  CHECK(disabled[1].entry.outcome == "forbidden");
  CHECK(disabled[1].entry.username == "coord.ann");
  CHECK(disabled[2].entry.outcome == "ok");
  CHECK(disabled[2].entry.username == "coord.bob");
  CHECK(disabled[2].entry.actor.name == "coord.ann");
  CHECK(disabled[3].entry.outcome == "forbidden");
}

TEST_CASE("a new account needs a free, well-formed username and an acceptable password", "[accounts]") {
  StoreFixture fixture;
  auto& store = fixture.store();
  REQUIRE(store.add_coordinator("coord.ann", kAnnPassword).ok());
  const auto by = dashboard("coord.ann");

  auto taken = store.create_account("coord.ann", kBobPassword, by);
  REQUIRE_FALSE(taken.ok());
  CHECK(taken.error().code == "exists");
  // The existing account keeps its password.
  CHECK(store.log_in({"coord.ann", kAnnPassword, "192.0.2.10", false}).outcome == ServerStore::Login::Outcome::ok);

  auto short_password = store.create_account("coord.bob", "too short", by);
  REQUIRE_FALSE(short_password.ok());
  CHECK(short_password.error().field == "password");
  auto common = store.create_account("coord.bob", "Password1234!", by);
  REQUIRE_FALSE(common.ok());
  CHECK(common.error().field == "password");
  auto bad_name = store.create_account("coord bob", kBobPassword, by);
  REQUIRE_FALSE(bad_name.ok());
  CHECK(bad_name.error().field == "username");
  CHECK_FALSE(account(store, "coord.bob").has_value());

  REQUIRE(store.create_account("coord.bob", kBobPassword, by).ok());
  CHECK(store.log_in({"coord.bob", kBobPassword, "192.0.2.10", false}).outcome == ServerStore::Login::Outcome::ok);
  const auto added = entries_of(store, sync_server::kAuditAccountAdd);
  REQUIRE(added.size() >= 2);
  CHECK(added[0].entry.username == "coord.bob");
  CHECK(added[0].entry.outcome == "ok");
  CHECK(added[1].entry.outcome == "exists");
}

// Why: a reset is what a coordinator asks for when a password may be known to someone else;
// a session opened with the old one must not outlive it.
TEST_CASE("a password reset ends every session of that account, and only of that account", "[accounts]") {
  StoreFixture fixture;
  auto& store = fixture.store();
  REQUIRE(store.add_coordinator("coord.ann", kAnnPassword).ok());
  REQUIRE(store.create_account("coord.bob", kBobPassword, dashboard("coord.ann")).ok());
  const auto ann_session = logged_in(store, "coord.ann", kAnnPassword);
  const auto bob_first = logged_in(store, "coord.bob", kBobPassword);
  const auto bob_second = logged_in(store, "coord.bob", kBobPassword);

  REQUIRE(store.reset_password("coord.bob", "a brand new passphrase", dashboard("coord.ann")).ok());
  CHECK_FALSE(store.web_session(bob_first).has_value());
  CHECK_FALSE(store.web_session(bob_second).has_value());
  CHECK(store.web_session(ann_session).has_value());
  CHECK(store.log_in({"coord.bob", kBobPassword, "192.0.2.12", false}).outcome == ServerStore::Login::Outcome::wrong);
  CHECK(store.log_in({"coord.bob", "a brand new passphrase", "192.0.2.12", false}).outcome ==
        ServerStore::Login::Outcome::ok);

  const auto resets = entries_of(store, sync_server::kAuditPasswordReset);
  REQUIRE(resets.size() == 1);
  CHECK(resets[0].entry.username == "coord.bob");
  CHECK(resets[0].entry.detail == "sessions ended=2");

  auto own = store.reset_password("coord.ann", "a brand new passphrase", dashboard("coord.ann"));
  REQUIRE_FALSE(own.ok());
  CHECK(own.error().code == "forbidden");
  auto weak = store.reset_password("coord.bob", "short", dashboard("coord.ann"));
  REQUIRE_FALSE(weak.ok());
  CHECK(weak.error().code == "invalid");

  // No password is in the trail, in any form.
  std::string csv;
  AuditLog(store).csv({}, [&csv](std::string_view piece) { csv += piece; });
  CHECK(csv.find("passphrase") == std::string::npos);
  CHECK(csv.find("battery") == std::string::npos);
  CHECK(AuditLog(store).verify().intact);
}

TEST_CASE("changing one's own password needs the current one and ends one's other sessions", "[accounts]") {
  StoreFixture fixture;
  auto& store = fixture.store();
  REQUIRE(store.add_coordinator("coord.ann", kAnnPassword).ok());
  REQUIRE(store.create_account("coord.bob", kBobPassword, dashboard("coord.ann")).ok());
  const auto here = logged_in(store, "coord.ann", kAnnPassword);
  const auto elsewhere = logged_in(store, "coord.ann", kAnnPassword);
  const auto bob = logged_in(store, "coord.bob", kBobPassword);

  auto wrong = store.change_own_password("not my password at all", "a brand new passphrase", here, dashboard("coord.ann"));
  REQUIRE_FALSE(wrong.ok());
  CHECK(wrong.error().code == "wrong_password");
  CHECK(store.web_session(elsewhere).has_value());
  CHECK(store.log_in({"coord.ann", kAnnPassword, "192.0.2.13", false}).outcome == ServerStore::Login::Outcome::ok);

  auto weak = store.change_own_password(kAnnPassword, "password", here, dashboard("coord.ann"));
  REQUIRE_FALSE(weak.ok());
  CHECK(weak.error().field == "new_password");

  REQUIRE(store.change_own_password(kAnnPassword, "a brand new passphrase", here, dashboard("coord.ann")).ok());
  CHECK(store.web_session(here).has_value());
  CHECK_FALSE(store.web_session(elsewhere).has_value());
  CHECK(store.web_session(bob).has_value());
  CHECK(store.log_in({"coord.ann", "a brand new passphrase", "192.0.2.13", false}).outcome ==
        ServerStore::Login::Outcome::ok);

  const auto changes = entries_of(store, sync_server::kAuditPasswordChange);  // newest first
  REQUIRE(changes.size() >= 3);
  CHECK(changes[0].entry.outcome == "ok");
  CHECK(changes[0].entry.username == "coord.ann");
  CHECK(changes[1].entry.outcome == "invalid");
  CHECK(changes[2].entry.outcome == "wrong_password");
}

// Why: a session left open on a shared computer must not let a stranger guess the password
// faster than the login would.
TEST_CASE("wrong current passwords lock the change as failed logins do", "[accounts]") {
  StoreFixture fixture;
  auto& store = fixture.store();
  REQUIRE(store.add_coordinator("coord.ann", kAnnPassword).ok());
  const auto here = logged_in(store, "coord.ann", kAnnPassword);
  for (int attempt = 0; attempt < 5; ++attempt) {
    auto wrong = store.change_own_password("a wrong guess " + std::to_string(attempt), "a brand new passphrase", here,
                                           dashboard("coord.ann"));
    REQUIRE_FALSE(wrong.ok());
    CHECK(wrong.error().code == "wrong_password");
  }
  auto locked = store.change_own_password(kAnnPassword, "a brand new passphrase", here, dashboard("coord.ann"));
  REQUIRE_FALSE(locked.ok());
  CHECK(locked.error().code == "locked");
  fixture.now += 16 * 60'000;
  REQUIRE(store.change_own_password(kAnnPassword, "a brand new passphrase", here, dashboard("coord.ann")).ok());
}
