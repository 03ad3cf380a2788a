// A Safer Streets household visit (protocol.md §5).
#pragma once

#include <cstdint>
#include <string>

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

struct Visit {
  static constexpr int kMaxSmokeDetectors = 10;
  static constexpr std::size_t kMaxNotesCodePoints = 2000;

  std::string household_id;  // canonical UUID
  UnixMillis visited_at = 0;
  VisitStatus status = VisitStatus::completed;
  EnumSet<Outcome> outcomes;
  std::int64_t smoke_detectors_fitted = 0;  // 0..10 after check()
  EnumSet<Referral> referrals;
  std::string notes;  // at most 2000 code points

  bool has(Outcome outcome) const { return outcomes.contains(outcome); }

  friend bool operator==(const Visit&, const Visit&) = default;
};

}  // namespace safer
