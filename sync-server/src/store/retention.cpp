// The retention policy and the purge that applies it (sync_server/retention.h).
#include "sync_server/retention.h"

#include <charconv>

#include "safer/record_json.h"
#include "safer/text.h"
#include "store_impl.h"
#include "sync_server/local_time.h"

namespace sync_server {

namespace {

constexpr std::int64_t kDayMs = 86'400'000;

// Whose versions the purge writes (protocol.md §4.2: a writer inside the server).
const DeviceIdentity kRetentionWriter{"retention", "retention", safer::Role::coordinator};

// A place in the change feed, (xid, version): (0, version) on SQLite. As pull.cpp's.
using Position = std::pair<std::uint64_t, std::int64_t>;

std::string position_text(const Position& position) {
  return std::to_string(position.first) + "." + std::to_string(position.second);
}

Position parse_position(const std::string& text) {
  Position position{0, 0};
  const auto dot = text.find('.');
  if (dot == std::string::npos) return position;
  std::from_chars(text.data(), text.data() + dot, position.first);
  std::from_chars(text.data() + dot + 1, text.data() + text.size(), position.second);
  return position;
}

// Where a batched step goes on from: the sort key of the last record it looked at.
using Keyset = std::pair<std::string, std::string>;

// Runs `step` (one batch after a keyset: it sets how many records it changed and the keyset of
// the last it looked at, and returns how many it looked at) in write groups of its own until a
// batch looks at fewer than `batch`. Returns how many were changed. The keyset moves only once
// a batch has committed, so that a group run again (PostgreSQL) starts where it did.
template <class Step>
Result<std::int64_t> in_batches(ServerStore& store, int batch, Step step) {
  std::int64_t total = 0;
  Keyset from;
  for (;;) {
    std::int64_t changed = 0;
    Keyset next = from;
    auto looked = in_write_group(store, [&]() -> Result<std::int64_t> {
      changed = 0;
      next = from;
      return step(from, next, changed);
    });
    if (!looked) return looked.error();
    total += changed;
    from = next;
    if (*looked < batch) return total;
  }
}

// The first column of a statement's one row, as a count.
std::int64_t count_of(db::Statement& statement) { return statement.step() ? statement.column_int(0) : 0; }

}  // namespace

// --- The policy ------------------------------------------------------------------------------

Result<RetentionAge> RetentionAge::parse(std::string_view text, const std::string& setting) {
  if (text == "never") return never();
  const auto bad = [&] {
    return Error{"invalid",
                 setting + " must be a number of days or years, such as 90d or 6y (at most 36500d or 100y), or never",
                 setting};
  };
  if (text.size() < 2) return bad();
  const char unit = text.back();
  if (unit != 'd' && unit != 'y') return bad();
  std::int64_t count = -1;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size() - 1, count);
  if (ec != std::errc() || end != text.data() + text.size() - 1 || count < 0) return bad();
  if (unit == 'd' ? count > 36500 : count > 100) return bad();
  return RetentionAge{count, unit == 'd' ? Unit::days : Unit::years};
}

std::string RetentionAge::to_string() const {
  if (!count) return "never";
  return std::to_string(*count) + (unit == Unit::days ? "d" : "y");
}

std::optional<safer::UnixMillis> RetentionAge::cutoff(safer::UnixMillis now) const {
  if (!count) return std::nullopt;
  if (unit == Unit::days) return now - *count * kDayMs;
  const std::int64_t day = now >= 0 ? now / kDayMs : (now - kDayMs + 1) / kDayMs;
  auto date = safer::civil_from_days(day);
  date.year -= static_cast<int>(*count);
  if (date.month == 2 && date.day == 29) date.day = 28;  // the same date, or the last of February
  return safer::days_from_civil(date) * kDayMs + (now - day * kDayMs);
}

std::int64_t RetentionAge::longest_days() const {
  if (!count) return INT64_MAX;
  return unit == Unit::days ? *count : *count * 366;
}

