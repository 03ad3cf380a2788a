// The store's side of sync: enrolment, welcome, acks, pulled pages and their cursor.
#include "safer/text.h"
#include "safer/validation.h"
#include "store_impl.h"
#include "ws_connection.h"

namespace field_client {

void Store::Impl::start_full_pull() {
  const std::int64_t generation = std::stoll(meta("pull_gen").value_or("0")) + 1;
  set_meta("pull_gen", std::to_string(generation));
  set_meta("cursor", "");
  set_meta("full_pull", "1");
}

Status Store::enroll(const std::string& server_url, const std::string& token, const std::string& ca_file,
                     bool allow_plaintext) {
  if (server_url.rfind("ws://", 0) != 0 && server_url.rfind("wss://", 0) != 0) {
    return Error{"invalid", "the server URL must start with ws:// or wss://, such as ws://127.0.0.1:8080", "server"};
  }
  if (token.empty() || token.find_first_of(" \t\r\n") != std::string::npos) {
    return Error{"invalid", "the token must be the one line sync-server enroll printed", "token"};
  }
  if (auto plaintext = check_plaintext(server_url, allow_plaintext); !plaintext) return plaintext;
  return in_transaction(impl_->db, [&]() -> Status {
    impl_->set_meta("server_url", server_url);
    impl_->set_meta("token", token);
    impl_->set_meta("ca_file", ca_file);
    impl_->set_meta("allow_plaintext", allow_plaintext ? "1" : "");
    return {};
  });
}

Status Store::set_device_id(const std::string& device_id) {
  if (!safer::is_valid_user_id(device_id)) {
    return Error{"invalid", "the device id must be 1 to 64 letters, digits, '.', '_', '@' or '-'", "device"};
  }
  return in_transaction(impl_->db, [&]() -> Status {
    if (device_id == impl_->device_id()) return {};
    auto held = impl_->db.cached("SELECT (SELECT count(*) FROM records) + (SELECT count(*) FROM outbox)");
    if (held->step() && held->column_int(0) > 0) {
      return Error{"exists", "this store already holds records made as device " + impl_->device_id() +
                                 "; enrol the tablet under that id instead", "device"};
    }
    impl_->set_meta("device_id", device_id);
    return {};
  });
}

Result<Enrollment> Store::enrollment() const {
  return reading("the device's enrolment", [&]() -> Result<Enrollment> {
    auto url = impl_->meta("server_url");
    auto token = impl_->meta("token");
    if (!url || !token) {
      return Error{"not_enrolled", "this device is not enrolled: run field-client enroll --server URL --token TOKEN", ""};
    }
    return Enrollment{std::move(*url), std::move(*token), impl_->meta("ca_file").value_or(""),
                      impl_->meta("allow_plaintext").value_or("") == "1"};
  });
}

Status Store::apply_welcome(const safer::Welcome& welcome, safer::UnixMillis local_now) {
  return in_transaction(impl_->db, [&]() -> Status {
    const std::string role(safer::to_string(welcome.role));
    // The tablet was enrolled again for another user or role: what it holds was the old
    // scope's. The next pull starts afresh and drops what the new scope does not bring
    // (records with changes of the device's own that the server has not accepted stay).
    const auto user_before = impl_->meta("user_id");
    const auto role_before = impl_->meta("role");
    if ((user_before && *user_before != welcome.user_id) || (role_before && *role_before != role)) {
      impl_->start_full_pull();
    }
    impl_->set_meta("role", role);
    impl_->set_meta("user_id", welcome.user_id);
    impl_->set_meta("wards", safer::join_lines(welcome.wards));
    impl_->set_meta("stations", safer::join_lines(welcome.stations));
    impl_->set_meta("questions", safer::questions_to_json(welcome.questions));
    impl_->set_meta("clock_offset_ms", std::to_string(welcome.server_time - local_now));
    return {};
  });
}

Result<std::vector<OutboxEntry>> Store::pending(std::size_t limit, OutboxData data) const {
  return reading("the changes waiting to sync", [&] { return impl_->pending(limit, data); });
}

Status Store::apply_ack(const safer::Ack& ack) {
  return in_transaction(impl_->db, [&]() -> Status {
    for (const auto& rejection : ack.rejected) {
      impl_->db.cached(
              "UPDATE outbox SET state = 'rejected', reject_code = ?, reject_message = ?, reject_field = ?"
              " WHERE seq = ? AND state = 'pending'")
          ->bind(1, rejection.code)
          .bind(2, rejection.message)
          .bind(3, rejection.field)
          .bind(4, rejection.seq)
          .run();
    }
    // Rejections first (they are within acked_seq, but keep their data until the officer
    // fixes or discards the record). What the server acked it holds: the device keeps seq,
    // id and hlc, not the data.
    impl_->db.cached("UPDATE outbox SET state = 'acked', data = NULL WHERE state = 'pending' AND seq <= ?")
        ->bind(1, ack.acked_seq)
        .run();
    drop_superseded_rejections(impl_->db);  // the officer fixed those records: the refused data goes
    drop_evicted(impl_->db);                // evicted records that waited for these changes
    return {};
  });
}

namespace {

Error lost_change(std::int64_t seq) {
  return Error{"lost", "the server expects change " + std::to_string(seq) +
                           ", which this device no longer holds; ask a coordinator to check the server's data",
               ""};
}
}  // namespace

Status Store::requeue_from(std::int64_t seq) {
  return in_transaction(impl_->db, [&]() -> Status {
    auto held = impl_->db.cached("SELECT count(*) FROM outbox WHERE seq = ?");
    held->bind(1, seq);
    if (!held->step() || held->column_int(0) == 0) return lost_change(seq);
    // Acked upserts keep no data (migration 5). A server restored from a backup is sent the
    // record as the device holds it now, under the entry's own seq and hlc (a later entry of
    // the same record follows with its newer hlc, so the server ends at the same version);
    // for an officer, without the server-owned fields, as household_to_send leaves them out.
    // A record deleted since is sent as a delete. One the device no longer holds at all cannot
    // be sent again.
    auto gone = impl_->db.cached(
        "SELECT min(seq) FROM outbox o WHERE seq >= ? AND state = 'acked' AND op = 'upsert' AND data IS NULL"
        " AND NOT EXISTS (SELECT 1 FROM records r WHERE r.entity = o.entity AND r.id = o.record_id)");
    gone->bind(1, seq);
    if (gone->step() && !gone->column_is_null(0)) return lost_change(gone->column_int(0));
    impl_->db.cached(
            "UPDATE outbox SET"
            " data = (SELECT CASE WHEN ?2 = 0 AND r.entity = 'household' THEN json_remove(r.data, '$.target', '$.assigned_to')"
            "         ELSE r.data END FROM records r WHERE r.entity = outbox.entity AND r.id = outbox.record_id),"
            " op = (SELECT CASE WHEN r.deleted = 1 THEN 'delete' ELSE 'upsert' END FROM records r"
            "       WHERE r.entity = outbox.entity AND r.id = outbox.record_id)"
            " WHERE seq >= ?1 AND state = 'acked' AND op = 'upsert' AND data IS NULL")
        ->bind(1, seq)
        .bind(2, impl_->is_coordinator() ? 1 : 0)
        .run();
    impl_->db.cached("UPDATE outbox SET state = 'pending' WHERE seq >= ? AND state = 'acked'")->bind(1, seq).run();
    return {};
  });
}

Result<std::string> Store::cursor() const {
  return reading("the pull cursor", [&] { return impl_->meta("cursor").value_or(""); });
}

namespace {

// PRAGMAs that set a connection's flags: they fail only on a closed connection, and then
// change nothing, so a pull goes on with the store's own settings.
void set_pragmas(sqlite::Database& db, const char* pragmas) noexcept {
  try {
    db.exec(pragmas);
  } catch (const sqlite::Failure&) {
  }
}

}  // namespace

// Measured with bench/b2_pull --role coordinator (docs/BENCHMARKS.md): 3.0-3.7 s before,
// with 249 fsyncs and 114,000 preads of 4 KiB by the client.
Store::BulkPull::BulkPull(Store& store) : store_(store) {
  auto& db = store_.impl_->db;
  try {
    restore_ = "PRAGMA synchronous = " + std::to_string(db.pragma_int("synchronous")) +
               "; PRAGMA wal_autocheckpoint = " + std::to_string(db.pragma_int("wal_autocheckpoint")) +
               "; PRAGMA cache_size = " + std::to_string(db.pragma_int("cache_size"));
  } catch (const sqlite::Failure&) {
    return;  // settings that cannot be read are left as they are
  }
  set_pragmas(db, "PRAGMA synchronous = NORMAL; PRAGMA wal_autocheckpoint = 10000; PRAGMA cache_size = -32768");
}

Store::BulkPull::~BulkPull() {
  if (!restore_.empty()) set_pragmas(store_.impl_->db, restore_.c_str());
}

// One pulled change (apply_pages), inside its transaction: it replaces the device's version
// only if its (hlc, device_id) is greater, or it is the server's tombstone of a version the
// server refused.
void Store::Impl::apply_pulled(const safer::PulledChange& pulled, std::int64_t generation) {
  const auto& change = pulled.change;
  if (pulled.evict) {
    evict_household(db, change.id);
    return;
  }
  const std::string entity(safer::to_string(change.entity));
  auto current = db.cached("SELECT hlc, device_id, deleted FROM records WHERE entity = ? AND id = ?");
  current->bind(1, entity).bind(2, change.id);
  bool newer = true, live = false;
  if (current->step()) {
    const Hlc hlc = Hlc::parse(current->column_text(0)).value_or(Hlc{});
    const std::string device_id = current->column_text(1);
    newer = std::tie(change.hlc, pulled.device_id) > std::tie(hlc, device_id);
    live = current->column_int(2) == 0;
  }
  current->reset();
  // The server deleted or erased it. A version of the device's own that is not pending
  // was refused (or is older): the server's tombstone stands, and the refused data goes.
  const bool tombstone = !change.data;
  if (tombstone && !newer && live && !has_pending(db, entity, change.id)) newer = true;
  if (newer) {
    auto write = db.cached(
        "INSERT INTO records (entity, id, hlc, device_id, deleted, data, created_here, pulled_gen,"
        " household_id, visited_at, status, follow_up) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 0, ?7, ?8, ?9, ?10, ?11)"
        " ON CONFLICT (entity, id) DO UPDATE SET hlc = excluded.hlc, device_id = excluded.device_id,"
        " deleted = excluded.deleted, data = excluded.data, pulled_gen = excluded.pulled_gen,"
        " household_id = excluded.household_id, visited_at = excluded.visited_at, status = excluded.status,"
        " follow_up = excluded.follow_up, evicted = 0");
    write->bind(1, entity).bind(2, change.id).bind(3, change.hlc.to_string()).bind(4, pulled.device_id);
    write->bind(5, change.data ? 0 : 1).bind(7, generation);
    if (change.data) write->bind(6, safer::to_json(*change.data)); else write->bind_null(6);
    bind_visit_columns(*write, 8, change.data);
    write->run();
    if (tombstone) drop_tombstoned(db, entity, change.id);
  } else {
    db.cached("UPDATE records SET pulled_gen = ?, evicted = 0 WHERE entity = ? AND id = ?")
        ->bind(1, generation)
        .bind(2, entity)
        .bind(3, change.id)
        .run();
  }
}

Status Store::apply_page(const safer::ChangesPage& page) { return apply_pages({&page, 1}); }

Status Store::apply_pages(std::span<const safer::ChangesPage> pages) {
  if (pages.empty()) return {};
  return in_transaction(impl_->db, [&]() -> Status {
    const std::int64_t generation = std::stoll(impl_->meta("pull_gen").value_or("0"));
    Hlc newest = Hlc::parse(impl_->meta("hlc_last").value_or("")).value_or(Hlc{});
    for (const auto& page : pages) {
      for (const auto& pulled : page.changes) {
        if (!pulled.evict && pulled.change.hlc > newest) newest = pulled.change.hlc;
        impl_->apply_pulled(pulled, generation);
      }
    }
    // Later local edits must order after every version seen.
    impl_->set_meta("hlc_last", newest.to_string());
    impl_->set_meta("cursor", pages.back().cursor);
    return {};
  });
}

Status Store::begin_full_pull() {
  return in_transaction(impl_->db, [&]() -> Status {
    impl_->start_full_pull();
    return {};
  });
}

Status Store::begin_requested_full_pull() {
  return in_transaction(impl_->db, [&]() -> Status {
    if (impl_->meta("refetch") != "1") return {};
    impl_->start_full_pull();
    impl_->set_meta("refetch", "0");
    return {};
  });
}

Status Store::finish_full_pull() {
  return in_transaction(impl_->db, [&]() -> Status {
    if (impl_->meta("full_pull") != "1") return {};
    const std::int64_t generation = std::stoll(impl_->meta("pull_gen").value_or("0"));
    // Server data the fresh pull did not bring is gone from the server, or out of scope.
    // Records with a change the server has not accepted stay: the user still has them.
    impl_->db.cached(
            "DELETE FROM records WHERE pulled_gen < ?1 AND NOT EXISTS (SELECT 1 FROM outbox o"
            " WHERE o.entity = records.entity AND o.record_id = records.id AND o.state IN ('pending', 'rejected'))")
        ->bind(1, generation)
        .run();
    impl_->set_meta("full_pull", "0");
    return {};
  });
}

Status Store::record_sync_success(safer::UnixMillis at) {
  return in_transaction(impl_->db, [&]() -> Status {
    impl_->set_meta("last_sync_at", std::to_string(at));
    return {};
  });
}

}  // namespace field_client
