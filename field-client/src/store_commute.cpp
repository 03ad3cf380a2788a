// Commute Aware sessions end at local midnight (store.h): the rule every write of a session
// passes, and the end of the sessions whose day is over.
#include <ctime>

#include "store_impl.h"

namespace field_client {

std::int64_t end_of_device_day(std::int64_t instant) {
  const std::time_t seconds = static_cast<std::time_t>(instant >= 0 ? instant / 1000 : (instant - 999) / 1000);
  std::tm local{};
  localtime_r(&seconds, &local);
  local.tm_hour = 23;
  local.tm_min = 59;
  local.tm_sec = 59;
  local.tm_isdst = -1;  // whatever daylight saving says at that time of that day
  return static_cast<std::int64_t>(std::mktime(&local)) * 1000 + 999;
}

std::optional<safer::FieldError> Store::Impl::commute_day_problem(const safer::CommuteSession& session) const {
  const std::int64_t day_end = end_of_local_day(session.started_at);
  if (!session.ended_at && wall_clock() > day_end) {
    return safer::FieldError{"ended_at",
                             "this session started on an earlier day, and sessions end at midnight: give the time it "
                             "ended (at the latest 23:59:59 on its day), or start a new session for today"};
  }
  if (session.ended_at && *session.ended_at > day_end) {
    return safer::FieldError{"ended_at", "a session ends on the day it started: at the latest 23:59:59 that day"};
  }
  return std::nullopt;
}

Result<std::vector<std::string>> Store::end_overdue_sessions() {
  // This device's own sessions still open whose day is over, oldest first.
  const auto overdue = [this] {
    std::vector<std::string> ids;
    {
      auto open = impl_->db.cached(
          "SELECT id FROM records WHERE entity = 'commute_session' AND deleted = 0 AND created_here = 1"
          " AND json_extract(data, '$.ended_at') IS NULL ORDER BY id");
      while (open->step()) ids.push_back(open->column_text(0));
    }
    std::vector<std::pair<std::string, StoredRecord>> found;
    for (auto& id : ids) {
      auto record = impl_->find(Entity::commute_session, id);
      if (!record || !record->data) continue;
      const auto& session = std::get<safer::CommuteSession>(*record->data);
      if (impl_->wall_clock() > impl_->end_of_local_day(session.started_at)) {
        found.emplace_back(std::move(id), std::move(*record));
      }
    }
    return found;
  };
  // Read first: no write transaction when, as nearly always, nothing is overdue.
  const auto candidates = reading("the Commute Aware sessions", overdue);
  if (!candidates) return candidates.error();
  if (candidates->empty()) return std::vector<std::string>{};
  return in_transaction(impl_->db, [&]() -> Result<std::vector<std::string>> {
    std::vector<std::string> ended;
    for (const auto& [id, record] : overdue()) {  // again, inside the transaction
      auto session = std::get<safer::CommuteSession>(*record.data);
      session.ended_at = impl_->end_of_local_day(session.started_at);
      const safer::RecordData data = session;
      impl_->write_version(Entity::commute_session, id, Op::upsert, data, data, record.hlc, false);
      ended.push_back(id);
    }
    return ended;
  });
}

}  // namespace field_client
