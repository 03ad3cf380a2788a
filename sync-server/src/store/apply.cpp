// Applying a push (protocol.md §3 and §5): seq rules, validation, permissions, last writer wins,
// and every effect on scope and statistics — all inside the caller's write transaction.
#include "safer/record_json.h"
#include "safer/validation.h"
#include "store_impl.h"

namespace sync_server {

namespace {

using safer::Change;
using safer::Entity;
using safer::Household;
using safer::Op;
using safer::Rejection;
using safer::Visit;

Rejection reject(std::string_view code, std::string message, std::string field = "") {
  return Rejection{0, std::string(code), std::move(message), std::move(field)};
}

Rejection invalid(const safer::FieldErrors& errors) {
  return reject(safer::codes::kInvalid, safer::join_messages(errors), errors.front().field);
}

Rejection out_of_scope(Entity entity, const std::string& id) {
  return reject(safer::codes::kForbidden,
                std::string(safer::to_string(entity)) + " " + id + " is out of this user's scope");
}

// protocol.md §4.4: the assignee, or while there is none the creator. Assigning a household
// to someone else ends its creator's hold on it.
bool in_scope(const StoredRow& household, const std::string& user) {
  return household.assigned_to ? *household.assigned_to == user : household.owner == user;
}

Rejection erased(const std::string& household_id, std::string field = "") {
  return reject(safer::codes::kErased,
                "household " + household_id + " was erased by a coordinator and cannot be written again",
                std::move(field));
}

template <class Record>
Record decode(const std::string& json) {
  Record record;
  safer::from_json(json, record);  // stored JSON was written by this store: always valid
  return record;
}

}  // namespace

std::vector<std::string> ServerStore::prepare_push(const safer::ReceivedPush& push) {
  std::vector<std::string> prepared(push.changes.size());
  for (std::size_t i = 0; i < push.changes.size(); ++i) {
    const auto& change = push.changes[i].change;
    if (change && change->data && change->entity != Entity::household) prepared[i] = safer::to_json(*change->data);
  }
  return prepared;
}

PushOutcome ServerStore::Impl::apply_batch(const DeviceIdentity& device, const safer::ReceivedPush& push,
                                           const std::vector<std::string>& prepared, const std::string& credential,
                                           safer::WriterRules rules) {
  PushOutcome outcome;
  // On PostgreSQL the device's row stays locked until the group commits: the same batch
  // resent through another server waits here, then finds acked_seq moved past it.
  auto account = db.cached("SELECT acked_seq, token_hash, revoked FROM devices WHERE device_id = ? FOR UPDATE");
  account->bind(1, device.device_id);
  const bool enrolled = account->step();
  // Checked here, inside the write transaction: a push queued before a revocation or a new
  // enrolment is refused rather than applied under the identity the session began with.
  if (!credential.empty() && (!enrolled || account->column_int(2) != 0 || account->column_text(1) != credential)) {
    outcome.error = safer::ErrorMessage{std::string(safer::codes::kIdentityChanged),
                                        "this device's token was revoked or replaced (or its user or role changed) "
                                        "after the session began; nothing was applied; enrol the device again",
                                        true, std::nullopt};
    return outcome;
  }
  const std::int64_t acked = enrolled ? account->column_int(0) : 0;

  // Resends (seq <= acked) have no effect; the new changes must run on from acked + 1.
  std::int64_t expected = acked + 1;
  std::vector<std::int64_t> resent;
  for (const auto& received : push.changes) {
    if (received.seq <= acked) {
      resent.push_back(received.seq);
    } else if (received.seq == expected) {
      ++expected;
    } else {
      outcome.error = safer::ErrorMessage{std::string(safer::codes::kSeqGap),
                                          "the next change must have seq " + std::to_string(acked + 1) +
                                              ", not " + std::to_string(received.seq) + "; nothing was applied",
                                          false, acked + 1};
      return outcome;
    }
  }

  safer::Ack ack;
  ack.acked_seq = expected - 1;
  // A resent change that was rejected before is reported again: its first ack may have
  // been lost with the connection.
  auto earlier = db.cached("SELECT code, message, field FROM rejections WHERE device_id = ? AND seq = ?");
  for (std::int64_t seq : resent) {
    earlier->reset();
    earlier->bind(1, device.device_id).bind(2, seq);
    if (earlier->step()) {
      ack.rejected.push_back({seq, earlier->column_text(0), earlier->column_text(1), earlier->column_text(2)});
    }
  }
  outcome.ignored += static_cast<int>(resent.size());

  auto remember = db.cached(
      "INSERT INTO rejections (device_id, seq, entity, record_id, code, message, field, at)"
      " VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (device_id, seq) DO UPDATE SET entity = excluded.entity,"
      " record_id = excluded.record_id, code = excluded.code, message = excluded.message, field = excluded.field,"
      " at = excluded.at");
  static const std::string kNotPrepared;
  prefetch_rows(push, acked);
  buffer_records = db.postgresql();
  for (std::size_t i = 0; i < push.changes.size(); ++i) {
    const auto& received = push.changes[i];
    if (received.seq <= acked) continue;
    std::optional<Rejection> rejection;
    bool applied = false;
    if (!received.change) {
      rejection = reject(safer::codes::kInvalid, received.error.message, received.error.field);
    } else {
      rejection = apply_change(device, *received.change, applied, Stamp::device,
                               i < prepared.size() ? prepared[i] : kNotPrepared, rules);
    }
    if (rejection) {
      rejection->seq = received.seq;
      remember->reset();
      remember->bind(1, device.device_id).bind(2, received.seq);
      if (received.change) {
        remember->bind(3, safer::to_string(received.change->entity)).bind(4, received.change->id);
      } else {
        remember->bind_null(3).bind_null(4);
      }
      remember->bind(5, rejection->code).bind(6, rejection->message).bind(7, rejection->field);
      remember->bind(8, options.wall_clock()).run();
      ack.rejected.push_back(std::move(*rejection));
      ++outcome.rejected;
    } else if (applied) {
      ++outcome.applied;
    } else {
      ++outcome.ignored;
    }
  }
  write_pending_records();
  push_done();

  db.cached("UPDATE devices SET acked_seq = CASE WHEN acked_seq < ?1 THEN ?1 ELSE acked_seq END, last_sync_at = ?2"
            " WHERE device_id = ?3")
      ->bind(1, ack.acked_seq)
      .bind(2, options.wall_clock())
      .bind(3, device.device_id)
      .run();
  outcome.ack = std::move(ack);
  return outcome;
}

// What admitting a change settled: the record as it will be stored (completed with the
// server-owned fields), and the columns scope and statistics read.
struct ServerStore::Impl::Admitted {
  std::optional<safer::RecordData> data;  // nullopt: a deletion
  std::string household_id;               // a visit's household
  std::string ward;                       // a household's ward, or a visit's household's
  std::optional<std::string> assigned_to;
  bool target = false;
  bool completed = false;  // admit() changed the record: a JSON encoded ahead is not what is stored
};

std::variant<Rejection, ServerStore::Impl::Admitted> ServerStore::Impl::admit_household(
    const DeviceIdentity& device, const Change& change, const std::optional<StoredRow>& current) {
  Admitted admitted{change.data, "", "", std::nullopt, false};
  const bool coordinator = device.role == safer::Role::coordinator;
  if (change.op == Op::remove) {
    if (!coordinator) return reject(safer::codes::kForbidden, "only a coordinator may delete a household");
    if (current) {  // a tombstone keeps what scope and statistics still need
      admitted.ward = current->ward;
      admitted.assigned_to = current->assigned_to;
    }
    return admitted;
  }
  // A coordinator's delete is an erasure: nothing brings the household back (§5.7).
  if (current && current->deleted) return erased(change.id);
  auto& household = std::get<Household>(*admitted.data);
  if (auto errors = safer::check_household(household, options.lists); !errors.empty()) return invalid(errors);
  if (coordinator) {
    household.target = household.target.value_or(false);
    household.assigned_to = household.assigned_to.value_or(std::nullopt);
  } else {
    if (current && !in_scope(*current, device.user_id)) return out_of_scope(Entity::household, change.id);
    const bool target_now = current ? current->target : false;
    const auto assignee_now = current ? current->assigned_to : std::nullopt;
    if (household.target && *household.target != target_now) {
      return reject(safer::codes::kForbidden, "only a coordinator may set or change target", "target");
    }
    if (household.assigned_to && *household.assigned_to != assignee_now) {
      return reject(safer::codes::kForbidden, "only a coordinator may set or change assigned_to", "assigned_to");
    }
    household.target = target_now;  // omitted means unchanged (protocol.md §5.7)
    household.assigned_to = assignee_now;
  }
  admitted.ward = household.ward;
  admitted.assigned_to = *household.assigned_to;
  admitted.target = *household.target;
  return admitted;
}

namespace {

// A protocol-1 writer knows nothing of share_basis (protocol.md §5.2, §10 rule 2): a basis it
// leaves out is the stored one while the visit still has referrals, and one it sends without
// a referral (a record passed through whole) is dropped rather than refused.
bool keep_share_basis(Visit& visit, const std::optional<StoredRow>& current, const safer::ReferenceLists& lists) {
  if (!safer::has_referral(visit, lists)) {
    const bool dropped = visit.share_basis.has_value();
    visit.share_basis.reset();
    return dropped;
  }
  if (visit.share_basis || !current || current->deleted) return false;
  visit.share_basis = decode<Visit>(current->data).share_basis;
  return visit.share_basis.has_value();
}

// Likewise a protocol-1 writer knows nothing of answers (§5.8): a visit it sends without any
// keeps the stored ones. Returns whether it took any.
bool keep_answers(Visit& visit, const std::optional<StoredRow>& current) {
  if (!visit.answers.empty() || !current || current->deleted) return false;
  visit.answers = decode<Visit>(current->data).answers;
  return !visit.answers.empty();
}

// Nor of the work dates (protocol.md §5.2, §10 rule 2): a date it leaves out is the stored one
// while its condition (a follow-up; status rescheduled) still holds, and one it sends without
// its condition is dropped rather than refused. Returns whether the visit changed.
bool keep_work_dates(Visit& visit, const std::optional<StoredRow>& current) {
  struct Kept {
    std::optional<std::string> Visit::*field;
    bool holds;
  };
  const Kept kept[] = {{&Visit::follow_up_due, visit.has(safer::Outcome::follow_up_required)},
                       {&Visit::rescheduled_for, visit.status == safer::VisitStatus::rescheduled}};
  std::optional<Visit> stored;
  bool changed = false;
  for (const auto& [field, holds] : kept) {
    auto& value = visit.*field;
    if (!holds) {
      changed |= value.has_value();
      value.reset();
    } else if (!value && current && !current->deleted) {
      if (!stored) stored = decode<Visit>(current->data);
      value = (*stored).*field;
      changed |= value.has_value();
    }
  }
  return changed;
}

}  // namespace

std::variant<Rejection, ServerStore::Impl::Admitted> ServerStore::Impl::admit_visit(
    const DeviceIdentity& device, const Change& change, const std::optional<StoredRow>& current,
    safer::WriterRules rules) {
  Admitted admitted{change.data, "", "", std::nullopt, false};
  const bool coordinator = device.role == safer::Role::coordinator;
  if (!coordinator && current && !current->household_id.empty()) {
    const auto& visited = find_household(current->household_id);
    if (visited && !in_scope(*visited, device.user_id)) return out_of_scope(Entity::household, current->household_id);
  }
  if (change.op == Op::remove) {
    if (current) {
      admitted.household_id = current->household_id;
      admitted.ward = current->ward;
    }
    return admitted;
  }
  auto& visit = std::get<Visit>(*admitted.data);
  // Answers first: a kept answer to a referral question is a referral that keeps its basis.
  if (!rules.questions) admitted.completed |= keep_answers(visit, current);
  if (!rules.share_basis) admitted.completed |= keep_share_basis(visit, current, options.lists);
  if (!rules.work_dates) admitted.completed |= keep_work_dates(visit, current);
  if (auto errors = safer::check_visit(visit, options.lists, rules); !errors.empty()) return invalid(errors);
  const auto& household = find_household(visit.household_id);
  if (!household) {
    return reject(safer::codes::kInvalid, "household_id does not name a household the server knows", "household_id");
  }
  if (household->deleted) return erased(visit.household_id, "household_id");
  if (!coordinator && !in_scope(*household, device.user_id)) return out_of_scope(Entity::household, visit.household_id);
  admitted.household_id = visit.household_id;
  admitted.ward = household->ward;
  return admitted;
}

std::variant<Rejection, ServerStore::Impl::Admitted> ServerStore::Impl::admit(const DeviceIdentity& device,
                                                                              const Change& change,
                                                                              const std::optional<StoredRow>& current,
                                                                              safer::WriterRules rules) {
  const bool coordinator = device.role == safer::Role::coordinator;
  if (!coordinator && current && current->owner != device.user_id && change.entity != Entity::household) {
    return reject(safer::codes::kForbidden, std::string(safer::to_string(change.entity)) + " " + change.id +
                                                " belongs to another user");
  }
  switch (change.entity) {
    case Entity::household:
      return admit_household(device, change, current);
    case Entity::visit:
      return admit_visit(device, change, current, rules);
    case Entity::commute_session:
      if (change.op == Op::upsert) {
        const auto& session = std::get<safer::CommuteSession>(*change.data);
        if (auto errors = safer::check_commute_session(session, options.lists); !errors.empty()) return invalid(errors);
      }
      return Admitted{change.data, "", "", std::nullopt, false};
  }
  return Admitted{change.data, "", "", std::nullopt, false};
}

void ServerStore::Impl::recount(const Change& change, const std::optional<StoredRow>& current, const Admitted& admitted) {
  if (change.entity == Entity::household) {
    // The group its years count in, by the vulnerabilities of its record as stored (none for a
    // tombstone, whose data is gone).
    const std::uint32_t before = current && !current->data.empty() ? decode<Household>(current->data).vulnerability.bits() : 0;
    const std::uint32_t after = admitted.data ? std::get<Household>(*admitted.data).vulnerability.bits() : 0;
    regroup_household(change.id, before, after);
  }
  // Take away the version being replaced, add the new one.
  if (current && !current->deleted) {
    switch (change.entity) {
      case Entity::household: if (current->target) count_target(change.id, -1); break;
      case Entity::visit: count_visit(decode<Visit>(current->data), current->ward, -1); break;
      case Entity::commute_session: count_session(decode<safer::CommuteSession>(current->data), -1); break;
    }
  }
  if (admitted.data) {
    switch (change.entity) {
      case Entity::household: if (admitted.target) count_target(change.id, +1); break;
      case Entity::visit: count_visit(std::get<Visit>(*admitted.data), admitted.ward, +1); break;
      case Entity::commute_session: count_session(std::get<safer::CommuteSession>(*admitted.data), +1); break;
    }
  }
}

// The statement's column list, shared with write_pending_records().
#define RECORD_COLUMNS                                                                          \
  "entity, id, hlc, device_id, user_id, owner, deleted, data, version, household_id, assigned_to," \
  " target, ward, visited_at, status, follow_up, local_day"

void ServerStore::Impl::write_record(const DeviceIdentity& device, const Change& change,
                                     const std::optional<StoredRow>& current, const Admitted& admitted,
                                     const std::string& encoded) {
  const auto& data = admitted.data;
  RecordWrite write;
  auto& cells = write.cells;
  cells[0] = std::string(safer::to_string(change.entity));
  cells[1] = change.id;
  cells[2] = change.hlc.to_string();
  cells[3] = device.device_id;
  cells[4] = device.user_id;
  cells[5] = current ? current->owner : device.user_id;
  cells[6] = std::int64_t{data ? 0 : 1};
  if (!data) {
    cells[7] = std::monostate{};
  } else if (!encoded.empty() && change.entity != Entity::household && !admitted.completed) {
    // Households are always completed by admit(), visits sometimes.
    cells[7] = encoded;
  } else {
    cells[7] = safer::to_json(*data);
  }
  cells[8] = ++last_version;
  if (!admitted.household_id.empty()) cells[9] = admitted.household_id;
  if (admitted.assigned_to) cells[10] = *admitted.assigned_to;
  cells[11] = std::int64_t{admitted.target ? 1 : 0};
  if (!admitted.ward.empty()) cells[12] = admitted.ward;
  const auto* new_visit = data ? std::get_if<Visit>(&*data) : nullptr;
  cells[15] = std::int64_t{0};
  if (new_visit != nullptr) {
    cells[13] = safer::format_rfc3339(new_visit->visited_at);
    cells[14] = std::string(safer::to_string(new_visit->status));
    cells[15] = std::int64_t{new_visit->has(safer::Outcome::follow_up_required) ? 1 : 0};
  }
  const auto* new_session = data ? std::get_if<safer::CommuteSession>(&*data) : nullptr;
  if (new_visit != nullptr || new_session != nullptr) {
    const auto instant = new_visit != nullptr ? new_visit->visited_at : new_session->started_at;
    cells[16] = safer::format_iso_date(options.local_date(instant));
  }
  // The row as read before, or none: on PostgreSQL another server may have inserted the
  // record since (a row lock cannot cover a row that does not exist yet). Then nothing is
  // written, and the group runs again and compares with that version.
  if (current) write.replaces.emplace(current->hlc.to_string(), current->device_id);
  group_wrote = true;

  if (buffer_records && change.entity != Entity::household) {
    const auto [pending, added] = pending_records.try_emplace({change.entity, change.id});
    // Written twice in the push: the row in the database is still the one the first write
    // replaces (or none), and only the last version is written.
    if (!added) write.replaces = std::move(pending->second.replaces);
    pending->second = std::move(write);
    return;
  }

  auto statement = db.cached(
      "INSERT INTO records (" RECORD_COLUMNS ")"
      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)"
      " ON CONFLICT (entity, id) DO UPDATE SET hlc = excluded.hlc, device_id = excluded.device_id,"
      " user_id = excluded.user_id, deleted = excluded.deleted, data = excluded.data, version = excluded.version,"
      " household_id = excluded.household_id, assigned_to = excluded.assigned_to, target = excluded.target,"
      " ward = excluded.ward, visited_at = excluded.visited_at, status = excluded.status,"
      " follow_up = excluded.follow_up, local_day = excluded.local_day"
      " WHERE records.hlc = ?18 AND records.device_id = ?19");
  for (std::size_t i = 0; i < cells.size(); ++i) statement->bind(static_cast<int>(i + 1), cells[i]);
  if (write.replaces) {
    statement->bind(18, write.replaces->first).bind(19, write.replaces->second);
  } else {
    statement->bind_null(18).bind_null(19);
  }
  statement->run();
  if (db.changes() == 0) db::throw_write_race("another server wrote the same record first");
  if (change.entity == Entity::household) households_seen.erase(change.id);
}

