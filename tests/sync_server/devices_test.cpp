// Devices and durability (protocol.md §1, §8): tokens authenticate until revoked or replaced, only their hash is kept, and reopening keeps everything.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "faulty_vfs.h"
#include "safer/sqlite.h"
#include "store_fixture.h"
#include "sync_server/tokens.h"

using namespace store_test;

namespace {

// Every text cell of every table in the database at `path` that contains `needle`.
std::vector<std::string> cells_containing(const std::string& path, const std::string& needle) {
  safer::sqlite::Database db(path);
  std::vector<std::string> tables;
  {
    safer::sqlite::Statement list(db.handle(), "SELECT name FROM sqlite_master WHERE type = 'table'");
    while (list.step()) tables.push_back(list.column_text(0));
  }
  std::vector<std::string> found;
  for (const auto& table : tables) {
    safer::sqlite::Statement columns(db.handle(), "SELECT name FROM pragma_table_info('" + table + "')");
    while (columns.step()) {
      const std::string column = columns.column_text(0);
      safer::sqlite::Statement hits(db.handle(), "SELECT count(*) FROM \"" + table + "\" WHERE instr(CAST(\"" + column +
                                                     "\" AS TEXT), ?) > 0");
      hits.bind(1, needle);
      if (hits.step() && hits.column_int(0) > 0) found.push_back(table + "." + column);
    }
  }
  return found;
}

// Limits how far files may grow while it lives, as on a nearly full disk.
class FullDisk {
 public:
  explicit FullDisk(std::int64_t free_bytes) { test_support::faulty_vfs::set_free_space(free_bytes); }
  ~FullDisk() { test_support::faulty_vfs::set_free_space(std::nullopt); }
  FullDisk(const FullDisk&) = delete;
  FullDisk& operator=(const FullDisk&) = delete;
};

bool file_contains(const std::string& path, const std::string& needle) {
  std::ifstream file(path, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  return bytes.find(needle) != std::string::npos;
}

}  // namespace

TEST_CASE("an enrolled device's token authenticates it", "[devices]") {
  StoreFixture fixture;
  const auto token = fixture.store().enroll("ann-tablet", "officer.ann", Role::officer);
  REQUIRE(token.ok());
  CHECK(token->rfind("sst_", 0) == 0);
  CHECK(token->size() == 4 + 43);
  const auto other = fixture.store().enroll("coord-tablet", "coord.cat", Role::coordinator);
  REQUIRE(other.ok());
  CHECK(*other != *token);

  const auto device = fixture.store().authenticate(*token);
  REQUIRE(device.has_value());
  CHECK(device->identity.device_id == "ann-tablet");
  CHECK(device->identity.user_id == "officer.ann");
  CHECK(device->identity.role == Role::officer);
  CHECK_FALSE(device->revoked);
  CHECK(device->acked_seq == 0);
  const auto coordinator = fixture.store().authenticate(*other);
  REQUIRE(coordinator.has_value());
  CHECK(coordinator->identity.role == Role::coordinator);

  CHECK_FALSE(fixture.store().authenticate("sst_" + std::string(43, 'A')).has_value());
  CHECK_FALSE(fixture.store().authenticate("").has_value());
  CHECK_FALSE(fixture.store().authenticate(token->substr(0, token->size() - 1)).has_value());
  CHECK_FALSE(fixture.store().authenticate(sync_server::token_hash(*token)).has_value());
}

TEST_CASE("enroll refuses bad device and user ids", "[devices]") {
  StoreFixture fixture;
  const auto bad_device = fixture.store().enroll("ann tablet", "officer.ann", Role::officer);
  REQUIRE_FALSE(bad_device.ok());
  CHECK(bad_device.error().code == "invalid");
  const auto bad_user = fixture.store().enroll("ann-tablet", "", Role::officer);
  REQUIRE_FALSE(bad_user.ok());
  CHECK(bad_user.error().code == "invalid");
  CHECK_FALSE(fixture.store().device("ann-tablet").has_value());
}

TEST_CASE("the store keeps no token text, only its hash", "[devices][sqlite-only]") {
  StoreFixture fixture;
  const auto token = fixture.store().enroll("ann-tablet", "officer.ann", Role::officer);
  REQUIRE(token.ok());
  const auto replaced = fixture.store().enroll("ann-tablet", "officer.ann", Role::officer);
  REQUIRE(replaced.ok());
  const std::string secret = token->substr(4);  // the random part

  CHECK(cells_containing(fixture.path(), secret).empty());
  CHECK(cells_containing(fixture.path(), replaced->substr(4)).empty());
  CHECK(cells_containing(fixture.path(), sync_server::token_hash(*replaced)) == std::vector<std::string>{"devices.token_hash"});
  // Nor do the files on disk, the write-ahead log included.
  CHECK_FALSE(file_contains(fixture.path(), secret));
  CHECK_FALSE(file_contains(fixture.path() + "-wal", secret));
  CHECK_FALSE(file_contains(fixture.path() + "-wal", replaced->substr(4)));
}

TEST_CASE("a revoked device no longer authenticates", "[devices]") {
  StoreFixture fixture;
  const auto token = fixture.store().enroll("ann-tablet", "officer.ann", Role::officer);
  const auto kept = fixture.store().enroll("bob-tablet", "officer.bob", Role::officer);
  REQUIRE(token.ok());
  REQUIRE(kept.ok());
  REQUIRE(fixture.store().revoke("ann-tablet").ok());
  CHECK_FALSE(fixture.store().authenticate(*token).has_value());
  CHECK(fixture.store().authenticate(*kept).has_value());
  const auto record = fixture.store().device("ann-tablet");
  REQUIRE(record.has_value());
  CHECK(record->revoked);

  const auto unknown = fixture.store().revoke("nobody-tablet");
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.error().code == "not_found");

