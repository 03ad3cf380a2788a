// A household on the Safer Streets register (protocol.md §5).
#pragma once

#include <optional>
#include <string>

#include "safer/enum_names.h"

namespace safer {

enum class Vulnerability { elderly, disability, repeat_victim, lives_alone, other };

template <>
struct EnumNames<Vulnerability> {
  static constexpr std::array<std::string_view, 5> names{
      "elderly", "disability", "repeat_victim", "lives_alone", "other"};
};

struct Household {
  std::string address;   // 1..200 code points
  std::string postcode;  // stored form after check(): "WD6 1WA"
  std::string ward;      // one of the server's wards
  EnumSet<Vulnerability> vulnerability;

  // Server-owned fields. In an upsert from an officer or PCSO an omitted field means
  // "unchanged" (protocol.md §5.7), so omission is kept apart from a value:
  std::optional<bool> target;                            // nullopt: omitted (false when new)
  std::optional<std::optional<std::string>> assigned_to; // nullopt: omitted; inner nullopt: null

  bool is_target() const { return target.value_or(false); }
  std::optional<std::string> assignee() const {
    return assigned_to.has_value() ? *assigned_to : std::nullopt;
  }

  friend bool operator==(const Household&, const Household&) = default;
};

// What makes two households near duplicates (the register import and a household added on a
// tablet are warned of them): the postcode (stored form) and the numbers in the address, in
// order ("Flat 2, 11 Fir Drive" → "WD7 9FF|2/11"). "" when the address holds no number: such a
// household is never called a near duplicate.
std::string near_duplicate_key(const Household& household);

}  // namespace safer
