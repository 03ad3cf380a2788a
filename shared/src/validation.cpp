#include "safer/validation.h"

#include <algorithm>
#include <optional>

#include "safer/text.h"
#include "safer/uuid.h"

namespace safer {

namespace {

constexpr std::size_t kMaxAddressCodePoints = 200;
constexpr std::size_t kMaxEchoedCodePoints = 40;

bool is_referral_question(std::string_view id, const ReferenceLists& lists) {
  const Question* question = lists.find_question(id);
  return question != nullptr && question->kind == QuestionKind::referral;
}

// A reference value echoed back in a message, cut short so a message stays readable.
// Only for reference-list values (wards, stations), never for personal text.
std::string echo(std::string_view value) {
  std::string out;
  std::size_t code_points = 0;
  for (char c : value) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80 && ++code_points > kMaxEchoedCodePoints) {
      out += "…";
      break;
    }
    out.push_back(c);
  }
  return "\"" + out + "\"";
}

// The rules of one answer (protocol.md §5.8), given its question.
std::optional<FieldError> check_answer(const Question& question, const Answer& answer, bool completed,
                                       std::string_view status) {
  const std::string field = "answers." + question.id;
  const auto* integer = std::get_if<std::int64_t>(&answer);
  const auto* text = std::get_if<std::string>(&answer);
  const auto* flag = std::get_if<bool>(&answer);
  switch (question.kind) {
    case QuestionKind::scale:
      if (integer == nullptr || *integer < Question::kScaleMin || *integer > Question::kScaleMax) {
        return FieldError{field, field + " must be an integer from 1 to 5"};
      }
      break;
    case QuestionKind::text:
      if (text == nullptr) return FieldError{field, field + " must be a string"};
      if (!is_valid_utf8(*text)) return FieldError{field, field + " is not valid UTF-8 text"};
      if (!has_visible_text(*text)) return FieldError{field, field + " must not be empty: leave it out instead"};
      if (const auto length = count_code_points(*text); length > Question::kMaxTextCodePoints) {
        return FieldError{field, field + " must be at most 500 characters (it has " + std::to_string(length) + ")"};
      }
      break;
    case QuestionKind::yes_no:
    case QuestionKind::referral:
      if (flag == nullptr || !*flag) return FieldError{field, field + " must be true, or left out"};
      if (question.kind == QuestionKind::yes_no && !completed) {
        return FieldError{field, field + " must be left out when status is " + std::string(status)};
      }
      break;
  }
  return std::nullopt;
}

void check_answers(const Visit& visit, const ReferenceLists& lists, FieldErrors& errors) {
  const bool completed = visit.status == VisitStatus::completed;
  for (const auto& [id, answer] : visit.answers) {
    if (!is_question_id(id)) {
      errors.push_back({"answers", "answers holds a key that is not a question id (1 to 40 characters of a-z, "
                                   "0-9 and '_')"});
    } else if (const Question* question = lists.find_question(id)) {
      if (auto error = check_answer(*question, answer, completed, to_string(visit.status))) {
        errors.push_back(std::move(*error));
      }
    } else {
      errors.push_back({"answers." + id, "answers." + id + " does not answer any of the server's questions"});
    }
  }
}

// follow_up_due and rescheduled_for (protocol.md §5.2): each valid, only under its condition,
// and required under it from a writer that announced "work_dates".
void check_work_dates(const Visit& visit, WriterRules rules, FieldErrors& errors) {
  const bool follow_up = visit.has(Outcome::follow_up_required);
  if (visit.follow_up_due && !parse_iso_date(*visit.follow_up_due)) {
    errors.push_back({"follow_up_due", "follow_up_due must be a date written YYYY-MM-DD, such as 2026-12-18"});
  } else if (visit.follow_up_due && !follow_up) {
    errors.push_back({"follow_up_due", "follow_up_due must be left out when follow_up_required is false"});
  } else if (!visit.follow_up_due && follow_up && rules.work_dates) {
    errors.push_back({"follow_up_due", "follow_up_due is required with a follow-up: the date it is due, YYYY-MM-DD"});
  }

  const bool rescheduled = visit.status == VisitStatus::rescheduled;
  if (visit.rescheduled_for && !parse_local_datetime(*visit.rescheduled_for)) {
    errors.push_back({"rescheduled_for",
                      "rescheduled_for must be a local date and time written YYYY-MM-DDTHH:MM, such as 2026-12-18T14:30"});
  } else if (visit.rescheduled_for && !rescheduled) {
    errors.push_back({"rescheduled_for", "rescheduled_for must be left out when status is " +
                                             std::string(to_string(visit.status))});
  } else if (!visit.rescheduled_for && rescheduled && rules.work_dates) {
    errors.push_back({"rescheduled_for",
                      "rescheduled_for is required when status is rescheduled: the agreed local time, YYYY-MM-DDTHH:MM"});
  }
}

}  // namespace

bool has_referral(const Visit& visit, const ReferenceLists& lists) {
  if (!visit.referrals.empty()) return true;
  return std::any_of(visit.answers.begin(), visit.answers.end(),
                     [&lists](const auto& entry) { return is_referral_question(entry.first, lists); });
}

std::vector<std::string> referral_partners(const Visit& visit, const ReferenceLists& lists) {
  std::vector<std::string> partners;
  for (const auto& name : visit.referrals.names()) partners.emplace_back(name);
  for (const auto& entry : visit.answers) {  // a map: in id order
    if (is_referral_question(entry.first, lists)) partners.push_back(entry.first);
  }
  return partners;
}

