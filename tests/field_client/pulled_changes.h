// Pulled changes for the store tests of eviction and refused changes.
#pragma once

#include <string>

#include "safer/protocol.h"

namespace test_support {

// A pulled eviction of `household_id` (protocol.md §4.6).
inline safer::PulledChange eviction(const std::string& household_id) {
  safer::PulledChange pulled;
  pulled.evict = true;
  pulled.change.entity = safer::Entity::household;
  pulled.change.id = household_id;
  return pulled;
}

}  // namespace test_support
