// Internal to the shared library: the JSON reading and writing that records and protocol
// messages have in common. Not installed; RapidJSON and cereal stay out of public headers.
//
// Every file that touches RapidJSON includes it through this header, after cereal's JSON
// archive, so that RAPIDJSON_ASSERT is cereal's throwing version in every translation unit.
#pragma once

// RapidJSON must come after cereal's JSON archive, which makes its asserts throw
// (RAPIDJSON_ASSERT) instead of aborting on malformed input. A file that included RapidJSON
// first would silently get the aborting version; this stops its build instead.
#if defined(RAPIDJSON_RAPIDJSON_H_) && !defined(CEREAL_ARCHIVES_JSON_HPP_)
#error "RapidJSON was included before <cereal/archives/json.hpp>: include cereal's archive (or this header) first"
#endif

#include <cereal/archives/json.hpp>

#include <string>
#include <string_view>

#include "safer/enum_names.h"
#include "safer/field_error.h"
#include "safer/json_out.h"
#include "safer/question.h"
#include "safer/record.h"
#include "safer/time.h"

namespace safer::json {

using Value = rapidjson::Value;
using Document = rapidjson::Document;

// Parses UTF-8 JSON text into `document`. Returns false for text that is not JSON or not
// valid UTF-8 (NaN and Infinity are not JSON either).
bool parse(std::string_view text, Document& document);

// The first member name that appears twice in `object`, or nullopt. JSON parsers disagree on
// which of two equal keys wins (RapidJSON: the first, JavaScript: the last), so a message
// with repeated keys is refused rather than read one way here and another way elsewhere.
std::optional<std::string> duplicate_key(const Value& object);

// The JSON type of `value` in words ("a string", "null"), for messages.
const char* describe_type(const Value& value);

// `value` as an integer field reads it (3.0 is 3; past int64's range, int64's limit, so that
// a range check fails), or nullopt when it is not a number or has a fraction.
std::optional<std::int64_t> as_integer(const Value& value);

// Reads the fields of one JSON object, appending a FieldError for each field that is of the
// wrong type, not an allowed value, or required and absent. Each read returns true when the
// field was present and stored into `out`, and leaves `out` untouched otherwise.
class ObjectReader {
 public:
  ObjectReader(const Value& object, FieldErrors& errors) : object_(object), errors_(errors) {}

  const Value* find(const char* name) const;

  bool read_string(const char* name, std::string& out, bool required);
  bool read_bool(const char* name, bool& out);
  bool read_integer(const char* name, std::int64_t& out, bool required);
  bool read_time(const char* name, UnixMillis& out, bool required);
  // A nullable field: true when present, with `out` set to nullopt for null.
  bool read_nullable_string(const char* name, std::optional<std::string>& out);
  bool read_nullable_time(const char* name, std::optional<UnixMillis>& out);
  bool read_string_list(const char* name, std::vector<std::string>& out, bool required);

  template <class E>
  bool read_enum(const char* name, E& out, bool required) {
    std::string text;
    if (!read_string(name, text, required)) return false;
    if (const auto value = enum_from_string<E>(text)) {
      out = *value;
      return true;
    }
    add_error(name, std::string(name) + " must be one of " + allowed_values<E>());
    return false;
  }

  template <class E>
  bool read_enum_set(const char* name, EnumSet<E>& out) {
    const Value* value = find(name);
    if (value == nullptr) return false;
    const std::string expected =
        std::string(name) + " must be an array of distinct values from " + allowed_values<E>();
    if (!value->IsArray()) return add_error(name, expected + ", not " + describe_type(*value));
    EnumSet<E> set;
    for (const auto& item : value->GetArray()) {
      const auto parsed = item.IsString() ? enum_from_string<E>(std::string_view(
                                                item.GetString(), item.GetStringLength()))
                                          : std::nullopt;
      if (!parsed || set.contains(*parsed)) return add_error(name, expected);
      set.insert(*parsed);
    }
    out = set;
    return true;
  }

  // Records an error for field `name`; returns false so that readers can `return add_error(…)`.
  bool add_error(const char* name, std::string message);

 private:
  const Value& object_;
  FieldErrors& errors_;
};

// The questions of question.h as an array of objects.
void write_questions(JsonOut& out, const std::vector<Question>& questions);
// Decodes an array of questions into `out`; appends errors naming "questions[i].field" and
// returns false (leaving `out` alone) when any entry is wrong. With `skip_unknown_kinds`, an
// entry of a kind this program does not know is left out rather than refused.
bool decode_questions(const Value& array, bool skip_unknown_kinds, std::vector<Question>& out, FieldErrors& errors);

// Record decoding from an already-parsed object; see record_json.h for the rules.
FieldErrors decode_record(const Value& object, Household& out);
FieldErrors decode_record(const Value& object, Visit& out);
FieldErrors decode_record(const Value& object, CommuteSession& out);
FieldErrors decode_record(const Value& object, Entity entity, RecordData& out);

// Writes the record's fields as name-value pairs into the writer's current object.
void write_fields(JsonOut& out, const Household& household);
void write_fields(JsonOut& out, const Visit& visit);
void write_fields(JsonOut& out, const CommuteSession& session);
void write_fields(JsonOut& out, const RecordData& data);

// `name` and an array of the strings.
inline void write_strings(JsonOut& out, std::string_view name, const std::vector<std::string>& strings) {
  out.key(name).begin_array();
  for (const auto& text : strings) out.value(text);
  out.end_array();
}

// Runs `body(out)` inside a root object; returns the text.
template <class Body>
std::string write_object(Body&& body) {
  JsonOut out;
  out.begin_object();
  body(out);
  out.end_object();
  return out.str();
}

}  // namespace safer::json
