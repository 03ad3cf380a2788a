// Reading a small JSON object from an HTTP request body (a login, an assignment, an
// enrolment) with the project's own JSON reader (json_reader.cpp): valid UTF-8 only, no NUL,
// no repeated keys, numbers read exactly, nesting without recursion. RapidJSON stays out of
// this header.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace safer {

// The top-level members of a JSON object: strings kept as text, null marked, anything else
// (numbers, booleans, arrays, objects) only known to be there.
class JsonObject {
 public:
  enum class Kind { string, null, other };

  // `text` as an object, or nullopt when it is not JSON, not an object, or repeats a key.
  static std::optional<JsonObject> parse(std::string_view text);

  bool has(const std::string& name) const { return members_.count(name) != 0; }
  bool is_string(const std::string& name) const { return kind(name) == Kind::string; }
  bool is_null(const std::string& name) const { return kind(name) == Kind::null; }
  // The member's text when it is a string; nullopt when absent or not a string.
  std::optional<std::string> string(const std::string& name) const;

 private:
  std::optional<Kind> kind(const std::string& name) const;
  struct Member {
    Kind kind;
    std::string text;  // for Kind::string
  };
  std::map<std::string, Member> members_;
};

}  // namespace safer
