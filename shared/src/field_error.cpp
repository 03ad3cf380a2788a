#include "safer/field_error.h"

namespace safer {

std::string join_messages(const FieldErrors& errors) {
  std::string out;
  for (const auto& error : errors) {
    if (!out.empty()) out += "; ";
    out += error.message;
  }
  return out;
}

}  // namespace safer
