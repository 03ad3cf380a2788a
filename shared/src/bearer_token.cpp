#include "safer/bearer_token.h"

namespace safer {

namespace {

bool is_blank(char c) { return c == ' ' || c == '\t'; }

std::string_view trimmed(std::string_view text) {
  while (!text.empty() && is_blank(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_blank(text.back())) text.remove_suffix(1);
  return text;
}

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

}  // namespace

std::string bearer_token(std::string_view authorization) {
  constexpr std::string_view kScheme = "bearer";
  const std::string_view value = trimmed(authorization);
  if (value.size() <= kScheme.size() || !is_blank(value[kScheme.size()])) return {};
  for (std::size_t i = 0; i < kScheme.size(); ++i) {
    if (lower(value[i]) != kScheme[i]) return {};
  }
  return std::string(trimmed(value.substr(kScheme.size())));
}

}  // namespace safer
