// A subject access export (sync_server/subject_access.h): what the server holds about one
// household, read in one snapshot, written as JSON or as one CSV with a `section` column.
#include "sync_server/subject_access.h"

#include <map>
#include <optional>
#include <string_view>
#include <type_traits>
#include <vector>

#include "csv_out.h"
#include "safer/json_out.h"
#include "safer/record_json.h"
#include "safer/uuid.h"
#include "store_impl.h"
#include "sync_server/audit.h"

namespace sync_server {

namespace {

// A row of `records` as the export shows it: the winning version, live or a tombstone.
struct HeldRecord {
  std::string id;
  std::string hlc;        // when this version was written (a tombstone's: when it was deleted)
  std::string device_id;  // who wrote it
  std::string user_id;
  std::string owner;      // whose device created the record
  std::optional<std::string> data;  // the record's JSON; nullopt for a tombstone
};

struct HeldRejection {
  std::string device_id, entity, record_id, code, message, field;
  std::int64_t seq = 0;
  safer::UnixMillis at = 0;
};

// A visit's referral to a partner, and whether it was passed on (a disclosure).
struct HeldReferral {
  std::string visit_id, partner, share_basis;
  std::optional<std::int64_t> sent_at;
  std::string sent_by;
};

struct HeldExit {
  std::string user_id;
  std::int64_t version = 0;  // the household's version that took it out of the user's scope
};

// Everything held about one household.
struct Held {
  std::optional<HeldRecord> household;
  std::vector<HeldRecord> visits;
  std::vector<AuditRecord> audit;
  std::vector<HeldRejection> rejections;
  std::vector<HeldExit> exits;
  std::vector<HeldReferral> referrals;