std::string RetentionPolicy::to_string() const {
  return "visits=" + visits.to_string() + " notes=" + notes.to_string() + " commute_sessions=" +
         commute_sessions.to_string() + " tombstones=" + tombstones.to_string() + " audit=" + audit.to_string();
}

Result<RetentionPolicy> RetentionPolicy::parse(std::string_view text) {
  RetentionPolicy policy;
  const std::pair<const char*, RetentionAge*> settings[] = {{"visits", &policy.visits},
                                                           {"notes", &policy.notes},
                                                           {"commute_sessions", &policy.commute_sessions},
                                                           {"tombstones", &policy.tombstones},
                                                           {"audit", &policy.audit}};
  std::size_t at = 0;
  while (at < text.size()) {
    const auto end = std::min(text.find(' ', at), text.size());
    const auto item = text.substr(at, end - at);
    at = end + 1;
    if (item.empty()) continue;
    const auto equals = item.find('=');
    const std::string name(item.substr(0, equals));
    RetentionAge* target = nullptr;
    for (const auto& [known, age] : settings) {
      if (name == known) target = age;
    }
    if (target == nullptr || equals == std::string_view::npos) {
      return Error{"invalid", "unknown retention setting \"" + name +
                                  "\": the settings are visits, notes, commute_sessions, tombstones and audit", name};
    }
    auto age = RetentionAge::parse(item.substr(equals + 1), name);
    if (!age) return age.error();
    *target = *age;
  }
  if (auto checked = policy.check(); !checked) return checked.error();
  return policy;
}

Status RetentionPolicy::check() const {
  const std::pair<const char*, const RetentionAge*> nonzero[] = {
      {"visits", &visits}, {"notes", &notes}, {"commute_sessions", &commute_sessions}, {"audit", &audit}};
  for (const auto& [name, age] : nonzero) {
    if (age->count && *age->count == 0) {
      return Error{"invalid", std::string(name) + " must be kept at least 1 day (0 would purge everything at once)", name};
    }
  }
  // Notes go with their visit: blanking them later than the visit is erased means nothing.
  const bool notes_outlive = notes.unit == visits.unit ? notes.longest_days() > visits.longest_days()
                                                      : notes.cutoff(0) < visits.cutoff(0) || (!notes.count && visits.count);
  if (notes_outlive) {
    return Error{"invalid", "notes (" + notes.to_string() + ") must not be kept longer than visits (" +
                                visits.to_string() + "): notes are erased with their visit",
                 "notes"};
  }
  return {};
}

std::string PurgeCounts::to_string() const {
  return "visits_erased=" + std::to_string(visits_erased) + " orphans_erased=" + std::to_string(orphans_erased) +
         " notes_blanked=" + std::to_string(notes_blanked) +
         " sessions_erased=" + std::to_string(sessions_erased) + " tombstones_compacted=" +
         std::to_string(tombstones_compacted) + " exits_compacted=" + std::to_string(exits_compacted) +
         " audit_removed=" + std::to_string(audit_removed);
}

Result<RetentionPolicy> Retention::policy() {
  try {
    const auto stored = store_.impl_->meta("retention_policy");
    return stored ? RetentionPolicy::parse(*stored) : RetentionPolicy{};
  } catch (const db::Failure& failure) {
    return failure.error();
  }
}

Status Retention::set_policy(const RetentionPolicy& policy, const Actor& by) {
  if (auto checked = policy.check(); !checked) return checked;
  auto& impl = *store_.impl_;
  try {
    db::Transaction transaction(impl.db);
    impl.set_meta("retention_policy", policy.to_string());
    AuditEntry entry{by, kAuditRetentionChange};
    entry.detail = policy.to_string();
    impl.append_audit(entry);
    transaction.commit();
    return {};
  } catch (const db::Failure& failure) {
    return failure.error();
  }
}

Status Retention::check_audit_purge(safer::UnixMillis before) {
  const auto current = policy();
  if (!current) return current.error();
  const auto cutoff = current->audit.cutoff(store_.impl_->options.wall_clock());
  if (!cutoff) {
    return Error{"invalid", "the retention policy keeps audit entries for ever (audit=never): nothing may be purged",
                 "--before"};
  }
  if (before > *cutoff) {
    return Error{"invalid", "the retention policy keeps audit entries for " + current->audit.to_string() +
                                ": --before must be no later than " + safer::format_iso_date(local_date(*cutoff)),
                 "--before"};
  }
  return {};
}