  // What the revocation watcher compares open connections with: a revoked device has none.
  const auto credentials = fixture.store().current_credentials();
  CHECK_FALSE(credentials.contains("ann-tablet"));
  REQUIRE(credentials.contains("bob-tablet"));
  CHECK(credentials.at("bob-tablet") == fixture.store().authenticate(*kept)->credential);
}

TEST_CASE("enrolling a device again replaces its token and keeps its acked_seq", "[devices]") {
  StoreFixture fixture;
  auto tablet = fixture.enroll("ann-tablet", "officer.ann", Role::officer);
  fixture.push(tablet, {upsert(uuid(1), household(), hlc(1)), upsert(uuid(2), household(), hlc(2))});
  const auto old_token = fixture.store().enroll("ann-tablet", "officer.ann", Role::officer);
  REQUIRE(old_token.ok());
  REQUIRE(fixture.store().revoke("ann-tablet").ok());

  const auto new_token = fixture.store().enroll("ann-tablet", "officer.ann", Role::officer);
  REQUIRE(new_token.ok());
  CHECK(*new_token != *old_token);
  CHECK_FALSE(fixture.store().authenticate(*old_token).has_value());
  const auto device = fixture.store().authenticate(*new_token);
  REQUIRE(device.has_value());  // the revocation is lifted
  CHECK(device->acked_seq == 2);
  CHECK(fixture.store().current_credentials().at("ann-tablet") == device->credential);
  // The device carries on from seq 3.
  CHECK(fixture.push(tablet, upsert(uuid(3), household(), hlc(3))).acked_seq == 3);
}

TEST_CASE("a push records when the device last synced", "[devices]") {
  StoreFixture fixture;
  auto tablet = fixture.enroll("ann-tablet", "officer.ann", Role::officer);
  CHECK_FALSE(fixture.store().device("ann-tablet")->last_sync_at.has_value());
  fixture.now = kNow + 5000;
  fixture.push(tablet, upsert(uuid(1), household(), hlc(1)));
  CHECK(fixture.store().device("ann-tablet")->last_sync_at == std::optional<UnixMillis>(kNow + 5000));
  fixture.now = kNow + 9000;
  fixture.store().touch_device("ann-tablet");
  CHECK(fixture.store().device("ann-tablet")->last_sync_at == std::optional<UnixMillis>(kNow + 9000));
}

