#include "safer/json_text.h"

#include "safer/json_out.h"

namespace safer {

std::string json_quote(std::string_view text) { return JsonOut().value(text).str(); }

}  // namespace safer