// --- The compaction horizon (used by pull.cpp) -----------------------------------------------

std::pair<std::uint64_t, std::int64_t> ServerStore::Impl::compaction_horizon() {
  return parse_position(meta("compacted_through").value_or("0.0"));
}

// --- The purge -------------------------------------------------------------------------------

// One purge run's steps over a store, each a batched loop or a count (dry).
class Retention::Purge {
 public:
  // `now`: the run's time, which the cutoffs were taken from.
  Purge(ServerStore& store, ServerStore::Impl& impl, int batch, bool dry, safer::UnixMillis now)
      : store_(store), impl_(impl), db_(impl.db), batch_(batch), dry_(dry), now_(now) {}

  Result<std::int64_t> erase_visits(safer::UnixMillis cutoff);
  Result<std::int64_t> blank_notes(safer::UnixMillis cutoff, std::optional<safer::UnixMillis> erased_before);
  Result<std::int64_t> erase_sessions(safer::UnixMillis cutoff);
  Result<std::int64_t> erase_orphans();
  Result<std::int64_t> erase_older(safer::Entity entity, const char* count, const char* page, safer::UnixMillis cutoff);
  Status compact(safer::UnixMillis cutoff, PurgeCounts& counts);

 private:
  // Writes `change` as the retention writer's, after the record's current version.
  bool write(safer::Change change);
  Position feed_now();

  ServerStore& store_;
  ServerStore::Impl& impl_;
  db::Database& db_;
  int batch_;
  bool dry_;
  safer::UnixMillis now_;
};

bool Retention::Purge::write(safer::Change change) {
  const auto current = impl_.find_row(change.entity, change.id);  // locked (PostgreSQL) for the write below
  safer::HlcClock clock(impl_.options.wall_clock, impl_.server_hlc);
  if (current) clock.observe(current->hlc);  // the purge's version must win on every device
  change.hlc = clock.tick();
  bool applied = false;
  // As a writer that knows answers: a feedback text it removes stays removed (§5.8).
  const safer::WriterRules rules{.questions = true};
  const auto rejection =
      impl_.apply_change(kRetentionWriter, change, applied, ServerStore::Impl::Stamp::server, {}, rules);
  return !rejection && applied;
}

// Erases, oldest first, the live records of `entity` older than `cutoff`: `count` counts them
// (?1: the cutoff, as RFC 3339 text); `page` lists the next (time, id) after the keyset ?2, ?3,
// at most ?4.
Result<std::int64_t> Retention::Purge::erase_older(safer::Entity entity, const char* count, const char* page,
                                                   safer::UnixMillis cutoff) {
  const std::string before = safer::format_rfc3339(cutoff);
  if (dry_) {
    auto counted = db_.cached(count);
    counted->bind(1, before);
    return count_of(*counted);
  }
  return in_batches(store_, batch_, [&](const Keyset& from, Keyset& next, std::int64_t& erased) -> Result<std::int64_t> {
    auto rows = db_.cached(page);
    rows->bind(1, before).bind(2, from.first).bind(3, from.second).bind(4, batch_);
    std::vector<Keyset> found;
    while (rows->step()) found.emplace_back(rows->column_text(0), rows->column_text(1));
    for (const auto& [time, id] : found) {
      safer::Change change;
      change.entity = entity;
      change.op = safer::Op::remove;
      change.id = id;
      if (write(std::move(change))) ++erased;
      next = {time, id};
    }
    return static_cast<std::int64_t>(found.size());
  });
}

Result<std::int64_t> Retention::Purge::erase_visits(safer::UnixMillis cutoff) {
  return erase_older(safer::Entity::visit,
                     "SELECT count(*) FROM records WHERE entity = 'visit' AND deleted = 0 AND visited_at < ?1",
                     "SELECT visited_at, id FROM records WHERE entity = 'visit' AND deleted = 0 AND visited_at < ?1"
                     " AND (visited_at, id) > (?2, ?3) ORDER BY visited_at, id LIMIT ?4",
                     cutoff);
}

