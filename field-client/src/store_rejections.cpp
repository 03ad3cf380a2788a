// Refused changes: how long a rejected outbox entry keeps its record data, and discarding one.
//
// A rejected entry keeps its data while the officer may need it to see what was refused and
// fix it. It drops the data (keeping seq, id, hlc, code and message) when:
//  - a later change of the same record is acked (the officer fixed it): drop_superseded_rejections;
//  - its record left the user's scope (evicted, or erased: a pulled tombstone) and nothing of
//    it is pending: drop_evicted, drop_tombstoned;
//  - the officer discards it: Store::discard_rejected.
#include "store_impl.h"

namespace field_client {

namespace detail {

void drop_superseded_rejections(sqlite::Database& db) {
  db.cached(
        "UPDATE outbox SET data = NULL WHERE state = 'rejected' AND data IS NOT NULL AND EXISTS (SELECT 1 FROM outbox a"
        " WHERE a.entity = outbox.entity AND a.record_id = outbox.record_id AND a.state = 'acked' AND a.seq > outbox.seq)")
      ->run();
}

// Runs after every ack. The indexes are named: without INDEXED BY the SQLite we build with
// (3.53) walked every visit on the tablet by primary key for the first DELETE, and every
// pending outbox entry for each marked record (B5: a fifth of a sync's time).
void drop_evicted(sqlite::Database& db) {
#define NOTHING_PENDING                                                                  \
  " NOT EXISTS (SELECT 1 FROM outbox o INDEXED BY outbox_by_record WHERE o.entity = records.entity" \
  " AND o.record_id = records.id AND o.state = 'pending')"
  db.cached(
        "UPDATE outbox SET data = NULL WHERE state = 'rejected' AND data IS NOT NULL AND EXISTS (SELECT 1 FROM records"
        " WHERE records.evicted = 1 AND records.entity = outbox.entity AND records.id = outbox.record_id AND"
        NOTHING_PENDING ")")
      ->run();
  db.cached("DELETE FROM records INDEXED BY records_evicted WHERE evicted = 1 AND entity = 'visit' AND" NOTHING_PENDING)
      ->run();
  db.cached("DELETE FROM records INDEXED BY records_evicted WHERE evicted = 1 AND entity = 'household' AND" NOTHING_PENDING
            " AND NOT EXISTS (SELECT 1 FROM records v WHERE v.entity = 'visit' AND v.household_id = records.id)")
      ->run();
#undef NOTHING_PENDING
}

void evict_household(sqlite::Database& db, const std::string& household_id) {
  db.cached(
        "UPDATE records SET evicted = 1 WHERE (entity = 'household' AND id = ?1)"
        " OR (entity = 'visit' AND household_id = ?1)")
      ->bind(1, household_id)
      .run();
  drop_evicted(db);
}

bool has_pending(sqlite::Database& db, const std::string& entity, const std::string& id) {
  auto pending = db.cached("SELECT 1 FROM outbox WHERE entity = ? AND record_id = ? AND state = 'pending' LIMIT 1");
  pending->bind(1, entity).bind(2, id);
  return pending->step();
}

void drop_tombstoned(sqlite::Database& db, const std::string& entity, const std::string& id) {
  db.cached("UPDATE outbox SET data = NULL WHERE entity = ? AND record_id = ? AND state = 'rejected'")
      ->bind(1, entity)
      .bind(2, id)
      .run();
  if (entity != "household") return;
  // Visits the server never had (their creation was refused, or waits) go with it once
  // nothing of theirs is pending; the server's own visits come as tombstones of their own.
  db.cached("UPDATE records SET evicted = 1 WHERE entity = 'visit' AND household_id = ?")->bind(1, id).run();
  drop_evicted(db);
}

}  // namespace detail

namespace {

Error not_refused(std::int64_t seq, const std::string& state) {
  return Error{"invalid", "change " + std::to_string(seq) + " was not refused by the server (it is " + state +
                              "): only a refused change can be discarded", "seq"};
}

}  // namespace

Result<Discarded> Store::discard_rejected(std::int64_t seq) {
  auto& db = impl_->db;
  return in_transaction(db, [&]() -> Result<Discarded> {
    auto entry = db.cached("SELECT entity, record_id, state FROM outbox WHERE seq = ?");
    entry->bind(1, seq);
    if (!entry->step()) return Error{"not_found", "there is no change " + std::to_string(seq) + " on this device", "seq"};
    const std::string entity = entry->column_text(0), id = entry->column_text(1), state = entry->column_text(2);
    entry->reset();
    if (state != "rejected") return not_refused(seq, state);
    db.cached("UPDATE outbox SET state = 'discarded', data = NULL WHERE seq = ?")->bind(1, seq).run();

    auto later = db.cached(
        "SELECT 1 FROM outbox WHERE entity = ? AND record_id = ? AND seq > ? AND state <> 'discarded' LIMIT 1");
    later->bind(1, entity).bind(2, id).bind(3, seq);
    const bool superseded = later->step();
    later->reset();
    auto record = db.cached("SELECT created_here FROM records WHERE entity = ? AND id = ?");
    record->bind(1, entity).bind(2, id);
    const bool held = record->step();
    const bool created_here = held && record->column_int(0) != 0;
    record->reset();
    if (superseded || !held) return Discarded::change_only;

    // The record's latest change is discarded: it returns to the server's state.
    auto accepted = db.cached("SELECT 1 FROM outbox WHERE entity = ? AND record_id = ? AND state = 'acked' LIMIT 1");
    accepted->bind(1, entity).bind(2, id);
    const bool on_server = !created_here || accepted->step();
    accepted->reset();
    if (!on_server && entity == "household") {
      auto visits = db.cached("SELECT count(*) FROM records WHERE entity = 'visit' AND household_id = ?");
      visits->bind(1, id);
      const std::int64_t count = visits->step() ? visits->column_int(0) : 0;
      visits->reset();
      if (count > 0) {
        return forbidden("seq", "the server never accepted this household, and " + std::to_string(count) +
                                    " visit(s) to it are on this tablet: discard their refused changes first");
      }
    }
    db.cached("UPDATE outbox SET state = 'discarded', data = NULL WHERE entity = ? AND record_id = ? AND state = 'rejected'")
        ->bind(1, entity)
        .bind(2, id)
        .run();
    db.cached("DELETE FROM records WHERE entity = ? AND id = ?")->bind(1, entity).bind(2, id).run();
    if (!on_server) return Discarded::record_removed;
    // Pulls bring only what changed since the cursor, and the server's version did not: the
    // next sync pulls the scope afresh (as after cursor_invalid), which brings it back. It is
    // only asked for here: a pull may be running on another thread (the app's background sync),
    // and a fresh pull must not start in the middle of it (begin_requested_full_pull).
    impl_->set_meta("refetch", "1");
    return Discarded::record_refetched;
  });
}

std::string_view to_string(Discarded outcome) {
  switch (outcome) {
    case Discarded::change_only: return "change_only";
    case Discarded::record_removed: return "record_removed";
    case Discarded::record_refetched: return "record_refetched";
  }
  return "change_only";
}

}  // namespace field_client
