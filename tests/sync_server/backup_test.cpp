// The store's readiness (GET /readyz) and its online backup (sync-server backup): a copy that
// is private, never over another file, consistent, and opens as the same store.
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "audit_entries.h"
#include "safer/pg.h"
#include "safer/sqlite.h"
#include "store_fixture.h"
#include "sync_server/backup.h"

using namespace store_test;

namespace {

const sync_server::Actor kOperator{"cli:operator", "cli", "local"};

struct Filled {
  StoreFixture fixture;
  Device coordinator = fixture.enroll("coord-tablet", "coord.cat", Role::coordinator);
  Filled() {
    Visit noted = visit(uuid(1));
    noted.notes = "Fictional note";
    REQUIRE(fixture.push(coordinator, {upsert(uuid(1), household("Elstree"), hlc(1)), upsert(uuid(2), household("Shenley"), hlc(2)),
                                       upsert(uuid(11), noted, hlc(3)), remove(Entity::visit, uuid(11), hlc(4))})
                .rejected.empty());
  }
};

}  // namespace

TEST_CASE("a store is ready when its database answers at the schema this program knows", "[ready]") {
  Filled filled;
  REQUIRE(filled.fixture.store().ready().ok());
  if (test_support::testing_postgresql()) {
    safer::pg::Connection(filled.fixture.path()).exec("INSERT INTO schema_version (number) VALUES (999)");
  } else {
    safer::sqlite::Database(filled.fixture.path()).exec("PRAGMA user_version = 999");
  }
  const auto moved_on = filled.fixture.store().ready();
  REQUIRE_FALSE(moved_on.ok());
  CHECK(moved_on.error().code == "not_ready");
  CHECK_THAT(moved_on.error().message, Catch::StartsWith("the database's schema is at version 999, not the "));
  CHECK_THAT(moved_on.error().message, !Catch::Contains(filled.fixture.path()));
}

TEST_CASE("a backup is a private, checked copy that opens as the same store", "[backup][sqlite-only]") {
  if (test_support::testing_postgresql()) return;  // pg_dump's work there (below)
  Filled filled;
  const std::string file = filled.fixture.dir().file("copy.db");
  const auto copied = sync_server::Backup(filled.fixture.store()).to(file, kOperator);
  REQUIRE(copied.ok());
  CHECK(copied->records == 3);  // two households and a visit's tombstone
  CHECK(copied->devices == 1);
  CHECK(copied->bytes == static_cast<std::int64_t>(std::filesystem::file_size(file)));
  struct stat info{};
  REQUIRE(::stat(file.c_str(), &info) == 0);
  CHECK((info.st_mode & 0777) == 0600);

  // Opened as a store, it holds what the original holds, and the device carries on from it.
  auto restored = filled.fixture.open_store(file);
  const auto held = server_records(*restored), original = server_records(filled.fixture.store());
  REQUIRE(held.size() == original.size());
  for (const auto& [key, pulled] : original) {
    CHECK(held.at(key).change == pulled.change);
    CHECK(held.at(key).device_id == pulled.device_id);
  }
  CHECK(restored->stats(std::nullopt, std::nullopt) == filled.fixture.store().stats(std::nullopt, std::nullopt));
  REQUIRE(restored->ready().ok());

  const auto entries = entries_of(filled.fixture.store(), sync_server::kAuditBackup);
  REQUIRE(entries.size() == 1);
  CHECK(entries[0].entry.actor.name == "cli:operator");
  CHECK(entries[0].entry.detail == "bytes=" + std::to_string(copied->bytes) + " records=3 devices=1 schema=" +
                                       std::to_string(copied->schema_version));
}

TEST_CASE("a backup never overwrites a file and says where it cannot write", "[backup][sqlite-only]") {
  if (test_support::testing_postgresql()) return;
  Filled filled;
  const std::string existing = filled.fixture.dir().file("existing.db");
  std::ofstream(existing) << "an earlier backup";
  const auto refused = sync_server::Backup(filled.fixture.store()).to(existing, kOperator);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().code == "invalid");
  CHECK(refused.error().message == "--to " + existing + " already exists: a backup never overwrites one");
  std::ifstream kept(existing);
  CHECK(std::string(std::istreambuf_iterator<char>(kept), {}) == "an earlier backup");

  const std::string nowhere = filled.fixture.dir().file("no/such/dir/copy.db");
  const auto no_dir = sync_server::Backup(filled.fixture.store()).to(nowhere, kOperator);
  REQUIRE_FALSE(no_dir.ok());
  CHECK(no_dir.error().code == "invalid");
  CHECK_THAT(no_dir.error().message, Catch::StartsWith("cannot create --to " + nowhere + ": "));
  CHECK(entries_of(filled.fixture.store(), sync_server::kAuditBackup).empty());
}

TEST_CASE("a PostgreSQL store is not copied by backup, which names pg_dump", "[backup]") {
  if (!test_support::testing_postgresql()) return;
  Filled filled;
  test_support::TempDir dir;
  const auto refused = sync_server::Backup(filled.fixture.store()).to(dir.file("copy.db"), kOperator);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().code == "unsupported");
  CHECK_THAT(refused.error().message, Catch::Contains("pg_dump"));
  CHECK_FALSE(std::filesystem::exists(dir.file("copy.db")));
}