// Before erasure took a household's visits with it (SQLite migration 8), deleting a household
// left them live. ?1 (a cutoff, never empty) is not used: every such visit goes.
Result<std::int64_t> Retention::Purge::erase_orphans() {
  return erase_older(safer::Entity::visit,
                     "SELECT count(*) FROM records v JOIN records h ON h.entity = 'household' AND h.id = v.household_id"
                     " AND h.deleted = 1 WHERE v.entity = 'visit' AND v.deleted = 0 AND ?1 <> ''",
                     "SELECT v.visited_at, v.id FROM records v JOIN records h ON h.entity = 'household'"
                     " AND h.id = v.household_id AND h.deleted = 1 WHERE v.entity = 'visit' AND v.deleted = 0"
                     " AND ?1 <> '' AND (v.visited_at, v.id) > (?2, ?3) ORDER BY v.visited_at, v.id LIMIT ?4",
                     now_);
}

Result<std::int64_t> Retention::Purge::erase_sessions(safer::UnixMillis cutoff) {
  return erase_older(safer::Entity::commute_session,
                     "SELECT count(*) FROM records WHERE entity = 'commute_session' AND deleted = 0"
                     " AND json_extract(data, '$.started_at') < ?1",
                     "SELECT json_extract(data, '$.started_at'), id FROM records WHERE entity = 'commute_session'"
                     " AND deleted = 0 AND json_extract(data, '$.started_at') < ?1"
                     " AND (json_extract(data, '$.started_at'), id) > (?2, ?3) ORDER BY 1, 2 LIMIT ?4",
                     cutoff);
}

Result<std::int64_t> Retention::Purge::blank_notes(safer::UnixMillis cutoff, std::optional<safer::UnixMillis> erased_before) {
  const std::string before = safer::format_rfc3339(cutoff);
  // A dry run counts the visits that a run would not erase first.
  const std::string kept_from = erased_before ? safer::format_rfc3339(*erased_before) : "";
  // A feedback text (a text answer, protocol.md §5.8) is personal as the notes are, and goes with them.
  const auto& lists = impl_.options.lists;
  const auto blank = [&lists](safer::Visit& visit) {  // whether there was anything to blank
    const bool had_notes = !visit.notes.empty();
    visit.notes.clear();
    const auto removed = std::erase_if(visit.answers, [&lists](const auto& entry) {
      const safer::Question* question = lists.find_question(entry.first);
      return question != nullptr && question->kind == safer::QuestionKind::text;
    });
    return had_notes || removed > 0;
  };
  if (dry_) {
    auto rows = db_.cached(
        "SELECT data FROM records WHERE entity = 'visit' AND deleted = 0 AND visited_at < ?1 AND visited_at >= ?2"
        " AND (coalesce(json_extract(data, '$.notes'), '') <> '' OR json_extract(data, '$.answers') IS NOT NULL)");
    rows->bind(1, before).bind(2, kept_from);
    std::int64_t count = 0;
    while (rows->step()) {
      safer::Visit visit;
      safer::from_json(rows->column_text(0), visit);
      if (blank(visit)) ++count;
    }
    return count;
  }
  return in_batches(store_, batch_, [&](const Keyset& from, Keyset& next, std::int64_t& blanked) -> Result<std::int64_t> {
    auto rows = db_.cached(
        "SELECT visited_at, id FROM records WHERE entity = 'visit' AND deleted = 0 AND visited_at < ?1"
        " AND (visited_at, id) > (?2, ?3)"
        " AND (coalesce(json_extract(data, '$.notes'), '') <> '' OR json_extract(data, '$.answers') IS NOT NULL)"
        " ORDER BY visited_at, id LIMIT ?4");
    rows->bind(1, before).bind(2, from.first).bind(3, from.second).bind(4, batch_);
    std::vector<Keyset> found;
    while (rows->step()) found.emplace_back(rows->column_text(0), rows->column_text(1));
    for (const auto& [visited_at, id] : found) {
      next = {visited_at, id};
      // Read again under its lock: on PostgreSQL a device may have written it since.
      const auto current = impl_.find_row(safer::Entity::visit, id);
      if (!current || current->deleted) continue;
      safer::Visit visit;
      safer::from_json(current->data, visit);  // written by this store: always valid
      if (!blank(visit)) continue;
      safer::Change change;
      change.entity = safer::Entity::visit;
      change.op = safer::Op::upsert;
      change.id = id;
      change.data = std::move(visit);
      if (write(std::move(change))) ++blanked;
    }
    return static_cast<std::int64_t>(found.size());
  });
}

