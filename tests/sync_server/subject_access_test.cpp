// Subject access exports (sync_server/subject_access.h) at the store level, on both backends:
// what they hold about a live and an erased household, their CSV, and their audit entries.
#include <catch2/catch.hpp>

#include "audit_entries.h"
#include "json_checks.h"
#include "store_fixture.h"
#include "sync_server/audit.h"
#include "sync_server/dashboard.h"
#include "sync_server/subject_access.h"

using namespace store_test;
using sync_server::Actor;
using sync_server::AuditLog;
using sync_server::SubjectAccess;
using sync_server::SubjectAccessFormat;

namespace {

const Actor kDpo{"coord.dpo", "dashboard", "192.0.2.20"};
// Fictional; commas, quotes, a line break, and a leading '=' a spreadsheet would run.
const std::string kNote = "=HYPERLINK(\"http://example.invalid\"), said \"call first\",\nthen left";
const std::string kAddress = "4 Marrowby Lane";

// Household 1 (Ann's, then Bob's) with visits 11 (Ann's, with notes) and 12, one rejected
// change to visit 11; household 2 with visit 21, which no export of household 1 may show.
struct Borough {
  StoreFixture fixture;
  Device coordinator = fixture.enroll("coord-tablet", "coord.cat", Role::coordinator);
  Device ann = fixture.enroll("ann-tablet", "officer.ann", Role::officer);

  Borough() {
    Household first = target_household("Elstree", true, "officer.ann");
    first.address = kAddress;
    Household second = target_household("Shenley", true, "officer.ann");
    second.address = "9 Other Row";
    REQUIRE(fixture.push(coordinator, {upsert(uuid(1), first, hlc(1)), upsert(uuid(2), second, hlc(2))}).rejected.empty());
    Visit noted = visit(uuid(1));
    noted.notes = kNote;
    noted.referrals = {safer::Referral::victim_support};
    noted.share_basis = safer::ShareBasis::consent;
    noted.outcomes.insert(safer::Outcome::follow_up_required);
    noted.follow_up_due = "2026-12-18";
    Visit other = visit(uuid(2));
    other.notes = "a note about another household";
    REQUIRE(fixture.push(ann, {upsert(uuid(11), noted, hlc(3)), upsert(uuid(12), visit(uuid(1), VisitStatus::no_answer), hlc(4)),
                               upsert(uuid(21), other, hlc(5))})
                .rejected.empty());
    Visit too_many = noted;
    too_many.smoke_detectors_fitted = 50;
    REQUIRE(fixture.push(ann, upsert(uuid(11), too_many, hlc(6))).rejected.size() == 1);
    REQUIRE(sync_server::Dashboard(fixture.store()).assign_json(uuid(1), std::string("officer.bob"), kDpo).ok());
  }

  sync_server::SubjectAccessFile exported(SubjectAccessFormat format, const std::string& id = uuid(1)) {
    auto file = SubjectAccess(fixture.store()).export_household(id, format, kDpo);
    INFO((file.ok() ? "" : file.error().message));
    REQUIRE(file.ok());
    return std::move(file.value());
  }

  std::vector<sync_server::AuditRecord> subject_access_entries() {
    return entries_of(fixture.store(), sync_server::kAuditSubjectAccess);
  }
};

// `text` as RFC 4180 rows of cells.
std::vector<std::vector<std::string>> csv_rows(const std::string& text) {
  std::vector<std::vector<std::string>> rows(1, std::vector<std::string>(1));
  bool quoted = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        rows.back().back() += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        rows.back().back() += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      rows.back().emplace_back();
    } else if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') {
      ++i;
      if (i + 1 < text.size()) rows.emplace_back(1);
    } else {
      rows.back().back() += c;
    }
  }
  return rows;
}

// The cell of `column` in `row`, by the header row's names.
std::string cell(const std::vector<std::vector<std::string>>& rows, std::size_t row, const std::string& column) {
  const auto& header = rows.front();
  const auto found = std::find(header.begin(), header.end(), column);
  REQUIRE(found != header.end());
  REQUIRE(rows[row].size() == header.size());
  return rows[row][static_cast<std::size_t>(found - header.begin())];
}

std::vector<std::size_t> rows_of(const std::vector<std::vector<std::string>>& rows, const std::string& section) {
  std::vector<std::size_t> found;
  for (std::size_t i = 1; i < rows.size(); ++i) {
    if (cell(rows, i, "section") == section) found.push_back(i);
  }
  return found;
}

}  // namespace

