// A Commute Aware session: a PCSO handing out card holders at a station (protocol.md §5).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "safer/enum_names.h"
#include "safer/time.h"

namespace safer {

enum class CommuteMessage { vehicle_security, home_security, garden_tools, personal_belongings };

template <>
struct EnumNames<CommuteMessage> {
  static constexpr std::array<std::string_view, 4> names{
      "vehicle_security", "home_security", "garden_tools", "personal_belongings"};
};

struct CommuteSession {
  static constexpr std::int64_t kMaxCards = 5000;

  std::string station;  // one of the server's stations
  UnixMillis started_at = 0;
  std::optional<UnixMillis> ended_at;  // not before started_at
  std::int64_t cards_distributed = 0;     // 0..5000 after check()
  EnumSet<CommuteMessage> messages;

  friend bool operator==(const CommuteSession&, const CommuteSession&) = default;
};

}  // namespace safer
