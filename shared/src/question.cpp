#include "safer/question.h"

#include <algorithm>
#include <set>

#include "json_internal.h"
#include "safer/text.h"
#include "safer/visit.h"

namespace safer {

namespace {

// Names a question id may not take: the visit's own fields, outcomes and referral partners
// (a CSV column, a statistic or a form control named after one would be ambiguous).
bool is_built_in_name(std::string_view id) {
  static constexpr std::array<std::string_view, 10> kFields{
      "household_id", "visited_at", "status",      "smoke_detectors_fitted", "referrals",
      "share_basis",  "notes",      "answers",     "follow_up_due",          "rescheduled_for"};
  const auto in = [id](const auto& names) { return std::find(names.begin(), names.end(), id) != names.end(); };
  return in(kFields) || in(EnumNames<Outcome>::names) || in(EnumNames<Referral>::names);
}

std::string entry_field(std::size_t index, std::string_view field) {
  return "questions[" + std::to_string(index) + "]." + std::string(field);
}

}  // namespace

bool is_question_id(std::string_view id) {
  if (id.empty() || id.size() > Question::kMaxIdLength) return false;
  return std::all_of(id.begin(), id.end(),
                     [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'; });
}

FieldErrors check_questions(const std::vector<Question>& questions, const std::vector<Question>& before) {
  FieldErrors errors;
  if (questions.size() > Question::kMaxQuestions) {
    errors.push_back({"questions", "there may be at most " + std::to_string(Question::kMaxQuestions) +
                                       " questions (withdrawn ones included); there are " +
                                       std::to_string(questions.size())});
  }
  std::set<std::string_view> seen;
  for (std::size_t i = 0; i < questions.size(); ++i) {
    const Question& question = questions[i];
    const std::string id_field = entry_field(i, "id");
    if (!is_question_id(question.id)) {
      errors.push_back({id_field, id_field + " must be 1 to 40 characters of a-z, 0-9 and '_'"});
    } else if (is_built_in_name(question.id)) {
      errors.push_back({id_field, id_field + " \"" + question.id +
                                      "\" is the name of a built-in visit field, outcome or referral; choose another"});
    } else if (!seen.insert(question.id).second) {
      errors.push_back({id_field, id_field + " \"" + question.id + "\" appears more than once"});
    }
    const std::string label_field = entry_field(i, "label");
    if (!is_valid_utf8(question.label) || !has_visible_text(question.label)) {
      errors.push_back({label_field, label_field + " must be non-empty text"});
    } else if (count_code_points(question.label) > Question::kMaxLabelCodePoints) {
      errors.push_back({label_field, label_field + " must be at most 200 characters"});
    }
  }
  for (const Question& old : before) {
    const auto now = std::find_if(questions.begin(), questions.end(), [&](const Question& q) { return q.id == old.id; });
    if (now == questions.end()) {
      errors.push_back({"questions", "questions must keep \"" + old.id +
                                         "\", configured before (visits may hold answers to it): give it "
                                         "\"withdrawn\": true rather than leave it out"});
    } else if (now->kind != old.kind) {
      const std::string field = entry_field(static_cast<std::size_t>(now - questions.begin()), "kind");
      errors.push_back({field, field + " of \"" + old.id + "\" was " + std::string(to_string(old.kind)) +
                                   " and cannot change (visits may hold answers to it): withdraw it and add a "
                                   "question with a new id"});
    }
  }
  return errors;
}

namespace json {

void write_questions(JsonOut& out, const std::vector<Question>& questions) {
  out.begin_array();
  for (const Question& question : questions) {
    out.begin_object()
        .field("id", question.id)
        .field("kind", to_string(question.kind))
        .field("label", question.label)
        .field("withdrawn", question.withdrawn)
        .end_object();
  }
  out.end_array();
}

bool decode_questions(const Value& array, bool skip_unknown_kinds, std::vector<Question>& out, FieldErrors& errors) {
  if (!array.IsArray()) {
    errors.push_back({"questions", std::string("questions must be an array, not ") + describe_type(array)});
    return false;
  }
  const std::size_t errors_before = errors.size();
  std::vector<Question> questions;
  std::size_t index = 0;
  for (const auto& item : array.GetArray()) {
    const std::string prefix = "questions[" + std::to_string(index++) + "]";
    if (!item.IsObject()) {
      errors.push_back({prefix, prefix + " must be an object, not " + describe_type(item)});
      continue;
    }
    FieldErrors entry_errors;
    ObjectReader reader(item, entry_errors);
    Question question;
    reader.read_string("id", question.id, true);
    reader.read_string("label", question.label, true);
    reader.read_bool("withdrawn", question.withdrawn);
    std::string kind;
    if (reader.read_string("kind", kind, true)) {
      if (const auto parsed = enum_from_string<QuestionKind>(kind)) {
        question.kind = *parsed;
      } else if (skip_unknown_kinds) {
        continue;  // a later kind (protocol.md §10 rule 3): this client does not offer it
      } else {
        reader.add_error("kind", "kind must be one of " + allowed_values<QuestionKind>());
      }
    }
    for (auto& error : entry_errors) errors.push_back({prefix + "." + error.field, prefix + "." + error.message});
    questions.push_back(std::move(question));
  }
  if (errors.size() != errors_before) return false;
  out = std::move(questions);
  return true;
}

}  // namespace json

std::string questions_to_json(const std::vector<Question>& questions) {
  JsonOut out;
  json::write_questions(out, questions);
  return out.str();
}

Result<std::vector<Question>> questions_from_json(std::string_view text) {
  json::Document document;
  if (!json::parse(text, document)) return Error{"invalid", "the questions are not valid JSON", "questions"};
  FieldErrors errors;
  std::vector<Question> questions;
  if (!json::decode_questions(document, false, questions, errors)) {
    return Error{"invalid", join_messages(errors), errors.front().field};
  }
  return questions;
}

std::string answer_text(const Answer& answer) {
  if (const auto* number = std::get_if<std::int64_t>(&answer)) return std::to_string(*number);
  if (const auto* text = std::get_if<std::string>(&answer)) return *text;
  return std::get<bool>(answer) ? "true" : "false";
}

}  // namespace safer
