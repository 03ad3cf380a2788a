// The audit trail (sync_server/audit.h): appending, listing, the CSV export, verification of
// the hash chain, and the purge that leaves an anchor.
#include "sync_server/audit.h"

#include <array>

#include "csv_out.h"
#include "safer/json_out.h"
#include "store_impl.h"
#include "sync_server/local_time.h"
#include "sync_server/tokens.h"

namespace sync_server {

namespace {

constexpr std::size_t kMaxDetailBytes = 500;
constexpr int kPageRows = 1000;  // verify() and csv() read this many entries at a time

// The columns every read takes, in AuditRecord order (read_record()).
#define AUDIT_COLUMNS \
  "seq, at, actor, via, address, action, outcome, household, device, username, kind, detail, prev_hash, hash"

// The fields an entry's hash covers, in a fixed order, each as "<byte length>:<bytes>;" so
// that no two different entries encode alike. Prefixed with the encoding's version.
std::string canonical_fields(std::int64_t seq, safer::UnixMillis at, const AuditEntry& entry) {
  std::string out = "safer-audit-v1;";
  const auto add = [&out](std::string_view field) {
    out += std::to_string(field.size());
    out += ':';
    out += field;
    out += ';';
  };
  add(std::to_string(seq));
  add(std::to_string(at));
  for (const std::string* field : {&entry.actor.name, &entry.actor.via, &entry.actor.address, &entry.action,
                                   &entry.outcome, &entry.household, &entry.device, &entry.username, &entry.kind,
                                   &entry.detail}) {
    add(*field);
  }
  return out;
}

// SHA-256 (hex) of the previous entry's hash followed by this entry's canonical fields.
std::string chain_hash(const std::string& prev_hash, std::int64_t seq, safer::UnixMillis at, const AuditEntry& entry) {
  return token_hash(prev_hash + canonical_fields(seq, at, entry));  // token_hash() is SHA-256 as hex
}

// `text` cut to at most `limit` bytes, not inside a UTF-8 sequence.
std::string clipped(std::string text, std::size_t limit) {
  if (text.size() <= limit) return text;
  std::size_t end = limit;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  text.resize(end);
  return text;
}

AuditRecord read_record(const db::Statement& row) {
  AuditRecord record;
  record.seq = row.column_int(0);
  record.at = row.column_int(1);
  auto& entry = record.entry;
  entry.actor = Actor{row.column_text(2), row.column_text(3), row.column_text(4)};
  entry.action = row.column_text(5);
  entry.outcome = row.column_text(6);
  entry.household = row.column_text(7);
  entry.device = row.column_text(8);
  entry.username = row.column_text(9);
  entry.kind = row.column_text(10);
  entry.detail = row.column_text(11);
  record.prev_hash = row.column_text(12);
  record.hash = row.column_text(13);
  return record;
}

// The filter's dates as [from, to) in Unix milliseconds (local midnights).
std::pair<std::int64_t, std::int64_t> time_bounds(const AuditFilter& filter) {
  const std::int64_t from = filter.from ? local_midnight(*filter.from) : INT64_MIN;
  const std::int64_t to =
      filter.to ? local_midnight(safer::civil_from_days(safer::days_from_civil(*filter.to) + 1)) : INT64_MAX;
  return {from, to};
}

// Binds ?1 person, ?2 action, ?3..?4 the time bounds (the filter part of every listing).
void bind_filter(db::Statement& statement, const AuditFilter& filter) {
  const auto [from, to] = time_bounds(filter);
  statement.bind(1, filter.person).bind(2, filter.action).bind(3, from).bind(4, to);
}
#define AUDIT_FILTER                                                              \
  " (CAST(?1 AS TEXT) IS NULL OR actor = ?1 OR username = ?1)"                   \
  " AND (CAST(?2 AS TEXT) IS NULL OR action = ?2) AND at >= ?3 AND at < ?4"

// "anchor_seq=S anchor_hash=H": how a purge entry names the anchor it left (verify() reads it).
std::string anchor_text(std::int64_t seq, const std::string& hash) {
  return "anchor_seq=" + std::to_string(seq) + " anchor_hash=" + hash;
}

}  // namespace

void ServerStore::Impl::append_audit(const AuditEntry& given) {
  AuditEntry entry = given;
  entry.detail = clipped(std::move(entry.detail), kMaxDetailBytes);
  std::int64_t seq = 0;
  std::string prev_hash;
  {
    // Locked to the end of the transaction on PostgreSQL: appends from every server queue here.
    auto head = db.cached("SELECT last_seq, last_hash FROM audit_head WHERE id = 1 FOR UPDATE");
    if (!head->step()) throw db::Failure({"storage", "the audit trail's head row is missing: nothing was saved", ""}, false);
    seq = head->column_int(0) + 1;
    prev_hash = head->column_text(1);
  }
  const safer::UnixMillis at = options.wall_clock();
  const std::string hash = chain_hash(prev_hash, seq, at, entry);
  db.cached("INSERT INTO audit_log (" AUDIT_COLUMNS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)")
      ->bind(1, seq)
      .bind(2, at)
      .bind(3, entry.actor.name)
      .bind(4, entry.actor.via)
      .bind(5, entry.actor.address)
      .bind(6, entry.action)
      .bind(7, entry.outcome)
      .bind(8, entry.household)
      .bind(9, entry.device)
      .bind(10, entry.username)
      .bind(11, entry.kind)
      .bind(12, entry.detail)
      .bind(13, prev_hash)
      .bind(14, hash)
      .run();
  db.cached("UPDATE audit_head SET last_seq = ?, last_hash = ? WHERE id = 1")->bind(1, seq).bind(2, hash).run();
}

Status AuditLog::append(const AuditEntry& entry) {
  try {
    db::Transaction transaction(store_.impl_->db);
    store_.impl_->append_audit(entry);
    transaction.commit();
    return {};
  } catch (const db::Failure& failure) {
    return failure.error();
  }
}

Result<std::vector<AuditRecord>> AuditLog::list(const AuditFilter& filter) {
  if (filter.limit < 1 || filter.limit > kMaxAuditPage) {
    return Error{"invalid", "limit must be 1 to " + std::to_string(kMaxAuditPage), "limit"};
  }
  try {
    auto rows = store_.impl_->db.cached("SELECT " AUDIT_COLUMNS " FROM audit_log WHERE" AUDIT_FILTER
                                        " AND seq < ?5 ORDER BY seq DESC LIMIT ?6");
    bind_filter(*rows, filter);
    rows->bind(5, filter.before_seq.value_or(INT64_MAX)).bind(6, filter.limit);
    std::vector<AuditRecord> records;
    while (rows->step()) records.push_back(read_record(*rows));
    return records;
  } catch (const db::Failure& failure) {
    return failure.error();
  }
}

std::vector<AuditRecord> AuditLog::about_household(const std::string& household_id) {
  auto rows = store_.impl_->db.cached("SELECT " AUDIT_COLUMNS " FROM audit_log WHERE household = ? ORDER BY seq");
  rows->bind(1, household_id);
  std::vector<AuditRecord> records;
  while (rows->step()) records.push_back(read_record(*rows));
  return records;
}

std::int64_t AuditLog::csv(const AuditFilter& filter, const CsvSink& sink) {
  auto& db = store_.impl_->db;
  CsvOut out(sink);
  for (const char* column : {"seq", "time", "actor", "via", "address", "action", "outcome", "household", "device",
                             "username", "kind", "detail", "prev_hash", "hash"}) {
    out.text(column);
  }
  out.end_row();
  db::Transaction snapshot(db, db::Database::TransactionKind::read);
  std::int64_t after = 0, written = 0;
  for (int page_rows = kPageRows; page_rows == kPageRows;) {
    page_rows = 0;
    auto rows = db.cached("SELECT " AUDIT_COLUMNS " FROM audit_log WHERE" AUDIT_FILTER
                          " AND seq > ?5 ORDER BY seq LIMIT 1000");
    bind_filter(*rows, filter);
    rows->bind(5, after);
    while (rows->step()) {
      const auto record = read_record(*rows);
      const auto& entry = record.entry;
      out.number(record.seq).text(safer::format_rfc3339(record.at)).text(entry.actor.name).text(entry.actor.via);
      out.text(entry.actor.address).text(entry.action).text(entry.outcome).text(entry.household).text(entry.device);
      out.text(entry.username).text(entry.kind).text(entry.detail).text(record.prev_hash).text(record.hash);
      out.end_row();
      after = record.seq;
      ++page_rows;
      ++written;
    }
  }
  snapshot.commit();
  out.finish();
  return written;
}

namespace {

// The walk of verify(): fed the entries in seq order, it keeps the first break it finds.
class ChainWalk {
 public:
  ChainWalk(std::int64_t anchor_seq, std::string anchor_hash)
      : expected_seq_(anchor_seq + 1), expected_prev_(std::move(anchor_hash)) {}