// Everything committed before now: SQLite's newest version; on PostgreSQL everything below
// the oldest transaction still running (the pull watermark, pull.cpp).
Position Retention::Purge::feed_now() {
  if (!db_.postgresql()) return {0, std::stoll(impl_.meta("last_version").value_or("0"))};
  auto mark = db_.cached("SELECT pg_snapshot_xmin(pg_current_snapshot())::text");
  mark->step();
  return {std::stoull(mark->column_text(0)) - 1, INT64_MAX};
}

// Tombstones are compacted by their place in the feed, not by a time of their own: each run
// notes where the feed stands (feed_marks), and a later run compacts what lay before the
// newest mark at least the tombstone age old — tombstones written before then.
Status Retention::Purge::compact(safer::UnixMillis cutoff, PurgeCounts& counts) {
  const bool postgresql = db_.postgresql();
  std::optional<Position> horizon;
  auto marked = in_write_group(store_, [&]() -> Result<bool> {
    horizon.reset();
    const auto now = now_;  // a mark at the cutoff's own time is old enough for "0d"
    const Position here = feed_now();
    if (!dry_) {
      db_.cached("INSERT INTO feed_marks (at, xid, version) VALUES (?, ?, ?)")
          ->bind(1, now)
          .bind(2, static_cast<std::int64_t>(here.first))
          .bind(3, here.second)
          .run();
    }
    std::optional<std::pair<safer::UnixMillis, Position>> chosen;
    {
      auto mark = db_.cached(
          "SELECT at, xid, version FROM feed_marks WHERE at <= ? ORDER BY at DESC, xid DESC, version DESC LIMIT 1");
      mark->bind(1, cutoff);
      if (mark->step()) {
        chosen = {mark->column_int(0), {static_cast<std::uint64_t>(mark->column_int(1)), mark->column_int(2)}};
      }
    }
    if (!chosen && dry_ && cutoff >= now) chosen = {now, here};  // 0d: this run's own mark
    if (!chosen) return false;
    horizon = std::max(chosen->second, impl_.compaction_horizon());
    const auto exits = postgresql ? db_.cached("SELECT count(*) FROM exits WHERE (xid, version) <= (?1::xid8, ?2)")
                                  : db_.cached("SELECT count(*) FROM exits WHERE version <= ?2");
    if (postgresql) exits->bind(1, std::to_string(horizon->first));
    exits->bind(2, horizon->second);
    counts.exits_compacted = count_of(*exits);
    if (dry_) return true;
    // The horizon moves before anything goes: from this commit on, a pull from an older
    // cursor is refused (pull.cpp), so none can miss what is removed.
    impl_.set_meta("compacted_through", position_text(*horizon));
    db_.cached("DELETE FROM feed_marks WHERE at < ?")->bind(1, chosen->first).run();
    auto drop = postgresql ? db_.cached("DELETE FROM exits WHERE (xid, version) <= (?1::xid8, ?2)")
                           : db_.cached("DELETE FROM exits WHERE version <= ?2");
    if (postgresql) drop->bind(1, std::to_string(horizon->first));
    drop->bind(2, horizon->second).run();
    return true;
  });
  if (!marked) return marked.error();
  if (!horizon) return {};
  if (dry_) {
    auto count = postgresql ? db_.cached("SELECT count(*) FROM records WHERE deleted = 1 AND entity <> 'household'"
                                         " AND (xid, version) <= (?1::xid8, ?2)")
                            : db_.cached("SELECT count(*) FROM records WHERE deleted = 1 AND entity <> 'household'"
                                         " AND version <= ?2");
    if (postgresql) count->bind(1, std::to_string(horizon->first));
    count->bind(2, horizon->second);
    counts.tombstones_compacted = count_of(*count);
    return {};
  }
  auto compacted = in_batches(store_, batch_, [&](const Keyset&, Keyset&, std::int64_t& removed) -> Result<std::int64_t> {
    // Household tombstones stay: they keep an erased household erased (apply.cpp).
    auto drop = postgresql
                    ? db_.cached("DELETE FROM records WHERE (entity, id) IN (SELECT entity, id FROM records"
                                 " WHERE deleted = 1 AND (xid, version) <= (?1::xid8, ?2) AND entity <> 'household'"
                                 " LIMIT ?3 FOR UPDATE SKIP LOCKED)")
                    : db_.cached("DELETE FROM records WHERE (entity, id) IN (SELECT entity, id FROM records"
                                 " WHERE deleted = 1 AND version <= ?2 AND entity <> 'household' LIMIT ?3)");
    if (postgresql) drop->bind(1, std::to_string(horizon->first));
    drop->bind(2, horizon->second).bind(3, batch_).run();
    removed = db_.changes();
    return removed;
  });
  if (!compacted) return compacted.error();
  counts.tombstones_compacted = *compacted;
  return {};
}

