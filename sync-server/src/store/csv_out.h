// CSV text for the exports (exports.cpp, audit.cpp): RFC 4180, UTF-8, CRLF.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "sync_server/dashboard.h"

namespace sync_server {

using CsvSink = Dashboard::CsvSink;
inline constexpr std::size_t kCsvPieceBytes = Dashboard::kCsvPieceBytes;

// A list inside one cell: the names joined with ';' (referrals, vulnerabilities, messages).
inline std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& name : names) out += (out.empty() ? "" : ";") + name;
  return out;
}

// Cells into CSV text, handed to `sink` each time a row ends with at least
// kCsvPieceBytes waiting, and by finish().
class CsvOut {
 public:
  explicit CsvOut(const CsvSink& sink) : sink_(sink) {}

  // A text cell: quoted when it holds a comma, quote or line break; prefixed with ' when it
  // begins with = + - @, a tab or a carriage return (OWASP's advice against CSV injection).
  CsvOut& text(std::string_view value) {
    separate();
    std::string cell;
    if (!value.empty() && std::string_view("=+-@\t\r").find(value.front()) != std::string_view::npos) cell = "'";
    cell += value;
    if (cell.find_first_of(",\"\r\n") == std::string::npos) {
      out_ += cell;
      return *this;
    }
    out_ += '"';
    for (char c : cell) {
      if (c == '"') out_ += '"';
      out_ += c;
    }
    out_ += '"';
    return *this;
  }
  CsvOut& number(std::int64_t value) {
    separate();
    out_ += std::to_string(value);
    return *this;
  }
  CsvOut& boolean(bool value) {
    separate();
    out_ += value ? "true" : "false";
    return *this;
  }
  CsvOut& end_row() {
    out_ += "\r\n";
    first_ = true;
    if (out_.size() >= kCsvPieceBytes) flush();
    return *this;
  }
  // Hands over what is left. REQUIRES: the last row ended.
  void finish() { flush(); }

 private:
  void separate() {
    if (!first_) out_ += ',';
    first_ = false;
  }
  void flush() {
    if (!out_.empty()) sink_(out_);
    out_.clear();
  }
  const CsvSink& sink_;
  std::string out_;
  bool first_ = true;
};

}  // namespace sync_server
