// The tablet app's views of the store (households with their latest visit, a household's
// visits).
#include "safer/text.h"
#include "store_impl.h"

namespace field_client {

namespace {

std::string contains_pattern(const std::string& text, bool drop_spaces) {
  std::string pattern = "%";
  for (char c : safer::fold_case(text)) {
    if (drop_spaces && c == ' ') continue;
    if (c == '%' || c == '_' || c == '\\') pattern.push_back('\\');
    pattern.push_back(c);
  }
  return pattern + "%";
}

}  // namespace

// The households a search matches (?2: the address pattern, ?3: the postcode's, both NULL for
// all of them); one literal, so that the list and its count cannot disagree.
#define HOUSEHOLD_MATCHES                                                                          \
  " r.entity = 'household' AND r.deleted = 0"                                                      \
  " AND (?2 IS NULL OR fold_case(json_extract(r.data, '$.address')) LIKE ?2 ESCAPE '\\'"          \
  "  OR fold_case(replace(json_extract(r.data, '$.postcode'), ' ', '')) LIKE ?3 ESCAPE '\\')"

Result<std::vector<HouseholdView>> Store::households(const std::string& query, std::size_t limit,
                                                     std::size_t offset) const {
  return reading("the households", [&] { return impl_->households(query, limit, offset); });
}

Result<std::int64_t> Store::count_households(const std::string& query) const {
  return reading("the households", [&] { return impl_->count_households(query); });
}

Result<std::optional<std::string>> Store::near_duplicate(const safer::Household& household,
                                                         const std::string& except_id) const {
  const auto key = safer::near_duplicate_key(household);
  if (key.empty()) return std::optional<std::string>();
  return reading("the households", [&] {
    auto rows = impl_->db.cached(
        "SELECT id, json_extract(data, '$.address') FROM records"
        " WHERE entity = 'household' AND deleted = 0 AND json_extract(data, '$.postcode') = ? AND id <> ? ORDER BY id");
    rows->bind(1, household.postcode).bind(2, except_id);
    std::optional<std::string> found;
    while (!found && rows->step()) {
      safer::Household other;
      other.address = rows->column_text(1);
      other.postcode = household.postcode;
      if (safer::near_duplicate_key(other) == key) found = rows->column_text(0);
    }
    return found;
  });
}

Result<HouseholdView> Store::household_view(const std::string& id) const {
  auto views = reading("a household", [&] { return impl_->households("", 1, 0, id); });
  if (!views) return views.error();
  if (views->empty()) return Error{"not_found", "there is no such household on this tablet", "id"};
  return std::move(views->front());
}

namespace {

// Binds the search's patterns to ?2 and ?3 (NULL for no search).
void bind_search(sqlite::Statement& statement, const std::string& query) {
  if (query.empty()) {
    statement.bind_null(2).bind_null(3);
  } else {
    statement.bind(2, contains_pattern(query, false)).bind(3, contains_pattern(query, true));
  }
}

}  // namespace

std::int64_t Store::Impl::count_households(const std::string& query) const {
  auto count = db.cached("SELECT count(*) FROM records r WHERE" HOUSEHOLD_MATCHES);
  bind_search(*count, query);
  return count->step() ? count->column_int(0) : 0;
}

std::vector<HouseholdView> Store::Impl::households(const std::string& query, std::size_t limit, std::size_t offset,
                                                   const std::optional<std::string>& only_id) const {
  // The record's columns as kFindRecord has them, then the view's.
  auto rows = db.cached(
      "SELECT r.entity, r.id, r.hlc, r.device_id, r.deleted, r.data,"
      " (SELECT o.state FROM outbox o WHERE o.entity = r.entity AND o.record_id = r.id ORDER BY o.seq DESC LIMIT 1),"
      " r.created_here,"
      " (r.created_here OR json_extract(r.data, '$.assigned_to') = ?1) AS mine,"
      " (SELECT v.id FROM records v INDEXED BY visits_by_household WHERE v.entity = 'visit' AND v.deleted = 0"
      "   AND v.household_id = r.id ORDER BY v.visited_at DESC LIMIT 1),"
      " EXISTS (SELECT 1 FROM records f INDEXED BY visits_by_household WHERE f.entity = 'visit' AND f.deleted = 0"
      "   AND f.household_id = r.id AND f.follow_up = 1"
      "   AND NOT EXISTS (SELECT 1 FROM records c INDEXED BY visits_by_household WHERE c.entity = 'visit'"
      "     AND c.deleted = 0 AND c.household_id = r.id AND c.visited_at > f.visited_at AND c.status = 'completed'))"
      " FROM records r WHERE" HOUSEHOLD_MATCHES " AND (?6 IS NULL OR r.id = ?6)"
      " ORDER BY mine DESC, json_extract(r.data, '$.address'), r.id LIMIT ?4 OFFSET ?5");
  rows->bind(1, meta("user_id").value_or(""));
  bind_search(*rows, query);
  rows->bind(4, static_cast<std::int64_t>(limit)).bind(5, static_cast<std::int64_t>(offset));
  if (only_id) {
    rows->bind(6, *only_id);
  } else {
    rows->bind_null(6);
  }
  std::vector<std::pair<HouseholdView, std::optional<std::string>>> found;
  while (rows->step()) {
    HouseholdView view;
    view.record = read_record(*rows);
    view.mine = rows->column_int(8) != 0;
    view.follow_up_outstanding = rows->column_int(10) != 0;
    found.emplace_back(std::move(view), rows->column_optional_text(9));
  }
  std::vector<HouseholdView> views;
  for (auto& [view, last_id] : found) {
    if (last_id) {
      if (const auto visit = find(Entity::visit, *last_id); visit && visit->data) {
        const auto& data = std::get<safer::Visit>(*visit->data);
        view.last_visit = HouseholdView::LastVisit{*last_id, data.visited_at, data.status};
      }
    }
    views.push_back(std::move(view));
  }
  return views;
}

Result<DueList> Store::work_due(const std::string& today, std::size_t limit) const {
  return reading("the work due", [&] { return impl_->work_due(today, limit); });
}

DueList Store::Impl::work_due(const std::string& today, std::size_t limit) const {
  auto rows = db.cached(
      "SELECT v.id, v.household_id, v.follow_up,"
      " CASE WHEN v.follow_up = 1 THEN json_extract(v.data, '$.follow_up_due')"
      "  ELSE json_extract(v.data, '$.rescheduled_for') END AS due"
      " FROM records v WHERE v.entity = 'visit' AND v.deleted = 0"
      " AND ((v.follow_up = 1 AND json_extract(v.data, '$.follow_up_due') <= ?1)"
      "  OR (json_extract(v.data, '$.status') = 'rescheduled' AND substr(json_extract(v.data, '$.rescheduled_for'), 1, 10) <= ?1))"
      " AND NOT EXISTS (SELECT 1 FROM records l INDEXED BY visits_by_household WHERE l.entity = 'visit'"
      "  AND l.deleted = 0 AND l.household_id = v.household_id AND (l.visited_at, l.id) > (v.visited_at, v.id))"
      " ORDER BY due, v.id LIMIT ?2");
  rows->bind(1, today).bind(2, static_cast<std::int64_t>(limit) + 1);  // one more: whether there are others
  std::vector<DueWork> due;
  DueList list;
  while (rows->step()) {
    if (due.size() == limit) {
      list.more = true;
      break;
    }
    DueWork work;
    work.visit_id = rows->column_text(0);
    work.household.record.id = rows->column_text(1);
    work.follow_up = rows->column_int(2) != 0;
    work.due = rows->column_text(3);
    work.overdue = work.due.substr(0, 10) < today;
    due.push_back(std::move(work));
  }
  rows->reset();
  for (auto& work : due) {
    auto views = households("", 1, 0, work.household.record.id);
    if (views.empty()) continue;  // its household was deleted or evicted
    work.household = std::move(views.front());
    list.work.push_back(std::move(work));
  }
  return list;
}

Result<std::vector<StoredRecord>> Store::visits_to(const std::string& household_id) const {
  return reading("a household's visits", [&] { return impl_->visits_to(household_id); });
}

std::vector<StoredRecord> Store::Impl::visits_to(const std::string& household_id) const {
  auto rows = db.cached(
      "SELECT r.entity, r.id, r.hlc, r.device_id, r.deleted, r.data,"
      " (SELECT o.state FROM outbox o WHERE o.entity = r.entity AND o.record_id = r.id ORDER BY o.seq DESC LIMIT 1),"
      " r.created_here FROM records r INDEXED BY visits_by_household WHERE r.entity = 'visit' AND r.deleted = 0"
      " AND r.household_id = ? ORDER BY r.visited_at DESC, r.id DESC");
  rows->bind(1, household_id);
  std::vector<StoredRecord> visits;
  while (rows->step()) visits.push_back(read_record(*rows));
  return visits;
}

}  // namespace field_client
