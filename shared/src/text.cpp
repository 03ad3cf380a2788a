#include "safer/text.h"

namespace safer {

namespace {

bool is_ascii_letter(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }
bool is_ascii_digit(char c) { return c >= '0' && c <= '9'; }
char to_upper(char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c; }

// The two letters of an inward code never include C, I, K, M, O or V.
bool is_inward_letter(char c) {
  const char upper = to_upper(c);
  return is_ascii_letter(c) && upper != 'C' && upper != 'I' && upper != 'K' && upper != 'M' &&
         upper != 'O' && upper != 'V';
}

// Outward code: [A-Za-z]{1,2}[0-9][A-Za-z0-9]?
bool is_outward_code(std::string_view text) {
  if (text.size() < 2 || text.size() > 4) return false;
  std::size_t pos = 0;
  if (!is_ascii_letter(text[pos++])) return false;
  if (is_ascii_letter(text[pos])) ++pos;
  if (pos >= text.size() || !is_ascii_digit(text[pos++])) return false;
  if (pos < text.size()) {
    if (!is_ascii_letter(text[pos]) && !is_ascii_digit(text[pos])) return false;
    ++pos;
  }
  return pos == text.size();
}

}  // namespace

namespace {

// The length of the well-formed UTF-8 sequence at text[i] (1 to 4), or 0 if it is ill-formed
// (a stray continuation byte, an overlong form, a surrogate, past U+10FFFF, or cut short).
std::size_t sequence_length(std::string_view text, std::size_t i) {
  const auto lead = static_cast<unsigned char>(text[i]);
  std::size_t length = 0;
  std::uint32_t code_point = 0;
  if (lead < 0x80) {
    return 1;
  } else if ((lead & 0xE0) == 0xC0) {
    length = 2;
    code_point = lead & 0x1Fu;
  } else if ((lead & 0xF0) == 0xE0) {
    length = 3;
    code_point = lead & 0x0Fu;
  } else if ((lead & 0xF8) == 0xF0) {
    length = 4;
    code_point = lead & 0x07u;
  } else {
    return 0;
  }
  if (i + length > text.size()) return 0;
  for (std::size_t k = 1; k < length; ++k) {
    const auto next = static_cast<unsigned char>(text[i + k]);
    if ((next & 0xC0) != 0x80) return 0;
    code_point = (code_point << 6) | (next & 0x3Fu);
  }
  static constexpr std::uint32_t kMinimum[] = {0, 0, 0x80, 0x800, 0x10000};
  if (code_point < kMinimum[length] || code_point > 0x10FFFF || (code_point >= 0xD800 && code_point <= 0xDFFF)) {
    return 0;
  }
  return length;
}

}  // namespace

bool is_valid_utf8(std::string_view text) {
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t length = sequence_length(text, i);
    if (length == 0) return false;
    i += length;
  }
  return true;
}

std::string to_valid_utf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t length = sequence_length(text, i);
    if (length == 0) {
      out += "\xEF\xBF\xBD";  // U+FFFD REPLACEMENT CHARACTER, for one ill-formed byte
      ++i;
    } else {
      out.append(text.substr(i, length));
      i += length;
    }
  }
  return out;
}

std::size_t count_code_points(std::string_view text) {
  std::size_t count = 0;
  for (char c : text) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++count;
  }
  return count;
}

bool has_visible_text(std::string_view text) {
  for (char c : text) {
    if (c != ' ' && c != '\t' && c != '\n' && c != '\r') return true;
  }
  return false;
}

std::string fold_case(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto byte = static_cast<unsigned char>(text[i]);
    if (byte >= 'A' && byte <= 'Z') {
      out.push_back(static_cast<char>(byte - 'A' + 'a'));
    } else if ((byte == 0xC3 || byte == 0xC4 || byte == 0xC5) && i + 1 < text.size()) {
      // Two-byte UTF-8: U+00C0..U+017F.
      std::uint32_t code_point = ((byte & 0x1Fu) << 6) | (static_cast<unsigned char>(text[i + 1]) & 0x3Fu);
      if (code_point >= 0xC0 && code_point <= 0xDE && code_point != 0xD7) {
        code_point += 0x20;  // À..Þ → à..þ (not ×)
      } else if (code_point == 0x178) {
        code_point = 0xFF;  // Ÿ → ÿ
      } else if (code_point >= 0x100 && code_point <= 0x17F && code_point != 0x130 && code_point != 0x138 &&
                 code_point != 0x149 && code_point != 0x17F) {
        // Latin Extended-A pairs upper/lower as even/odd, shifted by one between U+0139 and U+0148
        // and from U+0179.
        const bool odd_upper = (code_point >= 0x139 && code_point <= 0x148) || code_point >= 0x179;
        if ((code_point % 2 == 1) == odd_upper) ++code_point;
      }
      out.push_back(static_cast<char>(0xC0 | (code_point >> 6)));
      out.push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
      ++i;
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

std::string join_lines(const std::vector<std::string>& lines) {
  std::string text;
  for (const auto& line : lines) {
    if (!text.empty()) text.push_back('\n');
    text += line;
  }
  return text;
}

std::vector<std::string> split_lines(std::string_view text) {
  std::vector<std::string> lines;
  if (text.empty()) return lines;
  for (std::size_t start = 0;;) {
    const auto end = text.find('\n', start);
    lines.emplace_back(text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
    if (end == std::string_view::npos) return lines;
    start = end + 1;
  }
}

std::optional<std::string> normalize_postcode(std::string_view text) {
  // The one optional space can only sit before the three characters of the inward code.
  std::string compact;
  compact.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == ' ') {
      if (text.size() < 4 || i != text.size() - 4) return std::nullopt;
      continue;
    }
    compact.push_back(to_upper(text[i]));
  }
  if (compact.size() < 5 || compact.size() > 7) return std::nullopt;

  const std::string_view outward = std::string_view(compact).substr(0, compact.size() - 3);
  const std::string_view inward = std::string_view(compact).substr(compact.size() - 3);
  const bool girobank = outward == "GIR" && inward == "0AA";
  if (!girobank && (!is_outward_code(outward) || !is_ascii_digit(inward[0]) ||
                    !is_inward_letter(inward[1]) || !is_inward_letter(inward[2]))) {
    return std::nullopt;
  }
  return std::string(outward) + " " + std::string(inward);
}

}  // namespace safer
