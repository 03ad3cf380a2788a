#include "safer/household.h"

#include <cctype>

namespace safer {

std::string near_duplicate_key(const Household& household) {
  std::string numbers;
  for (std::size_t i = 0; i < household.address.size();) {
    if (!std::isdigit(static_cast<unsigned char>(household.address[i]))) {
      ++i;
      continue;
    }
    if (!numbers.empty()) numbers += '/';
    while (i < household.address.size() && std::isdigit(static_cast<unsigned char>(household.address[i]))) {
      numbers += household.address[i++];
    }
  }
  return numbers.empty() ? "" : household.postcode + "|" + numbers;
}

}  // namespace safer