void ServerStore::Impl::write_pending_records() {
  if (pending_records.empty()) return;
  std::array<db::ArrayLiteral, 17> added;     // new records
  std::array<db::ArrayLiteral, 19> replacing;  // and the version each replaces
  for (const auto& [key, write] : pending_records) {  // in key order, as rows are locked
    for (std::size_t i = 0; i < write.cells.size(); ++i) (write.replaces ? replacing[i] : added[i]).add_cell(write.cells[i]);
    if (write.replaces) {
      replacing[17].add(std::string_view(write.replaces->first));
      replacing[18].add(std::string_view(write.replaces->second));
    }
  }
  pending_records.clear();
#define RECORD_ARRAYS                                                                               \
  "?1::text[], ?2::text[], ?3::text[], ?4::text[], ?5::text[], ?6::text[], ?7::int[], ?8::text[],"   \
  " ?9::bigint[], ?10::text[], ?11::text[], ?12::int[], ?13::text[], ?14::text[], ?15::text[],"      \
  " ?16::int[], ?17::text[]"
  const auto run = [this](db::Statement& statement, const auto& columns) {
    for (std::size_t i = 0; i < columns.size(); ++i) statement.bind(static_cast<int>(i + 1), columns[i].text());
    statement.run();
    // Fewer rows than given: another server inserted one of the new records first, or wrote
    // one that this push replaces (which it cannot while this one holds its row lock).
    if (db.changes() != static_cast<std::int64_t>(columns[0].size())) {
      db::throw_write_race("another server wrote the same record first");
    }
  };
  if (added[0].size() > 0) {
    run(*db.cached("INSERT INTO records (" RECORD_COLUMNS ") SELECT * FROM unnest(" RECORD_ARRAYS ")"
                   " ON CONFLICT (entity, id) DO NOTHING"),
        added);
  }
  if (replacing[0].size() > 0) {
    run(*db.cached("UPDATE records AS r SET hlc = u.hlc, device_id = u.device_id, user_id = u.user_id,"
                   " deleted = u.deleted, data = u.data, version = u.version, household_id = u.household_id,"
                   " assigned_to = u.assigned_to, target = u.target, ward = u.ward, visited_at = u.visited_at,"
                   " status = u.status, follow_up = u.follow_up, local_day = u.local_day"
                   " FROM unnest(" RECORD_ARRAYS ", ?18::text[], ?19::text[]) AS u(" RECORD_COLUMNS ", old_hlc, old_device)"
                   " WHERE r.entity = u.entity AND r.id = u.id AND r.hlc = u.old_hlc AND r.device_id = u.old_device"),
        replacing);
  }
#undef RECORD_ARRAYS
}