TEST_CASE("reopening the store keeps devices records acked_seq and statistics", "[durability]") {
  StoreFixture fixture;
  const auto token = fixture.store().enroll("coord-tablet", "coord.cat", Role::coordinator);
  REQUIRE(token.ok());
  Device tablet{{"coord-tablet", "coord.cat", Role::coordinator}, 1};
  fixture.push(tablet, {upsert(uuid(1), target_household("Elstree", true, "officer.ann"), hlc(1)),
                        upsert(uuid(11), visit(uuid(1)), hlc(2)), upsert(uuid(21), session("Radlett", 12), hlc(3)),
                        remove(Entity::visit, uuid(12), hlc(4))});
  fixture.push(tablet, upsert(uuid(2), household(), Hlc{kNow + 10, 0}));  // a little ahead of the clock
  REQUIRE(fixture.push(tablet, upsert(uuid(3), household("Atlantis"), hlc(5))).rejected.size() == 1);
  const auto records_before = server_records(fixture.store());
  const auto stats_before = fixture.store().stats(std::nullopt, std::nullopt);
  REQUIRE(stats_before.visits_total == 1);

  fixture.reopen();
  const auto device = fixture.store().authenticate(*token);
  REQUIRE(device.has_value());
  CHECK(device->acked_seq == 6);
  const auto records_after = server_records(fixture.store());
  REQUIRE(records_after.size() == records_before.size());
  for (const auto& [record, change] : records_before) {
    CHECK(records_after.at(record).change == change.change);
    CHECK(records_after.at(record).device_id == change.device_id);
  }
  CHECK(fixture.store().stats(std::nullopt, std::nullopt) == stats_before);
  CHECK(fixture.store().recompute_stats(std::nullopt, std::nullopt) == stats_before);

  // The resend of the rejected change is answered as before, and new changes run on from 7.
  const auto resend = fixture.push_batch(tablet.identity, {{{6, upsert(uuid(3), household("Atlantis"), hlc(5)), {}}}});
  CHECK(resend.acked_seq == 6);
  REQUIRE(resend.rejected.size() == 1);
  CHECK(resend.rejected[0].field == "ward");
  CHECK(fixture.push(tablet, upsert(uuid(4), household(), hlc(6))).acked_seq == 7);
  // Stored versions keep their hlc: an older one still loses.
  fixture.push(tablet, upsert(uuid(2), household("Shenley"), hlc(7)));
  CHECK(std::get<Household>(*server_records(fixture.store()).at(key(Entity::household, uuid(2))).change.data).ward == "Elstree");
}

TEST_CASE("an abandoned write group leaves no trace and a committed group keeps every batch", "[durability]") {
  StoreFixture fixture;
  auto ann = fixture.enroll("ann-tablet", "officer.ann", Role::officer);
  auto bob = fixture.enroll("bob-tablet", "officer.bob", Role::officer);
  auto& store = fixture.store();
  const safer::ReceivedPush ann_batch{{{1, upsert(uuid(1), household(), hlc(1)), {}}}};
  const safer::ReceivedPush bob_batch{{{1, upsert(uuid(2), household(), hlc(2)), {}}}};

  store.begin_group();
  CHECK(store.apply_push(ann.identity, ann_batch).ack.has_value());
  CHECK(store.apply_push(bob.identity, bob_batch).ack.has_value());
  store.abandon_group();
  CHECK(fixture.acked_seq(ann) == 0);
  CHECK(fixture.acked_seq(bob) == 0);
  CHECK(server_records(store).empty());

  store.begin_group();
  CHECK(store.apply_push(ann.identity, ann_batch).ack->acked_seq == 1);
  CHECK(store.apply_push(bob.identity, bob_batch).ack->acked_seq == 1);
  store.commit_group();
  fixture.reopen();
  CHECK(fixture.acked_seq(ann) == 1);
  CHECK(fixture.acked_seq(bob) == 1);
  CHECK(server_records(fixture.store()).size() == 2);
}

