// CSV exports of visits, Commute Aware sessions and the register (docs/api.md): RFC 4180, UTF-8, CRLF, a
// header row, and text cells that a spreadsheet would run as a formula neutralised.
#include "csv_out.h"
#include "safer/record_json.h"
#include "store_impl.h"
#include "sync_server/dashboard.h"

namespace sync_server {

namespace {

std::string lower(const std::optional<safer::CivilDate>& date) { return date ? safer::format_iso_date(*date) : ""; }
std::string upper(const std::optional<safer::CivilDate>& date) {
  return date ? safer::format_iso_date(*date) : "9999-12-31";
}

// Rows are read a page at a time after the last (sort key, id) written: a page is all the
// backend holds (libpq reads a whole result into memory), inside one read snapshot.
constexpr int kPageRows = 1000;

// The sink that appends to `out`.
Dashboard::CsvSink append_to(std::string& out) {
  return [&out](std::string_view piece) { out += piece; };
}

// Writes the header row `columns`, then every row of `query` a page at a time, inside one
// read snapshot. `query` takes its own bounds as `bind(statement)` binds them (?1..?2) and
// ?3..?4 the last (sort key, id) written, and returns at most kPageRows rows ordered by them.
// `row` writes one row's cells and returns its (sort key, id). Returns the number of rows
// written (the header not counted).
template <class Bind, class Row>
std::int64_t export_pages(db::Database& db, const Dashboard::CsvSink& sink, const std::vector<std::string>& columns,
                          const char* query, Bind&& bind, Row&& row) {
  CsvOut csv(sink);
  for (const auto& column : columns) csv.text(column);
  csv.end_row();
  db::Transaction snapshot(db, db::Database::TransactionKind::read);
  std::pair<std::string, std::string> after;  // ("", "") sorts before every row
  std::int64_t written = 0;
  for (int page_rows = kPageRows; page_rows == kPageRows;) {
    page_rows = 0;
    auto rows = db.cached(query);
    bind(*rows);
    rows->bind(3, after.first).bind(4, after.second);
    while (rows->step()) {
      ++page_rows;
      ++written;
      after = row(*rows, csv);
      csv.end_row();
    }
  }
  snapshot.commit();
  csv.finish();
  return written;
}

// The same, for a query whose ?1..?2 are a date range's bounds.
template <class Row>
std::int64_t export_pages(db::Database& db, const Dashboard::DateRange& range, const Dashboard::CsvSink& sink,
                          const std::vector<std::string>& columns, const char* query, Row&& row) {
  const auto bind_range = [&range](db::Statement& rows) { rows.bind(1, lower(range.first)).bind(2, upper(range.second)); };
  return export_pages(db, sink, columns, query, bind_range, std::forward<Row>(row));
}

// A visit's answer to `question` as its CSV cell (protocol.md §5.8): the scale's number, the
// text, or true/false for an extra outcome or partner; empty when a scale or text is unanswered.
void answer_cell(CsvOut& csv, const safer::Question& question, const safer::Visit& visit) {
  const auto found = visit.answers.find(question.id);
  const safer::Answer* answer = found == visit.answers.end() ? nullptr : &found->second;
  switch (question.kind) {
    case safer::QuestionKind::scale:
      if (const auto* value = answer ? std::get_if<std::int64_t>(answer) : nullptr) {
        csv.number(*value);
      } else {
        csv.text("");
      }
      break;
    case safer::QuestionKind::text: {
      const auto* text = answer ? std::get_if<std::string>(answer) : nullptr;
      csv.text(text ? std::string_view(*text) : std::string_view());
      break;
    }
    case safer::QuestionKind::yes_no:
    case safer::QuestionKind::referral:
      csv.boolean(answer != nullptr);
      break;
  }
}

}  // namespace

std::int64_t Dashboard::visits_csv(const DateRange& range, const CsvSink& sink) {
  // The fixed columns, then one per question of the server, withdrawn ones included.
  const auto& questions = store_.impl_->options.lists.questions;
  std::vector<std::string> columns{
      "id", "visited_at", "local_date", "status", "household_id", "address", "postcode", "ward", "vulnerability",
      "crime_prevention_advice", "fire_safety_check", "healthy_lifestyle_advice", "community_involvement_info",
      "first_aid_training", "follow_up_required", "smoke_detectors_fitted", "referrals", "share_basis", "follow_up_due",
      "rescheduled_for", "notes", "recorded_by"};
  for (const auto& question : questions) columns.push_back("answer_" + question.id);
  // ?5, ?6: the range as visited_at bounds, for visits_in_export_order (store_impl.h).
  const auto bind_range = [&range](db::Statement& rows) {
    rows.bind(1, lower(range.first)).bind(2, upper(range.second));
    rows.bind(5, visited_from_text(range.first)).bind(6, visited_before_text(range.second));
  };
  return export_pages(
      store_.impl_->db, sink, columns,
      "SELECT v.id, v.data, v.local_day, json_extract(h.data, '$.address'), json_extract(h.data, '$.postcode'), v.ward,"
      " v.owner, v.visited_at, json_extract(h.data, '$.vulnerability') FROM records v"
      " LEFT JOIN records h ON h.entity = 'household' AND h.id = v.household_id"
      " WHERE v.entity = 'visit' AND v.deleted = 0 AND v.local_day BETWEEN ?1 AND ?2 AND (v.visited_at, v.id) > (?3, ?4)"
      " AND v.visited_at >= ?5 AND v.visited_at < ?6 ORDER BY v.visited_at, v.id LIMIT 1000",
      bind_range, [&questions](db::Statement& rows, CsvOut& csv) {
        safer::Visit visit;
        safer::from_json(rows.column_text(1), visit);
        csv.text(rows.column_text(0)).text(safer::format_rfc3339(visit.visited_at)).text(rows.column_text(2));
        csv.text(safer::to_string(visit.status)).text(visit.household_id).text(rows.column_text(3));
        csv.text(rows.column_text(4)).text(rows.column_text(5)).text(joined(vulnerabilities_in(rows, 8).names()));
        for (std::size_t i = 0; i < safer::EnumNames<safer::Outcome>::names.size(); ++i) {
          csv.boolean(visit.has(static_cast<safer::Outcome>(i)));
        }
        csv.number(visit.smoke_detectors_fitted).text(joined(visit.referrals.names()));
        csv.text(visit.share_basis ? safer::to_string(*visit.share_basis) : std::string_view());
        csv.text(visit.follow_up_due.value_or("")).text(visit.rescheduled_for.value_or("")).text(visit.notes);
        csv.text(rows.column_text(6));
        for (const auto& question : questions) answer_cell(csv, question, visit);
        return std::pair{rows.column_text(7), rows.column_text(0)};
      });
}

std::int64_t Dashboard::commute_sessions_csv(const DateRange& range, const CsvSink& sink) {
  return export_pages(
      store_.impl_->db, range, sink,
      {"id", "station", "started_at", "ended_at", "local_date", "cards_distributed", "messages", "recorded_by"},
      "SELECT id, data, local_day, owner FROM records WHERE entity = 'commute_session' AND deleted = 0"
      " AND local_day BETWEEN ? AND ? AND (local_day, id) > (?, ?) ORDER BY local_day, id LIMIT 1000",
      [](db::Statement& rows, CsvOut& csv) {
        safer::CommuteSession session;
        safer::from_json(rows.column_text(1), session);
        csv.text(rows.column_text(0)).text(session.station).text(safer::format_rfc3339(session.started_at));
        csv.text(session.ended_at ? safer::format_rfc3339(*session.ended_at) : "").text(rows.column_text(2));
        csv.number(session.cards_distributed).text(joined(session.messages.names())).text(rows.column_text(3));
        return std::pair{rows.column_text(2), rows.column_text(0)};
      });
}

std::int64_t Dashboard::households_csv(const CsvSink& sink) {
  // The columns of the import (households_csv.h) with the vulnerability column, so that the
  // export imports again unchanged. ?1..?2 are unused bounds: every live household, by id.
  return export_pages(
      store_.impl_->db, sink, {"id", "address", "postcode", "ward", "target", "assigned_to", "vulnerability"},
      "SELECT id, data FROM records WHERE entity = 'household' AND deleted = 0 AND CAST(?1 AS INTEGER) = CAST(?2 AS INTEGER)"
      " AND (id, id) > (?3, ?4)"
      " ORDER BY id LIMIT 1000",
      [](db::Statement& rows) { rows.bind(1, 0).bind(2, 0); },
      [](db::Statement& rows, CsvOut& csv) {
        safer::Household household;
        safer::from_json(rows.column_text(1), household);
        csv.text(rows.column_text(0)).text(household.address).text(household.postcode).text(household.ward);
        csv.boolean(household.is_target()).text(household.assignee().value_or(""));
        csv.text(joined(household.vulnerability.names()));
        return std::pair{rows.column_text(0), rows.column_text(0)};
      });
}

std::string Dashboard::households_csv() {
  std::string out;
  households_csv(append_to(out));
  return out;
}

std::string Dashboard::visits_csv(const DateRange& range) {
  std::string out;
  visits_csv(range, append_to(out));
  return out;
}

std::string Dashboard::commute_sessions_csv(const DateRange& range) {
  std::string out;
  commute_sessions_csv(range, append_to(out));
  return out;
}

}  // namespace sync_server