  void feed(const AuditRecord& record) {
    ++entries_;
    if (record.entry.action == kAuditAuditPurge) last_purge_detail_ = record.entry.detail;
    if (!problem_.empty()) return;
    if (record.seq != expected_seq_) {
      return fail(expected_seq_, "entries " + std::to_string(expected_seq_) + " to " + std::to_string(record.seq - 1) +
                                     " are missing: deleted from the middle of the trail");
    }
    if (chain_hash(record.prev_hash, record.seq, record.at, record.entry) != record.hash) {
      return fail(record.seq, "entry " + std::to_string(record.seq) +
                                  " has been altered: its fields do not give its hash (edited, or moved from elsewhere)");
    }
    if (record.prev_hash != expected_prev_) {
      return fail(record.seq, "entry " + std::to_string(record.seq) + " does not follow entry " +
                                  std::to_string(record.seq - 1) + ": the chain was rewritten, reordered or spliced here");
    }
    expected_prev_ = record.hash;
    ++expected_seq_;
  }

  // The end of the trail against the head row and the anchor.
  void finish(std::int64_t head_seq, const std::string& head_hash, std::int64_t anchor_seq, const std::string& anchor_hash) {
    if (!problem_.empty()) return;
    const std::int64_t last_seq = expected_seq_ - 1;
    if (last_seq < head_seq) {
      return fail(last_seq + 1, "entries " + std::to_string(last_seq + 1) + " to " + std::to_string(head_seq) +
                                    " are missing: the end of the trail was deleted");
    }
    if (last_seq > head_seq || expected_prev_ != head_hash) {
      return fail(head_seq, "the last entries do not match the head: entries were added or rewritten outside the audit log");
    }
    if (anchor_seq > 0 && last_purge_detail_.find(anchor_text(anchor_seq, anchor_hash)) == std::string::npos) {
      return fail(anchor_seq + 1, "the oldest entries were removed without a recorded purge (the anchor, entry " +
                                      std::to_string(anchor_seq) + ", is not the one the last audit_purge entry names)");
    }
  }