TEST_CASE("a push that meets a full disk keeps nothing and succeeds when space is back", "[durability][sqlite-only]") {
  test_support::faulty_vfs::install();  // before the store opens its files
  StoreFixture fixture;
  auto tablet = fixture.enroll("coord-tablet", "coord.cat", Role::coordinator);
  fixture.push(tablet, upsert(uuid(1), household(), hlc(1)));
  safer::ReceivedPush big;
  for (int i = 0; i < 300; ++i) {
    Household record = target_household("Shenley", true, "officer.ann");
    record.address = std::string(150, 'x');
    big.changes.push_back({2 + i, upsert(uuid(100 + i), record, hlc(10 + i)), {}});
  }
  {
    FullDisk disk(0);
    const auto failed = fixture.store().push(tablet.identity, big);
    REQUIRE_FALSE(failed.ok());
    CHECK(failed.error().code == "storage_full");
  }
  CHECK(fixture.acked_seq(tablet) == 1);
  CHECK(server_records(fixture.store()).size() == 1);
  CHECK(fixture.store().stats(std::nullopt, std::nullopt).households_target == 0);

  const auto ack = fixture.push_batch(tablet.identity, big);
  CHECK(ack.acked_seq == 301);
  CHECK(server_records(fixture.store()).size() == 301);
  CHECK(fixture.store().stats(std::nullopt, std::nullopt).households_target == 300);
}

// Why: `--db postgresql://…` chooses the PostgreSQL store: a URL must never become the name of
// a new SQLite file, and a database that cannot be reached is a clear error that does not
// repeat the URL's password.
TEST_CASE("a PostgreSQL URL that cannot be reached is a clear error, names no password, and makes no file", "[store]") {
  test_support::TempDir dir;
  const auto cwd = std::filesystem::current_path();
  std::filesystem::current_path(dir.path());
  for (const char* url : {"postgresql://sync:s3cret-pw@127.0.0.1:1/safer?connect_timeout=3",
                          "postgres://sync:s3cret-pw@127.0.0.1:1/safer?connect_timeout=3"}) {
    INFO(url);
    const auto opened = ServerStore::open(url, {});
    REQUIRE_FALSE(opened.ok());
    CHECK(opened.error().code == "storage_unavailable");
    CHECK(opened.error().message.find("cannot open the PostgreSQL database") != std::string::npos);
    CHECK(opened.error().message.find("s3cret-pw") == std::string::npos);
  }
  CHECK(std::filesystem::is_empty(dir.path()));
  std::filesystem::current_path(cwd);
}

TEST_CASE("a push made with a credential that is no longer the device's applies nothing", "[devices]") {
  // Issue 12: a push queued before `enroll` or `revoke` must not be applied under the identity
  // the session began with; the check runs inside the write transaction.
  StoreFixture fixture;
  auto tablet = fixture.enroll("ann-tablet", "officer.ann", Role::officer);
  const auto first_token = fixture.store().enroll("ann-tablet", "officer.ann", Role::officer);
  REQUIRE(first_token.ok());
  const auto first = fixture.store().authenticate(*first_token)->credential;
  const auto push_with = [&](const std::string& credential, std::int64_t seq) {
    safer::ReceivedPush batch;
    batch.changes.push_back({seq, upsert(uuid(static_cast<int>(seq)), household(), hlc(seq)), {}});
    fixture.store().begin_group();
    auto outcome = fixture.store().apply_push(tablet.identity, batch, {}, credential);
    fixture.store().commit_group();
    return outcome;
  };
  const auto accepted = push_with(first, 1);
  REQUIRE(accepted.ack.has_value());
  CHECK(accepted.ack->acked_seq == 1);

  const auto second_token = fixture.store().enroll("ann-tablet", "officer.ann", Role::coordinator);
  REQUIRE(second_token.ok());
  const auto replaced = push_with(first, 2);
  REQUIRE(replaced.error.has_value());
  CHECK(replaced.error->code == "identity_changed");
  CHECK(replaced.error->fatal);
  CHECK(fixture.acked_seq(tablet) == 1);  // nothing applied

  const auto second = fixture.store().authenticate(*second_token)->credential;
  CHECK(push_with(second, 2).ack.has_value());
  REQUIRE(fixture.store().revoke("ann-tablet").ok());
  const auto revoked = push_with(second, 3);
  REQUIRE(revoked.error.has_value());
  CHECK(revoked.error->code == "identity_changed");
  CHECK(fixture.acked_seq(tablet) == 2);
}