void ServerStore::Impl::move_visits_with(const std::string& household_id, const StoredRow& before, const Admitted& after) {
  // Visits follow their household: counted under its current ward, and sent again to
  // whoever the household is now assigned to.
  const bool ward_changed = !after.ward.empty() && after.ward != before.ward;
  const bool scope_changed = after.assigned_to != before.assigned_to;
  if (!ward_changed && !scope_changed) return;
  auto children = db.cached("SELECT id FROM records WHERE entity = 'visit' AND household_id = ?");
  children->bind(1, household_id);
  std::vector<std::string> ids;
  while (children->step()) ids.push_back(children->column_text(0));
  for (const auto& visit_id : ids) {
    // Locked now, and read again: on PostgreSQL another server may have moved it to another
    // household since the list was read. Then it is that household's, not this one's.
    const auto visit = find_row(Entity::visit, visit_id);
    if (!visit || visit->household_id != household_id) continue;
    if (ward_changed) {
      if (!visit->deleted) {
        const auto record = decode<Visit>(visit->data);
        count_visit(record, visit->ward, -1);
        count_visit(record, after.ward, +1);
      }
      db.cached("UPDATE records SET ward = ? WHERE entity = 'visit' AND id = ?")->bind(1, after.ward).bind(2, visit_id).run();
      db.cached("UPDATE referrals SET ward = ? WHERE visit_id = ?")->bind(1, after.ward).bind(2, visit_id).run();
      // And the rows this group will write for it at its flush (keep_referrals()).
      if (const auto wanted = pending_referrals.find(visit_id); wanted != pending_referrals.end()) {
        if (!wanted->second.partners.empty()) wanted->second.ward = after.ward;
      }
    }
    if (scope_changed) {
      db.cached("UPDATE records SET version = ? WHERE entity = 'visit' AND id = ?")
          ->bind(1, ++last_version)
          .bind(2, visit_id)
          .run();
    }
  }
}

