// The wards and stations that records may name, and the questions a visit may answer. The
// defaults are protocol.md §5.5's and §5.8's; a server may configure its own and sends them in
// `welcome`, and devices then validate against those.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "safer/question.h"

namespace safer {

struct ReferenceLists {
  std::vector<std::string> wards;
  std::vector<std::string> stations;
  std::vector<Question> questions;  // withdrawn ones included: their answers stay valid

  // Hertsmere's 16 wards and 3 Commute Aware stations (protocol.md §5.5), and the three
  // feedback questions feels_safe, satisfaction and feedback (§5.8).
  static const ReferenceLists& defaults();

  bool has_ward(std::string_view ward) const;
  bool has_station(std::string_view station) const;
  // The question with this id, withdrawn or not; nullptr when there is none.
  const Question* find_question(std::string_view id) const;

  friend bool operator==(const ReferenceLists&, const ReferenceLists&) = default;
};

}  // namespace safer