Result<PurgeCounts> Retention::run(bool dry_run, const Actor& by, int batch) {
  auto& impl = *store_.impl_;
  PurgeCounts counts;
  AuditEntry entry{by, kAuditRetentionPurge};
  const auto outcome = [&]() -> Status {
    const auto current = policy();
    if (!current) return current.error();
    const auto now = impl.options.wall_clock();
    Purge purge(store_, impl, batch, dry_run, now);
    const auto visits_cutoff = current->visits.cutoff(now);
    // Visits first: their notes then need no blanking.
    auto orphans = purge.erase_orphans();
    if (!orphans) return orphans.error();
    counts.orphans_erased = *orphans;
    if (visits_cutoff) {
      auto erased = purge.erase_visits(*visits_cutoff);
      if (!erased) return erased.error();
      counts.visits_erased = *erased;
    }
    if (const auto cutoff = current->notes.cutoff(now)) {
      auto blanked = purge.blank_notes(*cutoff, visits_cutoff);
      if (!blanked) return blanked.error();
      counts.notes_blanked = *blanked;
    }
    if (const auto cutoff = current->commute_sessions.cutoff(now)) {
      auto erased = purge.erase_sessions(*cutoff);
      if (!erased) return erased.error();
      counts.sessions_erased = *erased;
    }
    if (const auto cutoff = current->tombstones.cutoff(now)) {
      if (auto compacted = purge.compact(*cutoff, counts); !compacted) return compacted;
    }
    if (const auto cutoff = current->audit.cutoff(now)) {
      try {
        auto old = impl.db.cached(
            "SELECT count(*) FROM audit_log WHERE seq < coalesce((SELECT min(seq) FROM audit_log WHERE at >= ?1),"
            " (SELECT last_seq + 1 FROM audit_head))");
        old->bind(1, *cutoff);
        counts.audit_removed = count_of(*old);
      } catch (const db::Failure& failure) {
        return failure.error();
      }
      if (counts.audit_removed > 0 && !dry_run) {
        auto purged = AuditLog(store_).purge_before(*cutoff, by);
        if (!purged) return purged.error();
        counts.audit_removed = purged->removed;
      }
    }
    entry.detail = current->to_string();
    return {};
  }();
  entry.outcome = outcome ? "ok" : outcome.error().code;
  entry.detail = std::string(dry_run ? "dry_run=1 " : "") + counts.to_string() + " " + entry.detail;
  auto appended = AuditLog(store_).append(entry);
  if (!outcome) return outcome.error();
  if (!appended) return appended.error();
  return counts;
}

}  // namespace sync_server
