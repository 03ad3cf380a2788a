// Reading a small JSON object from an HTTP request body (a login, an assignment, an
// enrolment) with the project's own JSON reader (json_reader.cpp): valid UTF-8 only, no NUL,
// no repeated keys, numbers read exactly, nesting without recursion. RapidJSON stays out of
// this header.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>
#include <string_view>

namespace safer {

// Whether `text` is one JSON object and nothing else, read as json_reader.cpp reads (valid
// UTF-8, no NUL, nesting without recursion) but without building it: for text put into a
// message as it is (JsonOut::raw), which must not break the message around it.
bool is_json_object_text(std::string_view text);

// The top-level members of a JSON object: strings kept as text, whole numbers kept as numbers,
// null marked, anything else (other numbers, booleans, arrays, objects) only known to be there.
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
  // The member's value when it is a whole number written without a fraction or exponent that
  // fits in 64 bits (100, not 100.0 or "100"); nullopt otherwise.
  std::optional<std::int64_t> integer(const std::string& name) const;
  // The member's value when it is true or false; nullopt otherwise.
  std::optional<bool> boolean(const std::string& name) const;
  // The member's strings when it is an array of strings only; nullopt otherwise.
  std::optional<std::vector<std::string>> strings(const std::string& name) const;

 private:
  std::optional<Kind> kind(const std::string& name) const;
  struct Member {
    Kind kind;
    std::string text;                    // for Kind::string
    std::optional<std::int64_t> number;  // for a whole number (Kind::other)
    std::optional<bool> flag;            // for true or false (Kind::other)
    std::optional<std::vector<std::string>> items;  // for an array of strings (Kind::other)
  };
  std::map<std::string, Member> members_;
};

}  // namespace safer
