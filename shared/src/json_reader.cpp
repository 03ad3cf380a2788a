#include <cmath>
#include <limits>

#include "json_internal.h"

namespace safer::json {

bool parse(std::string_view text, Document& document) {
  // RapidJSON stops at a NUL byte, which JSON allows nowhere unescaped: "{}\0junk" is not JSON.
  if (text.find('\0') != std::string_view::npos) return false;
  constexpr unsigned kFlags = rapidjson::kParseValidateEncodingFlag | rapidjson::kParseFullPrecisionFlag;
  document.Parse<kFlags>(text.data(), text.size());
  return !document.HasParseError();
}

std::optional<std::string> duplicate_key(const Value& object) {
  for (auto i = object.MemberBegin(); i != object.MemberEnd(); ++i) {
    for (auto j = object.MemberBegin(); j != i; ++j) {
      if (i->name == j->name) return std::string(i->name.GetString(), i->name.GetStringLength());
    }
  }
  return std::nullopt;
}

const char* describe_type(const Value& value) {
  switch (value.GetType()) {
    case rapidjson::kNullType: return "null";
    case rapidjson::kFalseType:
    case rapidjson::kTrueType: return "a boolean";
    case rapidjson::kObjectType: return "an object";
    case rapidjson::kArrayType: return "an array";
    case rapidjson::kStringType: return "a string";
    case rapidjson::kNumberType: return "a number";
  }
  return "a value";
}

const Value* ObjectReader::find(const char* name) const {
  const auto member = object_.FindMember(name);
  return member == object_.MemberEnd() ? nullptr : &member->value;
}

bool ObjectReader::add_error(const char* name, std::string message) {
  errors_.push_back({name, std::move(message)});
  return false;
}

bool ObjectReader::read_string(const char* name, std::string& out, bool required) {
  const Value* value = find(name);
  if (value == nullptr) {
    return required ? add_error(name, std::string(name) + " is required") : false;
  }
  if (!value->IsString()) {
    return add_error(name, std::string(name) + " must be a string, not " + describe_type(*value));
  }
  out.assign(value->GetString(), value->GetStringLength());
  return true;
}

bool ObjectReader::read_bool(const char* name, bool& out) {
  const Value* value = find(name);
  if (value == nullptr) return false;
  if (!value->IsBool()) {
    return add_error(name, std::string(name) + " must be true or false, not " + describe_type(*value));
  }
  out = value->GetBool();
  return true;
}

bool ObjectReader::read_integer(const char* name, std::int64_t& out, bool required) {
  const Value* value = find(name);
  if (value == nullptr) {
    return required ? add_error(name, std::string(name) + " is required") : false;
  }
  if (value->IsInt64()) {
    out = value->GetInt64();
    return true;
  }
  if (value->IsUint64()) {  // past the range of int64: keep it out of range for the checks
    out = std::numeric_limits<std::int64_t>::max();
    return true;
  }
  if (value->IsDouble()) {  // 3.0 is an integer, as in JSON Schema
    const double number = value->GetDouble();
    if (std::floor(number) == number) {
      // Past the range of int64 (1e300): keep it out of range for the checks.
      out = std::fabs(number) < 9.0e18 ? static_cast<std::int64_t>(number)
            : number > 0              ? std::numeric_limits<std::int64_t>::max()
                                      : std::numeric_limits<std::int64_t>::min();
      return true;
    }
  }
  return add_error(name, std::string(name) + " must be an integer, not " +
                             (value->IsNumber() ? "a fraction" : describe_type(*value)));
}

bool ObjectReader::read_time(const char* name, UnixMillis& out, bool required) {
  std::string text;
  if (!read_string(name, text, required)) return false;
  if (const auto instant = parse_rfc3339(text)) {
    out = *instant;
    return true;
  }
  return add_error(name, std::string(name) + " must be an RFC 3339 time such as 2026-11-26T09:30:00Z");
}

bool ObjectReader::read_nullable_string(const char* name, std::optional<std::string>& out) {
  const Value* value = find(name);
  if (value == nullptr) return false;
  if (value->IsNull()) {
    out.reset();
    return true;
  }
  std::string text;
  if (!read_string(name, text, false)) return false;
  out = std::move(text);
  return true;
}

bool ObjectReader::read_nullable_time(const char* name, std::optional<UnixMillis>& out) {
  const Value* value = find(name);
  if (value == nullptr) return false;
  if (value->IsNull()) {
    out.reset();
    return true;
  }
  UnixMillis instant = 0;
  if (!read_time(name, instant, false)) return false;
  out = instant;
  return true;
}

bool ObjectReader::read_string_list(const char* name, std::vector<std::string>& out, bool required) {
  const Value* value = find(name);
  if (value == nullptr) {
    return required ? add_error(name, std::string(name) + " is required") : false;
  }
  const std::string expected = std::string(name) + " must be an array of strings";
  if (!value->IsArray()) return add_error(name, expected);
  std::vector<std::string> list;
  for (const auto& item : value->GetArray()) {
    if (!item.IsString()) return add_error(name, expected);
    list.emplace_back(item.GetString(), item.GetStringLength());
  }
  out = std::move(list);
  return true;
}

}  // namespace safer::json
