#include "output.h"

#include <iomanip>

#include "safer/record_json.h"

namespace field_client::cli {

namespace {


std::string outcomes_summary(const safer::Visit& visit) {
  std::string out;
  for (const auto outcome : visit.outcomes.values()) {
    if (!out.empty()) out += ',';
    out += safer::to_string(outcome);
  }
  if (visit.smoke_detectors_fitted > 0) {
    if (!out.empty()) out += ',';
    out += "smoke_detectors=" + std::to_string(visit.smoke_detectors_fitted);
  }
  return out.empty() ? "-" : out;
}

std::string join(const std::vector<std::string>& values) {
  std::string out;
  for (const auto& value : values) {
    if (!out.empty()) out += ',';
    out += value;
  }
  return out.empty() ? "-" : out;
}

void print_household(std::ostream& out, const StoredRecord& record, const safer::Household& h) {
  out << record.id << "  " << std::left << std::setw(9) << h.postcode << std::setw(26) << h.ward
      << std::setw(7) << (h.is_target() ? "target" : "-") << std::setw(9) << to_string(record.state)
      << h.address << '\n';
}

void print_visit(std::ostream& out, const StoredRecord& record, const safer::Visit& v) {
  out << record.id << "  " << safer::format_rfc3339(v.visited_at) << "  " << std::left << std::setw(12)
      << safer::to_string(v.status) << std::setw(9) << to_string(record.state) << "household "
      << v.household_id << "  " << outcomes_summary(v);
  if (!v.referrals.empty()) {
    out << "  referrals=" << join(v.referrals.names())
        << " share_basis=" << (v.share_basis ? safer::to_string(*v.share_basis) : std::string_view("not_recorded"));
  }
  if (v.follow_up_due) out << "  follow_up_due=" << *v.follow_up_due;
  if (v.rescheduled_for) out << "  rescheduled_for=" << *v.rescheduled_for;
  if (!v.answers.empty()) {  // the ids only: a feedback text is personal, as the notes are
    std::string ids;
    for (const auto& [id, answer] : v.answers) ids += (ids.empty() ? "" : ",") + id;
    out << "  answers=" << ids;
  }
  out << '\n';
}

void print_commute(std::ostream& out, const StoredRecord& record, const safer::CommuteSession& s) {
  out << record.id << "  " << safer::format_rfc3339(s.started_at) << "  " << std::left << std::setw(22)
      << s.station << std::right << std::setw(5) << s.cards_distributed << " cards  " << std::left
      << std::setw(9) << to_string(record.state) << (s.ended_at ? "ended" : "running") << "  "
      << join(s.messages.names()) << '\n';
}

}  // namespace

void print_record(std::ostream& out, const StoredRecord& record) {
  if (!record.data) {
    out << record.id << "  (deleted)  " << to_string(record.state) << '\n';
    return;
  }
  std::visit(
      [&](const auto& data) {
        using T = std::decay_t<decltype(data)>;
        if constexpr (std::is_same_v<T, safer::Household>) print_household(out, record, data);
        if constexpr (std::is_same_v<T, safer::Visit>) print_visit(out, record, data);
        if constexpr (std::is_same_v<T, safer::CommuteSession>) print_commute(out, record, data);
      },
      *record.data);
}

void print_records(std::ostream& out, Entity entity, const std::vector<StoredRecord>& records) {
  static const char* const kTitles[] = {"Households", "Visits", "Commute Aware sessions"};
  out << kTitles[static_cast<int>(entity)] << " (" << records.size() << ")\n";
  for (const auto& record : records) {
    out << "  ";
    print_record(out, record);
  }
}

void print_outbox(std::ostream& out, const std::vector<OutboxEntry>& entries) {
  if (entries.empty()) {
    out << "Nothing waiting: every change has been synced.\n";
    return;
  }
  for (const auto& entry : entries) {
    out << "  seq " << std::left << std::setw(6) << entry.seq << std::setw(9) << to_string(entry.state)
        << std::setw(7) << safer::to_string(entry.change.op) << std::setw(16)
        << safer::to_string(entry.change.entity) << entry.change.id << '\n';
    if (entry.state == OutboxState::rejected) {
      out << "        rejected (" << entry.reject_code << "): " << entry.reject_message << '\n';
    }
  }
}

}  // namespace field_client::cli