  std::int64_t entries() const { return entries_; }
  std::int64_t first_bad_seq() const { return first_bad_seq_; }
  const std::string& problem() const { return problem_; }

 private:
  void fail(std::int64_t seq, std::string problem) {
    first_bad_seq_ = seq;
    problem_ = std::move(problem);
  }
  std::int64_t expected_seq_;
  std::string expected_prev_;
  std::int64_t entries_ = 0;
  std::int64_t first_bad_seq_ = 0;
  std::string problem_;
  std::string last_purge_detail_;
};

}  // namespace

AuditVerdict AuditLog::verify() {
  auto& db = store_.impl_->db;
  AuditVerdict verdict;
  db::Transaction snapshot(db, db::Database::TransactionKind::read);
  std::string anchor_hash;
  {
    auto head = db.cached("SELECT last_seq, last_hash, anchor_seq, anchor_hash FROM audit_head WHERE id = 1");
    if (!head->step()) {
      verdict.problem = "the audit trail's head row is missing";
      return verdict;
    }
    verdict.head_seq = head->column_int(0);
    verdict.head_hash = head->column_text(1);
    verdict.anchor_seq = head->column_int(2);
    anchor_hash = head->column_text(3);
  }
  ChainWalk walk(verdict.anchor_seq, anchor_hash);
  // Entries at or below the anchor are outside the chain (finish() checks the anchor itself).
  std::int64_t after = verdict.anchor_seq;
  for (int page_rows = kPageRows; page_rows == kPageRows;) {
    page_rows = 0;
    auto rows = db.cached("SELECT " AUDIT_COLUMNS " FROM audit_log WHERE seq > ? ORDER BY seq LIMIT 1000");
    rows->bind(1, after);
    while (rows->step()) {
      walk.feed(read_record(*rows));
      after = rows->column_int(0);
      ++page_rows;
    }
  }
  snapshot.commit();
  walk.finish(verdict.head_seq, verdict.head_hash, verdict.anchor_seq, anchor_hash);
  verdict.entries = walk.entries();
  verdict.first_bad_seq = walk.first_bad_seq();
  verdict.problem = walk.problem();
  verdict.intact = verdict.problem.empty();
  return verdict;
}

Result<AuditPurge> AuditLog::purge_before(safer::UnixMillis before, const Actor& actor) {
  auto& db = store_.impl_->db;
  try {
    db::Transaction transaction(db);
    AuditPurge purge;
    std::int64_t head_seq = 0;
    {
      auto head = db.cached("SELECT last_seq, anchor_seq, anchor_hash FROM audit_head WHERE id = 1 FOR UPDATE");
      if (!head->step()) return Error{"storage", "the audit trail's head row is missing: nothing was purged", ""};
      head_seq = head->column_int(0);
      purge.anchor_seq = head->column_int(1);
      purge.anchor_hash = head->column_text(2);
    }
    std::int64_t last_removed = head_seq;  // every entry, unless one is at or after `before`
    {
      auto first_kept = db.cached("SELECT min(seq) FROM audit_log WHERE at >= ?");
      first_kept->bind(1, before);
      if (first_kept->step() && !first_kept->column_is_null(0)) last_removed = first_kept->column_int(0) - 1;
    }
    if (last_removed > purge.anchor_seq) {
      auto hash = db.cached("SELECT hash FROM audit_log WHERE seq = ?");
      hash->bind(1, last_removed);
      if (!hash->step()) return Error{"invalid", "the audit trail has a gap before entry " + std::to_string(last_removed + 1) +
                                                     ": run audit verify; nothing was purged", ""};
      purge.anchor_hash = hash->column_text(0);
      purge.anchor_seq = last_removed;
    }
    // The anchor moves first: the trigger lets only entries at or below it go.
    db.cached("UPDATE audit_head SET anchor_seq = ?, anchor_hash = ? WHERE id = 1")
        ->bind(1, purge.anchor_seq)
        .bind(2, purge.anchor_hash)
        .run();
    db.cached("DELETE FROM audit_log WHERE seq <= ?")->bind(1, purge.anchor_seq).run();
    purge.removed = db.changes();
    AuditEntry entry{actor, kAuditAuditPurge};
    entry.kind = "audit";
    entry.detail = "before=" + safer::format_rfc3339(before) + " removed=" + std::to_string(purge.removed) + " " +
                   anchor_text(purge.anchor_seq, purge.anchor_hash);
    store_.impl_->append_audit(entry);
    transaction.commit();
    return purge;
  } catch (const db::Failure& failure) {
    return failure.error();
  }
}

std::string audit_json(const std::vector<AuditRecord>& records, int limit) {
  safer::JsonOut out;
  out.begin_object().key("entries").begin_array();
  for (const auto& record : records) {
    const auto& entry = record.entry;
    out.begin_object().field("seq", record.seq).field("at", safer::format_rfc3339(record.at));
    out.field("actor", entry.actor.name).field("via", entry.actor.via).field("address", entry.actor.address);
    out.field("action", entry.action).field("outcome", entry.outcome).field("household", entry.household);
    out.field("device", entry.device).field("username", entry.username).field("kind", entry.kind);
    out.field("detail", entry.detail).field("hash", record.hash).end_object();
  }
  out.end_array().key("next_before");
  if (static_cast<int>(records.size()) == limit && !records.empty()) {
    out.value(records.back().seq);
  } else {
    out.null();
  }
  return out.end_object().str();
}

}  // namespace sync_server
