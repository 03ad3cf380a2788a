#include "safer/reference_lists.h"

#include <algorithm>

namespace safer {

const ReferenceLists& ReferenceLists::defaults() {
  static const ReferenceLists lists{
      {"Aldenham East", "Aldenham West", "Bentley Heath & The Royds", "Borehamwood Brookmeadow",
       "Borehamwood Cowley Hill", "Borehamwood Hillside", "Borehamwood Kenilworth",
       "Bushey Heath", "Bushey North", "Bushey Park", "Bushey St James", "Elstree",
       "Potters Bar Furzefield", "Potters Bar Oakmere", "Potters Bar Parkfield", "Shenley"},
      {"Potters Bar", "Elstree & Borehamwood", "Radlett"},
  };
  return lists;
}

bool ReferenceLists::has_ward(std::string_view ward) const {
  return std::find(wards.begin(), wards.end(), ward) != wards.end();
}

bool ReferenceLists::has_station(std::string_view station) const {
  return std::find(stations.begin(), stations.end(), station) != stations.end();
}

}  // namespace safer