void ServerStore::Impl::append_assignment(const Actor& by, const std::string& household,
                                          const std::optional<std::string>& assignee) {
  AuditEntry entry{by, kAuditAssign};
  entry.household = household;
  entry.username = assignee.value_or("");
  entry.detail = "assigned_to=" + assignee.value_or("none");
  append_audit(entry);
}

// The steps: the clock, then admit (validation, permissions and the server-owned fields),
// last writer wins, statistics, the write, and the household's visits.
std::optional<Rejection> ServerStore::Impl::apply_change(const DeviceIdentity& device, const Change& change,
                                                         bool& applied, Stamp stamp, const std::string& encoded,
                                                         safer::WriterRules rules, const Actor* by) {
  if (stamp == Stamp::device && change.hlc.millis > options.wall_clock() + options.max_clock_skew_ms) {
    return reject(safer::codes::kClockSkew,
                  "hlc is more than an hour ahead of the server's clock; check the tablet's clock", "hlc");
  }
  // A household's change reads and writes its visits' rows, and its own (see pending_records).
  if (change.entity == Entity::household) write_pending_records();
  const auto current = find_row(change.entity, change.id);
  auto admission = admit(device, change, current, rules);
  if (auto* refused = std::get_if<Rejection>(&admission)) return std::move(*refused);
  const auto& admitted = std::get<Admitted>(admission);

  // Last writer wins by (hlc, device_id); a losing version is not an error. Except an
  // erasure, which always takes effect: it wins with the HLC just after the stored one.
  const bool erasure = change.entity == Entity::household && change.op == Op::remove && current && !current->deleted;
  Change erasing;
  if (current && std::tie(change.hlc, device.device_id) <= std::tie(current->hlc, current->device_id)) {
    if (!erasure) return std::nullopt;
    erasing = change;
    erasing.hlc = hlc_after(current->hlc);
  }
  const Change& winner = erasing.id.empty() ? change : erasing;
  applied = true;
  if (winner.hlc > server_hlc) server_hlc = winner.hlc;
  recount(winner, current, admitted);
  write_record(device, winner, current, admitted, encoded);
  if (change.entity == Entity::visit) {
    keep_referrals(change.id, admitted.data ? &std::get<Visit>(*admitted.data) : nullptr, admitted.ward,
                   current.has_value());
  }
  if (change.entity == Entity::household) {
    if (current) move_visits_with(change.id, *current, admitted);
    if (!admitted.data) {
      const std::size_t visits = erase_visits_of(change.id, device, winner.hlc);
      if (erasure) {  // in the group's transaction, so the trail holds every erasure and only those
        AuditEntry entry{by ? *by : Actor{device.user_id, "device:" + device.device_id, "-"}, kAuditErase};
        entry.household = change.id;
        if (!by) entry.device = device.device_id;
        entry.detail = "visits=" + std::to_string(visits);
        append_audit(entry);
      }
    }
    // A coordinator's tablet that assigns a household leaves the same entry as the dashboard.
    const auto assignee_before = current ? current->assigned_to : std::nullopt;
    if (stamp == Stamp::device && admitted.data && admitted.assigned_to != assignee_before) {
      append_assignment(Actor{device.user_id, "device:" + device.device_id, "-"}, change.id, admitted.assigned_to);
    }
    StoredRow after;
    after.deleted = !admitted.data;
    after.assigned_to = admitted.assigned_to;
    after.owner = current ? current->owner : device.user_id;
    record_exits(change.id, current, scope_holders(after));
  }
  return std::nullopt;
}

}  // namespace sync_server
