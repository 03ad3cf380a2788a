// The app PIN of the versions before the PIN became the store's key (issue 14): a store that
// had one must not open without it after the upgrade (legacy_store.h builds one).
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "field_client/field_client.h"
#include "field_client/pin_guard.h"
#include "field_client/store.h"
#include "legacy_store.h"
#include "process.h"
#include "raw_bytes.h"
#include "safer/sqlite.h"
#include "temp_dir.h"

namespace {

using field_client::Store;

constexpr const char* kAddress = test_support::kOldStoreAddress;
constexpr const char* kHousehold = test_support::kOldStoreHousehold;
using test_support::kOldPin;
using test_support::make_old_store;

const field_client::PinPolicy kNoWaits{100, std::chrono::milliseconds(0), std::chrono::milliseconds(0)};

bool has_old_pin(const std::string& path) {
  safer::sqlite::Database db(path);
  safer::sqlite::Statement read(db.handle(), "SELECT count(*) FROM meta WHERE key IN ('pin', 'pin_attempts')");
  return read.step() && read.column_int(0) > 0;
}

}  // namespace

// Why: client migration 5 used to delete the old PIN's hash, so an upgraded tablet opened
// with no PIN at all. Without the fix, the first Store::open below succeeds.
TEST_CASE("a store with the old app PIN opens only with that PIN, which then encrypts it", "[store][legacy-pin]") {
  test_support::TempDir dir;
  const auto path = dir.file("tablet.db");
  make_old_store(path);

  const auto plain = Store::open(path);
  REQUIRE_FALSE(plain);
  CHECK(plain.error().code == "locked");
  CHECK(plain.error().field == "pin");
  CHECK(plain.error().message.find("earlier version") != std::string::npos);
  CHECK(has_old_pin(path));  // the upgrade kept it

  const auto wrong = field_client::unlock_store(path, "000000", kNoWaits);
  REQUIRE_FALSE(wrong);
  CHECK(wrong.error().code == "wrong_pin");
  CHECK(wrong.error().message.find("9 more") != std::string::npos);  // counted toward the limit of 10
  CHECK_FALSE(Store::is_encrypted(path));

  {
    auto store = field_client::unlock_store(path, kOldPin, kNoWaits);
    INFO((store ? "" : store.error().message));
    REQUIRE(store);
    CHECK((*store)->encrypted());
    const auto household = (*store)->get(safer::Entity::household, kHousehold).value();
    CHECK(std::get<safer::Household>(*household.data).address == kAddress);
    CHECK((*store)->outbox()->size() == 1);  // the unsynced change survived
  }
  CHECK(Store::is_encrypted(path));
  const auto key_file = field_client::read_key_file(path).value();
  REQUIRE(key_file);
  CHECK(key_file->failures == 0);
  CHECK(key_file->max_attempts == 10);
  CHECK(Store::open(path).error().code == "locked");             // now as any encrypted store
  CHECK(field_client::unlock_store(path, kOldPin, kNoWaits));    // the same PIN is its key
  CHECK(test_support::files_containing(dir.path(), kAddress).empty());
  CHECK(test_support::files_containing(dir.path(), "541045c0a1184901").empty());  // the old hash is gone
}

TEST_CASE("wrong old PINs count toward the limit, and the last one wipes the store", "[store][legacy-pin]") {
  test_support::TempDir dir;
  const auto path = dir.file("tablet.db");
  SECTION("the 10th wrong PIN in a row") { make_old_store(path, "9 0 0"); }
  SECTION("a store the earlier version had locked out is at the limit") { make_old_store(path, "4 0 1"); }
  const auto wiped = field_client::unlock_store(path, "000000", kNoWaits);
  REQUIRE_FALSE(wiped);
  CHECK(wiped.error().code == "wiped");
  CHECK(test_support::file_names_in(dir.path()).empty());
}

TEST_CASE("the command line and the C API ask for the old PIN, and it encrypts the store", "[cli][c-api][legacy-pin]") {
  test_support::TempDir dir;
  const auto path = dir.file("tablet.db");
  make_old_store(path);
  const auto cli = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {FIELD_CLIENT_BINARY, "--store", path});
    auto result = test_support::run_process(args);
    REQUIRE_FALSE(result.timed_out);
    return result;
  };

  const auto without = cli({"list"});
  CHECK(without.exit_code == 3);
  CHECK(without.err.find("earlier version") != std::string::npos);
  CHECK(without.err.find("--pin-file") != std::string::npos);
  CHECK(without.out.find(kAddress) == std::string::npos);

  fc_store* store = nullptr;
  char* error = nullptr;
  CHECK(fc_open(path.c_str(), &store, &error) == FC_LOCKED);
  CHECK(store == nullptr);
  fc_free(error);

  SECTION("the command line") {
    const auto pin_file = dir.file("pin.txt");
    std::ofstream(pin_file) << kOldPin << "\n";
    const auto with = cli({"--pin-file", pin_file, "list", "households"});
    INFO(with.err);
    CHECK(with.exit_code == 0);
    CHECK(with.out.find(kAddress) != std::string::npos);
  }
  SECTION("enrolling with the PIN on standard input, read once for both the old lock and the key") {
    const auto enrolled = test_support::run_process(
        {FIELD_CLIENT_BINARY, "--store", path, "--pin-file", "-", "enroll", "--server", "ws://127.0.0.1:9", "--token",
         "fictional-token-0123456789"},
        {.input = std::string(kOldPin) + "\n"});
    INFO(enrolled.err);
    REQUIRE_FALSE(enrolled.timed_out);
    CHECK(enrolled.exit_code == 0);
    CHECK(enrolled.err.find("no PIN") == std::string::npos);
  }
  SECTION("the C API") {
    REQUIRE(fc_open_with_key(path.c_str(), kOldPin, &store, nullptr) == FC_OK);
    fc_close(store);
  }
  CHECK(Store::is_encrypted(path));
  CHECK(cli({"list"}).exit_code == 3);
}
