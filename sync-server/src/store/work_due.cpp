// The "Follow-ups due" work list (docs/api.md): follow-ups due today or overdue, by officer,
// each on its household's latest visit.
#include "safer/json_out.h"
#include "store_impl.h"
#include "sync_server/dashboard.h"

namespace sync_server {

namespace {

// One officer's follow-ups, written as they are read (in order of due date).
struct OfficerList {
  std::string officer;
  safer::JsonOut overdue;
  safer::JsonOut due;
};

void write_officer(safer::JsonOut& out, OfficerList& list) {
  list.overdue.end_array();
  list.due.end_array();
  out.begin_object().field("officer", list.officer);
  out.key("overdue").raw(list.overdue.str()).key("due").raw(list.due.str()).end_object();
}

}  // namespace

std::string Dashboard::follow_ups_due_json(const std::optional<std::string>& ward, Listed* listed) {
  auto& impl = *store_.impl_;
  const std::string today = safer::format_iso_date(impl.options.local_date(impl.options.wall_clock()));
  // The household's latest visit, by (visited_at, id): a later visit of any status supersedes
  // an earlier follow-up. The officer is the household's assignee, or else who recorded it.
  auto rows = impl.db.cached(
      "SELECT coalesce(h.assigned_to, v.owner), json_extract(v.data, '$.follow_up_due'), v.id, v.household_id,"
      " json_extract(h.data, '$.address'), json_extract(h.data, '$.postcode'), h.ward, v.visited_at, v.owner,"
      " h.assigned_to FROM records v"
      " JOIN records h ON h.entity = 'household' AND h.id = v.household_id AND h.deleted = 0"
      " WHERE v.entity = 'visit' AND v.deleted = 0 AND v.follow_up = 1 AND (CAST(?1 AS TEXT) IS NULL OR h.ward = ?1)"
      " AND json_extract(v.data, '$.follow_up_due') <= ?2"
      " AND NOT EXISTS (SELECT 1 FROM records l WHERE l.entity = 'visit' AND l.deleted = 0"
      "  AND l.household_id = v.household_id AND (l.visited_at, l.id) > (v.visited_at, v.id))"
      " ORDER BY 1, 2, 5, 3");
  rows->bind(1, ward).bind(2, today);
  safer::JsonOut out;
  out.begin_object().field("today", today).key("officers").begin_array();
  std::optional<OfficerList> current;
  std::int64_t shown = 0;
  while (rows->step()) {
    ++shown;
    const auto officer = rows->column_text(0);
    if (!current || current->officer != officer) {
      if (current) write_officer(out, *current);
      current.emplace();
      current->officer = officer;
      current->overdue.begin_array();
      current->due.begin_array();
    }
    const auto due = rows->column_text(1);
    auto& list = due < today ? current->overdue : current->due;
    list.begin_object().field("visit_id", rows->column_text(2)).field("household_id", rows->column_text(3));
    list.field("address", rows->column_text(4)).field("postcode", rows->column_text(5)).field("ward", rows->column_text(6));
    list.field("follow_up_due", due).field("visited_at", rows->column_text(7)).field("recorded_by", rows->column_text(8));
    list.key("assigned_to").value(rows->column_optional_text(9)).end_object();
  }
  if (current) write_officer(out, *current);
  out.end_array().end_object();
  if (listed) *listed = Listed{shown, shown};
  return out.str();
}

}  // namespace sync_server
