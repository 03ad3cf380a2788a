// A Safer Streets household visit (protocol.md §5).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>

#include "safer/enum_names.h"
#include "safer/time.h"

namespace safer {

enum class VisitStatus { completed, no_answer, declined, rescheduled };

template <>
struct EnumNames<VisitStatus> {
  static constexpr std::array<std::string_view, 4> names{
      "completed", "no_answer", "declined", "rescheduled"};
};

enum class Referral { fire_service, victim_support, adult_social_care, health, other };

template <>
struct EnumNames<Referral> {
  static constexpr std::array<std::string_view, 5> names{
      "fire_service", "victim_support", "adult_social_care", "health", "other"};
};

// The lawful basis on which a visit's referrals are shared with the partners (protocol.md §5.2):
// the resident's consent, vital interests (a risk to life or of serious harm), or safeguarding
// an adult or child at risk (DPA 2018 Sch. 1 para 18: sharing without consent).
enum class ShareBasis { consent, vital_interests, safeguarding };

template <>
struct EnumNames<ShareBasis> {
  static constexpr std::array<std::string_view, 3> names{"consent", "vital_interests", "safeguarding"};
};

// The outcome flags of a visit. Every one must be false unless the visit was completed.
enum class Outcome {
  crime_prevention_advice,
  fire_safety_check,
  healthy_lifestyle_advice,
  community_involvement_info,
  first_aid_training,
  follow_up_required,
};

template <>
struct EnumNames<Outcome> {
  static constexpr std::array<std::string_view, 6> names{
      "crime_prevention_advice",    "fire_safety_check",  "healthy_lifestyle_advice",
      "community_involvement_info", "first_aid_training", "follow_up_required"};
};

// An answer to one of the server's questions (question.h, protocol.md §5.8): an integer for a
// scale, a string for a text, true for a yes/no outcome or a referral partner.
using Answer = std::variant<std::int64_t, std::string, bool>;
// An answer as text: the scale's number, the text itself, or true/false.
std::string answer_text(const Answer& answer);

struct Visit {
  static constexpr int kMaxSmokeDetectors = 10;
  static constexpr std::size_t kMaxNotesCodePoints = 2000;

  std::string household_id;  // canonical UUID
  UnixMillis visited_at = 0;
  VisitStatus status = VisitStatus::completed;
  EnumSet<Outcome> outcomes;
  std::int64_t smoke_detectors_fitted = 0;  // 0..10 after check()
  EnumSet<Referral> referrals;
  // Only with a referral; nullopt is "not recorded" (a protocol-1 writer, or none given).
  std::optional<ShareBasis> share_basis;
  std::string notes;  // at most 2000 code points
  // Dates that drive work (protocol.md §5.2), kept as sent once valid: the local date
  // "YYYY-MM-DD" a follow-up is due, only with follow_up_required; the agreed local time
  // "YYYY-MM-DDTHH:MM" of a rescheduled visit, only with status rescheduled.
  std::optional<std::string> follow_up_due;
  std::optional<std::string> rescheduled_for;
  // Question id -> answer; unanswered questions are left out (protocol.md §5.8).
  std::map<std::string, Answer> answers;

  bool has(Outcome outcome) const { return outcomes.contains(outcome); }

  friend bool operator==(const Visit&, const Visit&) = default;
};

}  // namespace safer
