// The server's configurable questions of the visit form (protocol.md §5.8): resident feedback
// (scales, a feedback text), extra yes/no outcomes and extra referral partners. They travel
// with the wards and stations (reference_lists.h) and a visit answers them in `answers`.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "safer/enum_names.h"
#include "safer/field_error.h"
#include "safer/result.h"

namespace safer {

enum class QuestionKind { scale, text, yes_no, referral };

template <>
struct EnumNames<QuestionKind> {
  static constexpr std::array<std::string_view, 4> names{"scale", "text", "yes_no", "referral"};
};

struct Question {
  static constexpr std::size_t kMaxIdLength = 40;
  static constexpr std::size_t kMaxLabelCodePoints = 200;
  static constexpr std::int64_t kScaleMin = 1;
  static constexpr std::int64_t kScaleMax = 5;
  static constexpr std::size_t kMaxTextCodePoints = 500;
  static constexpr std::size_t kMaxQuestions = 50;

  std::string id;  // 1..40 of [a-z0-9_], not a built-in visit field, outcome or referral name
  QuestionKind kind = QuestionKind::scale;
  std::string label;  // shown on the form: 1..200 code points of visible text
  // No longer offered on new forms; answers to it stay valid and counted.
  bool withdrawn = false;

  friend bool operator==(const Question&, const Question&) = default;
};

// Whether `id` has the form of a question id: 1..40 characters of a-z, 0-9 and '_'.
bool is_question_id(std::string_view id);

// The rules of a configuration (protocol.md §5.8), one FieldError per broken rule, with the
// field named "questions[<index>].<field>" (or "questions" for the list as a whole). `before`
// is the configuration being replaced: none of its ids may go (withdraw them instead), and
// none may change its kind (its stored answers would stop being valid).
FieldErrors check_questions(const std::vector<Question>& questions, const std::vector<Question>& before);

// The questions as the JSON array of welcome.questions and of `sync-server questions --file`.
std::string questions_to_json(const std::vector<Question>& questions);
// Decodes such an array. Errors name the entry and field ("questions[2].kind"). Entries of a
// kind this program does not know are refused here (a configuration file); a client reading
// welcome skips them instead (decode_welcome).
Result<std::vector<Question>> questions_from_json(std::string_view text);

}  // namespace safer