// Why: issue 14 §3 — a data subject may ask for everything held about them: the record, its
// visits and its history, and only theirs.
TEST_CASE("a subject access export holds the household, its visits and its history, and nothing else", "[subject_access]") {
  Borough borough;
  const auto file = borough.exported(SubjectAccessFormat::json);
  const auto document = test_support::parse_object(file.body);
  CHECK(document["subject_access"]["household_id"].GetString() == uuid(1));
  CHECK_FALSE(document["subject_access"]["erased"].GetBool());
  const auto& household = document["household"];
  CHECK(std::string(household["state"].GetString()) == "live");
  CHECK(std::string(household["data"]["address"].GetString()) == kAddress);
  CHECK(std::string(household["data"]["assigned_to"].GetString()) == "officer.bob");
  CHECK(std::string(household["created_by"].GetString()) == "coord.cat");

  const auto& visits = document["visits"];
  REQUIRE(visits.Size() == 2);
  CHECK(visits[0]["id"].GetString() == uuid(11));
  CHECK(visits[0]["data"]["notes"].GetString() == kNote);
  CHECK(std::string(visits[0]["data"]["share_basis"].GetString()) == "consent");
  CHECK(std::string(visits[0]["data"]["follow_up_due"].GetString()) == "2026-12-18");
  CHECK(visits[1]["id"].GetString() == uuid(12));
  CHECK(file.body.find(uuid(21)) == std::string::npos);
  CHECK(file.body.find("another household") == std::string::npos);

  const auto& audit = document["audit"];  // the coordinator's tablet assigned it to Ann, the dashboard to Bob
  REQUIRE(audit.Size() == 2);
  CHECK(std::string(audit[0]["action"].GetString()) == "assign");
  CHECK(std::string(audit[0]["username"].GetString()) == "officer.ann");
  CHECK(std::string(audit[1]["action"].GetString()) == "assign");
  CHECK(std::string(audit[1]["username"].GetString()) == "officer.bob");
  const auto& rejections = document["rejections"];
  REQUIRE(rejections.Size() == 1);
  CHECK(rejections[0]["record_id"].GetString() == uuid(11));
  CHECK(std::string(rejections[0]["field"].GetString()) == "smoke_detectors_fitted");
  const auto& exits = document["exits"];
  REQUIRE(exits.Size() == 1);
  CHECK(std::string(exits[0]["user_id"].GetString()) == "officer.ann");
  // The referral and whether it was passed on to the partner (not yet): a record of disclosure.
  const auto& referrals = document["referrals"];
  REQUIRE(referrals.Size() == 1);
  CHECK(referrals[0]["visit_id"].GetString() == uuid(11));
  CHECK(std::string(referrals[0]["partner"].GetString()) == "victim_support");
  CHECK(std::string(referrals[0]["share_basis"].GetString()) == "consent");
  CHECK(referrals[0]["sent_at"].IsNull());
  CHECK(file.rows == 1 + 2 + 2 + 1 + 1 + 1);

  const auto entries = borough.subject_access_entries();
  REQUIRE(entries.size() == 1);
  const auto& entry = entries[0].entry;
  CHECK(entry.actor.name == "coord.dpo");
  CHECK(entry.household == uuid(1));
  CHECK(entry.kind == "json");
  CHECK(entry.outcome == "ok");
  CHECK(entry.detail == "format=json rows=8");
  CHECK(AuditLog(borough.fixture.store()).verify().intact);
}

