// Store::BulkPull (issue 17, B2): while a pull runs, its pages commit without waiting for an
// fsync; everything else, and everything after, commits with one as before. Counted through the
// test VFS's syncs: a commit with synchronous=FULL in WAL mode syncs the WAL once.
#include <catch2/catch.hpp>

#include <cstdio>
#include <string>
#include <vector>

#include "faulty_vfs.h"
#include "field_client/store.h"
#include "temp_dir.h"

namespace {

using field_client::Store;
using safer::Entity;

std::string id_of(int n) {
  char text[40];
  std::snprintf(text, sizeof text, "0192f5e4-0000-7000-8000-%012d", n);
  return text;
}

// A page of `count` households from the server, numbered from `first`, ending at cursor `cursor`.
safer::ChangesPage page_of(int first, int count, const std::string& cursor) {
  safer::ChangesPage page;
  for (int n = first; n < first + count; ++n) {
    safer::Household household;
    household.address = std::to_string(n) + " Fictional Road";
    household.postcode = "EN6 1AA";
    household.ward = "Potters Bar Oakmere";
    safer::PulledChange pulled;
    pulled.change = {Entity::household, safer::Op::upsert, id_of(n), safer::Hlc{1'764'149'400'000, static_cast<std::uint32_t>(n)},
                     household};
    pulled.device_id = "server-side";
    page.changes.push_back(std::move(pulled));
  }
  page.cursor = cursor;
  return page;
}

safer::Visit visit_to(const std::string& household_id) {
  safer::Visit visit;
  visit.household_id = household_id;
  visit.visited_at = 1'764'149'400'000;
  visit.status = safer::VisitStatus::no_answer;
  return visit;
}

}  // namespace

TEST_CASE("a pull's pages commit without an fsync, and what the officer records after it with one", "[store][sync]") {
  const test_support::faulty_vfs::Installed counted_disk;
  test_support::TempDir dir;
  auto store = Store::open(dir.file("tablet.db")).value();

  // Outside a bulk pull each page waits for the disk.
  auto before = test_support::faulty_vfs::syncs();
  for (int p = 0; p < 5; ++p) REQUIRE(store->apply_page(page_of(1 + p * 10, 10, "c." + std::to_string(p))).ok());
  CHECK(test_support::faulty_vfs::syncs() - before >= 5);

  {
    const Store::BulkPull bulk(*store);
    before = test_support::faulty_vfs::syncs();
    for (int p = 5; p < 25; ++p) REQUIRE(store->apply_page(page_of(1 + p * 10, 10, "c." + std::to_string(p))).ok());
    CHECK(test_support::faulty_vfs::syncs() - before == 0);  // 20 pages, far from a checkpoint
  }
  // Each page is there with its cursor.
  CHECK(store->cursor().value() == "c.24");
  CHECK(store->list(Entity::household)->size() == 250);

  // After the pull, an officer's visit commits with an fsync again: it, and the pages before
  // it in the WAL, are on disk when create() returns.
  before = test_support::faulty_vfs::syncs();
  REQUIRE(store->create(visit_to(id_of(1))).ok());
  CHECK(test_support::faulty_vfs::syncs() - before >= 1);

  // And everything is read back by another connection, as after the process ends.
  store.reset();
  auto again = Store::open(dir.file("tablet.db")).value();
  CHECK(again->cursor().value() == "c.24");
  CHECK(again->list(Entity::household)->size() == 250);
  CHECK(again->outbox()->size() == 1);
}

TEST_CASE("pages applied together commit once with the last cursor, or not at all", "[store][sync]") {
  const test_support::faulty_vfs::Installed counted_disk;
  test_support::TempDir dir;
  auto store = Store::open(dir.file("tablet.db")).value();
  REQUIRE(store->apply_page(page_of(1, 10, "c.0")).ok());

  std::vector<safer::ChangesPage> pages;
  for (int p = 1; p <= 10; ++p) pages.push_back(page_of(1 + p * 10, 10, "c." + std::to_string(p)));
  // Ten pages: one commit, so one sync (synchronous=FULL outside a bulk pull), not ten.
  auto before = test_support::faulty_vfs::syncs();
  REQUIRE(store->apply_pages(pages).ok());
  CHECK(test_support::faulty_vfs::syncs() - before == 1);
  CHECK(store->cursor().value() == "c.10");
  CHECK(store->list(Entity::household)->size() == 110);

  // A batch that meets a full disk keeps none of its pages and not its cursor; the same batch
  // goes in whole once there is room.
  std::vector<safer::ChangesPage> more;
  for (int p = 11; p <= 40; ++p) more.push_back(page_of(1 + p * 10, 10, "c." + std::to_string(p)));
  test_support::faulty_vfs::set_free_space(4096);
  const auto full = store->apply_pages(more);
  test_support::faulty_vfs::set_free_space(std::nullopt);
  REQUIRE_FALSE(full.ok());
  CHECK(store->cursor().value() == "c.10");
  CHECK(store->list(Entity::household)->size() == 110);
  REQUIRE(store->apply_pages(more).ok());
  CHECK(store->cursor().value() == "c.40");
  CHECK(store->list(Entity::household)->size() == 410);

  // No pages: nothing to do, and the cursor stays.
  REQUIRE(store->apply_pages({}).ok());
  CHECK(store->cursor().value() == "c.40");
}
