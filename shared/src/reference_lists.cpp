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
      {{"feels_safe", QuestionKind::scale, "How safe does the resident feel at home?", false},
       {"satisfaction", QuestionKind::scale, "How satisfied was the resident with the visit?", false},
       {"feedback", QuestionKind::text, "Resident's feedback", false}},
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

namespace safer {

const Question* ReferenceLists::find_question(std::string_view id) const {
  const auto found = std::find_if(questions.begin(), questions.end(), [id](const Question& q) { return q.id == id; });
  return found == questions.end() ? nullptr : &*found;
}

}  // namespace safer
