// The wards and stations that records may name. The defaults are protocol.md §5.5's; a server
// may configure its own and sends them in `welcome`, and devices then validate against those.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace safer {

struct ReferenceLists {
  std::vector<std::string> wards;
  std::vector<std::string> stations;

  // Hertsmere's 16 wards and 3 Commute Aware stations (protocol.md §5.5).
  static const ReferenceLists& defaults();

  bool has_ward(std::string_view ward) const;
  bool has_station(std::string_view station) const;

  friend bool operator==(const ReferenceLists&, const ReferenceLists&) = default;
};

}  // namespace safer