bool is_referral_partner(std::string_view name, const ReferenceLists& lists) {
  return enum_from_string<Referral>(name).has_value() || is_referral_question(name, lists);
}

std::vector<std::string> referral_partner_names(const ReferenceLists& lists) {
  std::vector<std::string> names(EnumNames<Referral>::names.begin(), EnumNames<Referral>::names.end());
  for (const auto& question : lists.questions) {
    if (question.kind == QuestionKind::referral) names.push_back(question.id);
  }
  return names;
}

bool is_valid_user_id(std::string_view text) {
  if (text.empty() || text.size() > 64) return false;
  for (char c : text) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '@' || c == '-';
    if (!ok) return false;
  }
  return true;
}

FieldErrors check_household(Household& household, const ReferenceLists& lists) {
  FieldErrors errors;
  const std::size_t address_length = count_code_points(household.address);
  if (!is_valid_utf8(household.address)) {
    errors.push_back({"address", "address is not valid UTF-8 text"});
  } else if (!has_visible_text(household.address)) {
    errors.push_back({"address", "address must not be empty"});
  } else if (address_length > kMaxAddressCodePoints) {
    errors.push_back({"address", "address must be at most 200 characters (it has " +
                                     std::to_string(address_length) + ")"});
  }

  if (auto postcode = normalize_postcode(household.postcode)) {
    household.postcode = std::move(*postcode);
  } else {
    errors.push_back({"postcode", "postcode must be a UK postcode such as WD6 1WA"});
  }

  if (!is_valid_utf8(household.ward)) {
    errors.push_back({"ward", "ward is not valid UTF-8 text"});
  } else if (!lists.has_ward(household.ward)) {
    errors.push_back({"ward", "ward " + echo(household.ward) + " is not one of the wards: " +
                                  join_alternatives(lists.wards)});
  }

  if (const auto assignee = household.assignee(); assignee && !is_valid_user_id(*assignee)) {
    errors.push_back({"assigned_to",
                      "assigned_to must be null or a user id of 1 to 64 letters, digits, "
                      "'.', '_', '@' or '-'"});
  }
  return errors;
}

FieldErrors check_visit(const Visit& visit, const ReferenceLists& lists, WriterRules rules) {
  FieldErrors errors;
  if (!is_canonical_uuid(visit.household_id)) {
    errors.push_back({"household_id",
                      "household_id must be a household's id, a lowercase UUID such as "
                      "0192f5e4-7c1a-7d3e-9b2a-4c5d6e7f8a9b"});
  }

  const bool completed = visit.status == VisitStatus::completed;
  const std::string when_not_completed = " when status is " + std::string(to_string(visit.status));
  if (!completed) {
    for (Outcome outcome : visit.outcomes.values()) {
      const std::string field(to_string(outcome));
      errors.push_back({field, field + " must be false" + when_not_completed});
    }
  }
  if (visit.smoke_detectors_fitted < 0 || visit.smoke_detectors_fitted > Visit::kMaxSmokeDetectors) {
    errors.push_back({"smoke_detectors_fitted",
                      "smoke_detectors_fitted must be an integer from 0 to 10 (got " +
                          std::to_string(visit.smoke_detectors_fitted) + ")"});
  } else if (!completed && visit.smoke_detectors_fitted != 0) {
    errors.push_back(
        {"smoke_detectors_fitted", "smoke_detectors_fitted must be 0" + when_not_completed});
  }

  const bool referred = has_referral(visit, lists);
  if (visit.share_basis && !referred) {
    errors.push_back({"share_basis", "share_basis must be left out when there is no referral"});
  } else if (!visit.share_basis && referred && rules.share_basis) {
    errors.push_back({"share_basis", "share_basis is required with a referral: one of " +
                                         allowed_values<ShareBasis>()});
  }

  check_work_dates(visit, rules, errors);

  const std::size_t notes_length = count_code_points(visit.notes);
  if (!is_valid_utf8(visit.notes)) {
    errors.push_back({"notes", "notes is not valid UTF-8 text"});
  } else if (notes_length > Visit::kMaxNotesCodePoints) {
    errors.push_back({"notes", "notes must be at most 2000 characters (it has " +
                                   std::to_string(notes_length) + ")"});
  }
  check_answers(visit, lists, errors);
  return errors;
}

FieldErrors check_commute_session(const CommuteSession& session, const ReferenceLists& lists) {
  FieldErrors errors;
  if (!is_valid_utf8(session.station)) {
    errors.push_back({"station", "station is not valid UTF-8 text"});
  } else if (!lists.has_station(session.station)) {
    errors.push_back({"station", "station " + echo(session.station) +
                                     " is not one of the stations: " +
                                     join_alternatives(lists.stations)});
  }
  if (session.ended_at && *session.ended_at < session.started_at) {
    errors.push_back({"ended_at", "ended_at must not be before started_at"});
  }
  if (session.cards_distributed < 0 || session.cards_distributed > CommuteSession::kMaxCards) {
    errors.push_back({"cards_distributed",
                      "cards_distributed must be an integer from 0 to 5000 (got " +
                          std::to_string(session.cards_distributed) + ")"});
  }
  return errors;
}

FieldErrors check_record(RecordData& data, const ReferenceLists& lists, WriterRules rules) {
  struct Dispatch {
    const ReferenceLists& lists;
    WriterRules rules;
    FieldErrors operator()(Household& h) const { return check_household(h, lists); }
    FieldErrors operator()(Visit& v) const { return check_visit(v, lists, rules); }
    FieldErrors operator()(CommuteSession& s) const { return check_commute_session(s, lists); }
  };
  return std::visit(Dispatch{lists, rules}, data);
}

}  // namespace safer