  bool erased() const { return household && !household->data; }
  std::int64_t rows() const {
    return (household ? 1 : 0) + static_cast<std::int64_t>(visits.size() + audit.size() + rejections.size() + exits.size() +
                                                        referrals.size());
  }
};

HeldRecord read_record_row(const db::Statement& row) {
  return HeldRecord{row.column_text(0), row.column_text(1), row.column_text(2),
                    row.column_text(3), row.column_text(4), row.column_optional_text(5)};
}

#define HELD_RECORD_COLUMNS "id, hlc, device_id, user_id, owner, data"

// Reads everything held about `household_id` in one read snapshot. Throws db::Failure.
Held read_held(ServerStore& store, db::Database& db, const std::string& household_id) {
  Held held;
  db::Transaction snapshot(db, db::Database::TransactionKind::read);
  auto household = db.cached("SELECT " HELD_RECORD_COLUMNS " FROM records WHERE entity = 'household' AND id = ?");
  household->bind(1, household_id);
  if (household->step()) held.household = read_record_row(*household);
  auto visits = db.cached("SELECT " HELD_RECORD_COLUMNS " FROM records WHERE entity = 'visit' AND household_id = ?"
                          " ORDER BY hlc, id");
  visits->bind(1, household_id);
  while (visits->step()) held.visits.push_back(read_record_row(*visits));
  held.audit = AuditLog(store).about_household(household_id);
  // Rejected changes to the household, and to the visits that name it now.
  auto rejections = db.cached(
      "SELECT device_id, seq, entity, record_id, code, message, field, at FROM rejections"
      " WHERE (entity = 'household' AND record_id = ?1) OR (entity = 'visit' AND record_id IN"
      " (SELECT id FROM records WHERE entity = 'visit' AND household_id = ?1)) ORDER BY at, device_id, seq");
  rejections->bind(1, household_id);
  while (rejections->step()) {
    held.rejections.push_back(HeldRejection{rejections->column_text(0), rejections->column_text(2),
                                            rejections->column_text(3), rejections->column_text(4),
                                            rejections->column_text(5), rejections->column_text(6),
                                            rejections->column_int(1), rejections->column_int(7)});
  }
  auto exits = db.cached("SELECT user_id, version FROM exits WHERE household_id = ? ORDER BY version, user_id");
  exits->bind(1, household_id);
  while (exits->step()) held.exits.push_back(HeldExit{exits->column_text(0), exits->column_int(1)});
  auto referrals = db.cached("SELECT visit_id, partner, share_basis, sent_at, sent_by FROM referrals WHERE household_id = ?"
                             " ORDER BY local_day, visit_id, partner");
  referrals->bind(1, household_id);
  while (referrals->step()) {
    HeldReferral referral{referrals->column_text(0), referrals->column_text(1), referrals->column_text(2), std::nullopt, ""};
    if (!referrals->column_is_null(3)) {
      referral.sent_at = referrals->column_int(3);
      referral.sent_by = referrals->column_text(4);
    }
    held.referrals.push_back(std::move(referral));
  }
  snapshot.commit();
  return held;
}

// The wall-clock time of a stored HLC, RFC 3339.
std::string hlc_time(const std::string& hlc) { return safer::format_rfc3339(safer::Hlc::parse(hlc).value_or(safer::Hlc{}).millis); }

// What an erased household's export says it holds.
constexpr const char* kErasedNote =
    "The household was erased: the server holds its tombstone (id, when and by whom it was erased), the tombstones "
    "of its visits and the history below, and none of its data.";
constexpr const char* kHeldNote =
    "The household's record as it stands (the server keeps no earlier versions), its visits, and its history.";

// ---- JSON ----

void record_json(safer::JsonOut& out, const HeldRecord& record) {
  out.begin_object().field("id", record.id).field("state", record.data ? "live" : "erased");
  out.field("changed_at", hlc_time(record.hlc)).field("hlc", record.hlc).field("created_by", record.owner);
  out.field("changed_by", record.user_id).field("changed_by_device", record.device_id).key("data");
  if (record.data) {
    out.raw(*record.data);
  } else {
    out.null();
  }
  out.end_object();
}

std::string to_json(const Held& held, const std::string& household_id, safer::UnixMillis now) {
  safer::JsonOut out;
  out.begin_object().key("subject_access").begin_object().field("household_id", household_id);
  out.field("generated_at", safer::format_rfc3339(now)).field("erased", held.erased());
  out.field("note", held.erased() ? kErasedNote : kHeldNote).end_object();
  out.key("household");
  record_json(out, *held.household);
  out.key("visits").begin_array();
  for (const auto& visit : held.visits) record_json(out, visit);
  out.end_array().key("audit").begin_array();
  for (const auto& record : held.audit) {
    const auto& entry = record.entry;
    out.begin_object().field("seq", record.seq).field("at", safer::format_rfc3339(record.at));
    out.field("actor", entry.actor.name).field("via", entry.actor.via).field("address", entry.actor.address);
    out.field("action", entry.action).field("outcome", entry.outcome).field("device", entry.device);
    out.field("username", entry.username).field("kind", entry.kind).field("detail", entry.detail).end_object();
  }
  out.end_array().key("rejections").begin_array();
  for (const auto& rejection : held.rejections) {
    out.begin_object().field("at", safer::format_rfc3339(rejection.at)).field("device_id", rejection.device_id);
    out.field("seq", rejection.seq).field("entity", rejection.entity).field("record_id", rejection.record_id);
    out.field("code", rejection.code).field("message", rejection.message).field("field", rejection.field).end_object();
  }
  out.end_array().key("exits").begin_array();
  for (const auto& exit : held.exits) {
    out.begin_object().field("user_id", exit.user_id).field("feed_version", exit.version).end_object();
  }
  out.end_array().key("referrals").begin_array();  // to which partner, on what basis, passed on when and by whom
  for (const auto& referral : held.referrals) {
    out.begin_object().field("visit_id", referral.visit_id).field("partner", referral.partner);
    out.key("share_basis");
    if (referral.share_basis.empty()) out.null(); else out.value(referral.share_basis);
    out.key("sent_at");
    if (referral.sent_at) out.value(safer::format_rfc3339(*referral.sent_at)); else out.null();
    out.key("sent_by");
    if (referral.sent_at) out.value(referral.sent_by); else out.null();
    out.end_object();
  }
  return out.end_array().end_object().str();
}

// ---- CSV: one table, a row per record or history entry, `section` saying which ----

constexpr std::string_view kCsvColumns[] = {
    "section",   "id",        "time",           "state",   "by_user",    "by_device", "from_address",
    "created_by", "assigned_to", "address",     "postcode", "ward",       "vulnerability", "target",
    "visited_at", "status",   "outcomes",       "smoke_detectors_fitted", "referrals", "share_basis",
    "follow_up_due", "rescheduled_for", "notes", "answers", "action", "outcome", "concerning", "detail"};

// One CSV row: cells by column name, the others empty.
using CsvRow = std::map<std::string_view, std::string>;

void write_row(CsvOut& csv, const CsvRow& row) {
  for (const auto column : kCsvColumns) {
    const auto found = row.find(column);
    csv.text(found == row.end() ? std::string_view() : std::string_view(found->second));
  }
  csv.end_row();
}

CsvRow record_row(const char* section, const HeldRecord& record) {
  return {{"section", section},         {"id", record.id},
          {"time", hlc_time(record.hlc)}, {"state", record.data ? "live" : "erased"},
          {"by_user", record.user_id},  {"by_device", record.device_id},
          {"created_by", record.owner}};
}

CsvRow household_row(const HeldRecord& record) {
  CsvRow row = record_row("household", record);
  if (!record.data) return row;
  safer::Household household;
  safer::from_json(*record.data, household);  // written by this store: always valid
  row["assigned_to"] = household.assignee().value_or("");
  row["address"] = household.address;
  row["postcode"] = household.postcode;
  row["ward"] = household.ward;
  row["vulnerability"] = joined(household.vulnerability.names());
  row["target"] = household.is_target() ? "true" : "false";
  return row;
}

CsvRow visit_row(const HeldRecord& record) {
  CsvRow row = record_row("visit", record);
  if (!record.data) return row;
  safer::Visit visit;
  safer::from_json(*record.data, visit);
  row["visited_at"] = safer::format_rfc3339(visit.visited_at);
  row["status"] = safer::to_string(visit.status);
  row["outcomes"] = joined(visit.outcomes.names());
  row["smoke_detectors_fitted"] = std::to_string(visit.smoke_detectors_fitted);
  row["referrals"] = joined(visit.referrals.names());
  if (visit.share_basis) row["share_basis"] = safer::to_string(*visit.share_basis);
  if (visit.follow_up_due) row["follow_up_due"] = *visit.follow_up_due;
  if (visit.rescheduled_for) row["rescheduled_for"] = *visit.rescheduled_for;
  row["notes"] = visit.notes;
  // id=value for each answer (protocol.md §5.8), joined as lists are: 'feels_safe=4;feedback=…'.
  std::vector<std::string> answers;
  for (const auto& [id, answer] : visit.answers) answers.push_back(id + "=" + safer::answer_text(answer));
  row["answers"] = joined(answers);
  return row;
}

// "user=… device=… kind=…": the ids an audit entry or rejection names beside the household.
std::string concerning(std::initializer_list<std::pair<const char*, const std::string*>> ids) {
  std::string out;
  for (const auto& [name, value] : ids) {
    if (!value->empty()) out += (out.empty() ? "" : " ") + std::string(name) + "=" + *value;
  }
  return out;
}

std::string to_csv(const Held& held) {
  std::string text;
  const CsvSink append = [&text](std::string_view piece) { text += piece; };
  CsvOut csv(append);  // keeps a reference to `append`
  for (const auto column : kCsvColumns) csv.text(column);
  csv.end_row();
  write_row(csv, household_row(*held.household));
  for (const auto& visit : held.visits) write_row(csv, visit_row(visit));
  for (const auto& record : held.audit) {
    const auto& entry = record.entry;
    write_row(csv, {{"section", "audit"}, {"id", std::to_string(record.seq)}, {"time", safer::format_rfc3339(record.at)},
                    {"by_user", entry.actor.name}, {"by_device", entry.actor.via}, {"from_address", entry.actor.address},
                    {"action", entry.action}, {"outcome", entry.outcome},
                    {"concerning", concerning({{"user", &entry.username}, {"device", &entry.device}, {"kind", &entry.kind}})},
                    {"detail", entry.detail}});
  }
  for (const auto& rejection : held.rejections) {
    const std::string seq = std::to_string(rejection.seq);
    write_row(csv, {{"section", "rejection"}, {"id", rejection.record_id}, {"time", safer::format_rfc3339(rejection.at)},
                    {"by_device", rejection.device_id}, {"action", "rejected"}, {"outcome", rejection.code},
                    {"concerning", concerning({{"entity", &rejection.entity}, {"seq", &seq}, {"field", &rejection.field}})},
                    {"detail", rejection.message}});
  }
  for (const auto& exit : held.exits) {
    write_row(csv, {{"section", "exit"}, {"id", held.household->id}, {"by_user", exit.user_id}, {"action", "left_scope"},
                    {"detail", "feed_version=" + std::to_string(exit.version)}});
  }
  for (const auto& referral : held.referrals) {
    write_row(csv, {{"section", "referral"}, {"id", referral.visit_id},
                    {"time", referral.sent_at ? safer::format_rfc3339(*referral.sent_at) : std::string()},
                    {"by_user", referral.sent_by}, {"referrals", referral.partner},
                    {"share_basis", referral.share_basis.empty() ? std::string("not_recorded") : referral.share_basis},
                    {"action", referral.sent_at ? "passed_on" : "not_passed_on"}});
  }
  csv.finish();
  return text;
}

}  // namespace

const char* to_string(SubjectAccessFormat format) { return format == SubjectAccessFormat::csv ? "csv" : "json"; }

Result<SubjectAccessFile> SubjectAccess::export_household(const std::string& household_id, SubjectAccessFormat format,
                                                          const Actor& actor) {
  AuditEntry entry(actor, kAuditSubjectAccess);
  entry.kind = to_string(format);
  const auto refused = [&](Error error) -> Result<SubjectAccessFile> {
    entry.outcome = error.code;
    if (auto appended = AuditLog(store_).append(entry); !appended) return appended.error();
    return error;
  };
  if (!safer::is_canonical_uuid(household_id)) {
    return refused({"invalid", "the household id must be a UUID such as 0190a5f2-0000-7000-8000-000000000001", "household"});
  }
  entry.household = household_id;
  SubjectAccessFile file;
  try {
    const Held held = read_held(store_, store_.impl_->db, household_id);
    if (!held.household) return refused({"not_found", "the server holds no household " + household_id, "household"});
    file.rows = held.rows();
    file.erased = held.erased();
    file.body = format == SubjectAccessFormat::csv ? to_csv(held) : to_json(held, household_id, store_.impl_->options.wall_clock());
  } catch (const db::Failure& failure) {
    return refused(failure.error());
  }
  entry.detail = std::string("format=") + to_string(format) + " rows=" + std::to_string(file.rows) +
                 (file.erased ? " erased=yes" : "");
  if (auto appended = AuditLog(store_).append(entry); !appended) return appended.error();
  return file;
}

}  // namespace sync_server
