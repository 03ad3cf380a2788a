#include "log.h"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <mutex>

#include "safer/json_out.h"
#include "safer/time.h"

namespace sync_server::log {

namespace {

std::atomic<Format> g_format{Format::text};

bool is_count(std::string_view value) {
  if (value.empty() || value.size() > 18) return false;  // fits an int64
  return value.find_first_not_of("0123456789") == std::string_view::npos;
}

// Whether `text` starts with a key and '=': what follows a quoted value's closing quote.
bool starts_pair(std::string_view text) {
  const auto equals = text.find('=');
  if (equals == 0 || equals == std::string_view::npos) return false;
  return text.substr(0, equals).find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_") == std::string_view::npos;
}

// Writes the key=value pairs of `details` into `out`, an open object. A quoted value ends at
// the quote that ends the line or is followed by a space and the next key=, so that quotes
// inside one (an OS error's message) stay in it.
void write_pairs(safer::JsonOut& out, std::string_view details) {
  std::string unparsed;
  while (!details.empty()) {
    if (details.front() == ' ') {
      details.remove_prefix(1);
      continue;
    }
    const auto equals = details.find('=');
    const auto space = details.find(' ');
    if (equals == std::string_view::npos || (space != std::string_view::npos && space < equals) || equals == 0) {
      const auto end = space == std::string_view::npos ? details.size() : space;
      unparsed += (unparsed.empty() ? "" : " ") + std::string(details.substr(0, end));
      details.remove_prefix(end);
      continue;
    }
    const std::string_view key = details.substr(0, equals);
    details.remove_prefix(equals + 1);
    std::string_view value;
    if (!details.empty() && details.front() == '"') {
      std::size_t close = 1;
      const auto closes = [&details](std::size_t at) {
        return details[at] == '"' && (at + 1 == details.size() || (details[at + 1] == ' ' && starts_pair(details.substr(at + 2))));
      };
      while (close < details.size() && !closes(close)) ++close;
      value = details.substr(1, close - 1);
      details.remove_prefix(std::min(close + 1, details.size()));
      out.field(key, value);
      continue;
    }
    const auto end = details.find(' ');
    value = details.substr(0, end);
    details.remove_prefix(end == std::string_view::npos ? details.size() : end);
    if (is_count(value)) {
      out.field(key, std::stoll(std::string(value)));
    } else {
      out.field(key, value);
    }
  }
  if (!unparsed.empty()) out.field("unparsed", unparsed);
}

}  // namespace

void set_format(Format format) { g_format = format; }

std::string format_line(Format format, std::string_view time, std::string_view event, std::string_view details) {
  if (format == Format::json) {
    safer::JsonOut out;
    out.begin_object().field("time", time).field("event", event);
    write_pairs(out, details);
    return out.end_object().str();
  }
  std::string text(time);
  text += ' ';
  text += event;
  if (!details.empty()) {
    text += ' ';
    text += details;
  }
  return text;
}

void line(std::string_view event, std::string_view details) {
  std::string text = format_line(g_format, safer::format_rfc3339(safer::now_unix_millis()), event, details);
  text += '\n';
  static std::mutex mutex;
  std::lock_guard lock(mutex);
  std::fwrite(text.data(), 1, text.size(), stderr);
  std::fflush(stderr);
}

}  // namespace sync_server::log