TEST_CASE("the CSV export is one table with a section column, notes quoted and formulas neutralised", "[subject_access]") {
  Borough borough;
  const auto file = borough.exported(SubjectAccessFormat::csv);
  const auto rows = csv_rows(file.body);
  REQUIRE(rows.size() == 1 + 8);
  REQUIRE(rows_of(rows, "household").size() == 1);
  CHECK(cell(rows, 1, "address") == kAddress);
  CHECK(cell(rows, 1, "assigned_to") == "officer.bob");
  const auto visits = rows_of(rows, "visit");
  REQUIRE(visits.size() == 2);
  // Read back whole, commas, quotes and line break included, with the leading ' that stops a
  // spreadsheet running it as a formula.
  CHECK(cell(rows, visits[0], "notes") == "'" + kNote);
  CHECK(cell(rows, visits[0], "referrals") == "victim_support");
  CHECK(cell(rows, visits[0], "share_basis") == "consent");
  CHECK(cell(rows, visits[1], "share_basis").empty());
  CHECK(cell(rows, visits[0], "follow_up_due") == "2026-12-18");
  CHECK(cell(rows, visits[1], "follow_up_due").empty());
  CHECK(cell(rows, visits[1], "rescheduled_for").empty());
  CHECK(cell(rows, visits[1], "status") == "no_answer");
  CHECK(rows_of(rows, "audit").size() == 2);
  const auto rejections = rows_of(rows, "rejection");
  REQUIRE(rejections.size() == 1);
  CHECK(cell(rows, rejections[0], "id") == uuid(11));
  const auto exits = rows_of(rows, "exit");
  REQUIRE(exits.size() == 1);
  CHECK(cell(rows, exits[0], "by_user") == "officer.ann");
  const auto referrals = rows_of(rows, "referral");
  REQUIRE(referrals.size() == 1);
  CHECK(cell(rows, referrals[0], "id") == uuid(11));
  CHECK(cell(rows, referrals[0], "referrals") == "victim_support");
  CHECK(cell(rows, referrals[0], "action") == "not_passed_on");
  const auto entries = borough.subject_access_entries();
  REQUIRE(entries.size() == 1);
  CHECK(entries[0].entry.kind == "csv");
  CHECK(entries[0].entry.detail == "format=csv rows=8");
}

// Why: after an erasure the server holds tombstones and history only; the export must say so
// and must not bring back any of the erased data.
TEST_CASE("an erased household's export holds its tombstones and history, and no data", "[subject_access][erase]") {
  Borough borough;
  REQUIRE(borough.fixture.push(borough.coordinator, remove(Entity::household, uuid(1), hlc(30))).rejected.empty());
  for (const auto format : {SubjectAccessFormat::json, SubjectAccessFormat::csv}) {
    const auto file = borough.exported(format);
    INFO(file.body);
    CHECK(file.erased);
    CHECK(file.body.find(kAddress) == std::string::npos);
    CHECK(file.body.find("call first") == std::string::npos);
    CHECK(file.body.find("WD6") == std::string::npos);
    CHECK(file.body.find(uuid(11)) != std::string::npos);  // the visits' tombstones
    CHECK(file.body.find("erase") != std::string::npos);   // the erasure's audit entry
  }
  const auto document = test_support::parse_object(borough.exported(SubjectAccessFormat::json).body);
  CHECK(document["subject_access"]["erased"].GetBool());
  CHECK(std::string(document["household"]["state"].GetString()) == "erased");
  CHECK(document["household"]["data"].IsNull());
  REQUIRE(document["visits"].Size() == 2);
  for (const auto& visit : document["visits"].GetArray()) {
    CHECK(std::string(visit["state"].GetString()) == "erased");
    CHECK(visit["data"].IsNull());
    CHECK(std::string(visit["changed_at"].GetString()).size() >= 20);  // when it was erased
  }
  const auto entries = borough.subject_access_entries();
  REQUIRE_FALSE(entries.empty());
  CHECK(entries[0].entry.detail.find("erased=yes") != std::string::npos);
}

TEST_CASE("an unknown or malformed household id is refused, and the refusal audited", "[subject_access]") {
  Borough borough;
  SubjectAccess exporter(borough.fixture.store());
  const auto unknown = exporter.export_household(uuid(99), SubjectAccessFormat::json, kDpo);
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.error().code == "not_found");
  const auto malformed = exporter.export_household("4 Marrowby Lane", SubjectAccessFormat::csv, kDpo);
  REQUIRE_FALSE(malformed.ok());
  CHECK(malformed.error().code == "invalid");
  CHECK(malformed.error().message.find("UUID") != std::string::npos);
  CHECK(malformed.error().message.find("Marrowby") == std::string::npos);

  const auto entries = borough.subject_access_entries();  // newest first
  REQUIRE(entries.size() == 2);
  CHECK(entries[0].entry.outcome == "invalid");
  CHECK(entries[0].entry.household.empty());  // what was typed could be anything: not kept
  CHECK(entries[1].entry.outcome == "not_found");
  CHECK(entries[1].entry.household == uuid(99));
}
