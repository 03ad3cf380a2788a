// CSV exports of visits and Commute Aware sessions (docs/api.md): RFC 4180, UTF-8, CRLF, a
// header row, and text cells that a spreadsheet would run as a formula neutralised.
#include "safer/record_json.h"
#include "store_impl.h"

namespace sync_server {

namespace {

std::string lower(const std::optional<safer::CivilDate>& date) { return date ? safer::format_iso_date(*date) : ""; }
std::string upper(const std::optional<safer::CivilDate>& date) {
  return date ? safer::format_iso_date(*date) : "9999-12-31";
}

class CsvOut {
 public:
  // A text cell: quoted when it holds a comma, quote or line break; prefixed with ' when it
  // begins with = + - @, a tab or a carriage return (OWASP's advice against CSV injection).
  CsvOut& text(std::string_view value) {
    separate();
    std::string cell;
    if (!value.empty() && std::string_view("=+-@\t\r").find(value.front()) != std::string_view::npos) cell = "'";
    cell += value;
    if (cell.find_first_of(",\"\r\n") == std::string::npos) {
      out_ += cell;
      return *this;
    }
    out_ += '"';
    for (char c : cell) {
      if (c == '"') out_ += '"';
      out_ += c;
    }
    out_ += '"';
    return *this;
  }
  CsvOut& number(std::int64_t value) {
    separate();
    out_ += std::to_string(value);
    return *this;
  }
  CsvOut& boolean(bool value) {
    separate();
    out_ += value ? "true" : "false";
    return *this;
  }
  CsvOut& end_row() {
    out_ += "\r\n";
    first_ = true;
    return *this;
  }
  std::string take() { return std::move(out_); }

 private:
  void separate() {
    if (!first_) out_ += ',';
    first_ = false;
  }
  std::string out_;
  bool first_ = true;
};

std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& name : names) out += (out.empty() ? "" : ";") + name;
  return out;
}

}  // namespace

std::string ServerStore::visits_csv(const DateRange& range) {
  CsvOut csv;
  for (const char* column : {"id", "visited_at", "local_date", "status", "household_id", "address", "postcode", "ward",
                             "crime_prevention_advice", "fire_safety_check", "healthy_lifestyle_advice",
                             "community_involvement_info", "first_aid_training", "follow_up_required",
                             "smoke_detectors_fitted", "referrals", "notes", "recorded_by"}) {
    csv.text(column);
  }
  csv.end_row();
  auto rows = impl_->db.cached(
      "SELECT v.id, v.data, v.local_day, json_extract(h.data, '$.address'), json_extract(h.data, '$.postcode'), v.ward,"
      " v.owner FROM records v LEFT JOIN records h ON h.entity = 'household' AND h.id = v.household_id"
      " WHERE v.entity = 'visit' AND v.deleted = 0 AND v.local_day BETWEEN ? AND ? ORDER BY v.visited_at, v.id");
  rows->bind(1, lower(range.first)).bind(2, upper(range.second));
  while (rows->step()) {
    safer::Visit visit;
    safer::from_json(rows->column_text(1), visit);
    csv.text(rows->column_text(0)).text(safer::format_rfc3339(visit.visited_at)).text(rows->column_text(2));
    csv.text(safer::to_string(visit.status)).text(visit.household_id).text(rows->column_text(3));
    csv.text(rows->column_text(4)).text(rows->column_text(5));
    for (std::size_t i = 0; i < safer::EnumNames<safer::Outcome>::names.size(); ++i) {
      csv.boolean(visit.has(static_cast<safer::Outcome>(i)));
    }
    csv.number(visit.smoke_detectors_fitted).text(joined(visit.referrals.names())).text(visit.notes);
    csv.text(rows->column_text(6)).end_row();
  }
  return csv.take();
}

std::string ServerStore::commute_sessions_csv(const DateRange& range) {
  CsvOut csv;
  for (const char* column : {"id", "station", "started_at", "ended_at", "local_date", "cards_distributed", "messages",
                             "recorded_by"}) {
    csv.text(column);
  }
  csv.end_row();
  auto rows = impl_->db.cached(
      "SELECT id, data, local_day, owner FROM records WHERE entity = 'commute_session' AND deleted = 0"
      " AND local_day BETWEEN ? AND ? ORDER BY local_day, id");
  rows->bind(1, lower(range.first)).bind(2, upper(range.second));
  while (rows->step()) {
    safer::CommuteSession session;
    safer::from_json(rows->column_text(1), session);
    csv.text(rows->column_text(0)).text(session.station).text(safer::format_rfc3339(session.started_at));
    csv.text(session.ended_at ? safer::format_rfc3339(*session.ended_at) : "").text(rows->column_text(2));
    csv.number(session.cards_distributed).text(joined(session.messages.names())).text(rows->column_text(3)).end_row();
  }
  return csv.take();
}

}  // namespace sync_server
