#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string_view>
#include <system_error>
#include <vector>

#include "json_internal.h"
#include "safer/json_object.h"

namespace safer::json {

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// The deepest nesting json::parse accepts: a push is 5 levels deep (message, changes, change,
// data, a list inside data).
constexpr int kMaxDepth = 32;

// For a JSON number that a double cannot hold: true when it is too large (1e400), false when
// it is too small (1e-400). Compares the decimal exponent of its first non-zero digit with 0.
bool is_too_large(std::string_view number) {
  std::size_t i = number.front() == '-' ? 1 : 0;
  long long integer_digits = 0, leading_fraction_zeros = 0;
  bool significant = false;
  for (; i < number.size() && is_digit(number[i]); ++i) {
    significant = significant || number[i] != '0';
    if (significant) ++integer_digits;
  }
  if (i < number.size() && number[i] == '.') {
    for (++i; i < number.size() && is_digit(number[i]); ++i) {
      if (!significant && number[i] == '0') ++leading_fraction_zeros;
      significant = significant || number[i] != '0';
    }
  }
  long long exponent = 0;
  if (i < number.size() && (number[i] == 'e' || number[i] == 'E')) {
    const bool negative = ++i < number.size() && number[i] == '-';
    if (i < number.size() && (number[i] == '-' || number[i] == '+')) ++i;
    for (; i < number.size() && is_digit(number[i]); ++i) exponent = std::min(exponent * 10 + (number[i] - '0'), 1'000'000'000LL);
    if (negative) exponent = -exponent;
  }
  const long long first_digit = integer_digits > 0 ? integer_digits - 1 : -(leading_fraction_zeros + 1);
  return first_digit + exponent > 0;
}

// RapidJSON's SAX events, handed to a Document as Document::Parse() hands them, except that
// numbers arrive as text (kParseNumbersAsStringsFlag) and are converted here with
// std::from_chars: exact (correctly rounded), with no undefined behaviour. RapidJSON 1.1.0's
// own conversion is undefined on valid JSON — __builtin_clzll(0) for a zero with a large
// exponent ("0e38" read as -1.9e227 with GCC, 1.9e112 with clang), reads past its table of
// powers of ten, signed overflow of the exponent (1.0000000000e-2147483639) — and its failed
// internal assertions throw (cereal's RAPIDJSON_ASSERT), which no caller expected: one
// WebSocket frame ended the sync-server. Found by fuzz/client_message_fuzzer; see
// tests/shared/fuzz_regressions_test.cpp.
class ExactNumbers {
 public:
  explicit ExactNumbers(Document& document) : document_(document) {}

  bool Null() { return document_.Null(); }
  bool Bool(bool value) { return document_.Bool(value); }
  bool Int(int value) { return document_.Int(value); }
  bool Uint(unsigned value) { return document_.Uint(value); }
  bool Int64(std::int64_t value) { return document_.Int64(value); }
  bool Uint64(std::uint64_t value) { return document_.Uint64(value); }
  bool Double(double value) { return document_.Double(value); }
  bool String(const char* text, rapidjson::SizeType length, bool copy) { return document_.String(text, length, copy); }
  bool StartObject() { return deeper() && document_.StartObject(); }
  bool Key(const char* text, rapidjson::SizeType length, bool copy) { return document_.Key(text, length, copy); }
  bool EndObject(rapidjson::SizeType members) { return --depth_, document_.EndObject(members); }
  bool StartArray() { return deeper() && document_.StartArray(); }
  bool EndArray(rapidjson::SizeType elements) { return --depth_, document_.EndArray(elements); }

  // `text` is a number by JSON's grammar (the reader checked it). Integers that fit are
  // integers, as RapidJSON makes them; the rest are doubles. A number too large for a double
  // (10e308) is ±infinity and one too small is ±0, as JavaScript reads them: a record's field
  // then fails its range check by name (smoke_detectors_fitted), not the whole message. (The
  // reader itself still refuses an exponent past 308 written as such, 1e309: not JSON to it.)
  bool RawNumber(const char* text, rapidjson::SizeType length, bool /*copy*/) {
    const std::string_view number(text, length);
    const char* end = text + length;
    if (number.find_first_of(".eE") == std::string_view::npos) {
      std::int64_t integer = 0;
      if (const auto [ptr, ec] = std::from_chars(text, end, integer); ec == std::errc() && ptr == end) {
        return document_.Int64(integer);
      }
      std::uint64_t natural = 0;
      if (const auto [ptr, ec] = std::from_chars(text, end, natural); ec == std::errc() && ptr == end) {
        return document_.Uint64(natural);
      }
    }
    double value = 0;
    const auto [ptr, ec] = std::from_chars(text, end, value);
    if (ec == std::errc::result_out_of_range && ptr == end) {
      const bool negative = number.front() == '-';
      if (is_too_large(number)) {
        value = negative ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity();
      } else {
        value = negative ? -0.0 : 0.0;
      }
    } else if (ec != std::errc() || ptr != end) {
      return false;
    }
    return document_.Double(value);
  }

 private:
  // No message or record nests past a handful of levels; deeper text is refused before a
  // document that deep exists (code that walks it could recurse).
  bool deeper() { return ++depth_ <= kMaxDepth; }

  Document& document_;
  int depth_ = 0;
};

}  // namespace

namespace {

// Reads without keeping anything: only whether the text is one object.
struct ObjectShape : rapidjson::BaseReaderHandler<rapidjson::UTF8<>, ObjectShape> {
  bool Default() { return depth > 0; }  // a value outside the object: not one object
  bool StartObject() {
    if (depth == 0) {
      if (seen) return false;
      seen = true;
    }
    return ++depth <= kMaxDepth;
  }
  bool EndObject(rapidjson::SizeType) { return --depth >= 0; }
  bool StartArray() { return depth > 0 && ++depth <= kMaxDepth; }
  bool EndArray(rapidjson::SizeType) { return --depth >= 0; }
  int depth = 0;
  bool seen = false;
};

// `text` through RapidJSON's reader into `handler`, as every read here is done; false when it
// is not one JSON value, or the handler refused it.
template <class Handler>
bool read_text(std::string_view text, Handler& handler) {
  // RapidJSON stops at a NUL byte, which JSON allows nowhere unescaped: "{}\0junk" is not JSON.
  if (text.find('\0') != std::string_view::npos) return false;
  // Iterative: RapidJSON's default reader recurses once per level of nesting, and one frame
  // of a million '[' overflowed the stack (tests/shared/fuzz_regressions_test.cpp).
  constexpr unsigned kFlags = rapidjson::kParseValidateEncodingFlag | rapidjson::kParseNumbersAsStringsFlag |
                              rapidjson::kParseIterativeFlag;
  rapidjson::MemoryStream bytes(text.data(), text.size());
  rapidjson::EncodedInputStream<rapidjson::UTF8<>, rapidjson::MemoryStream> input(bytes);
  rapidjson::Reader reader;
  return !reader.Parse<kFlags>(input, handler).IsError();
}

}  // namespace

bool parse(std::string_view text, Document& document) {
  bool parsed = false;
  auto generate = [text, &parsed](Document& target) {
    ExactNumbers handler(target);
    parsed = read_text(text, handler);
    return parsed;
  };
  try {
    document.Populate(generate);
  } catch (const cereal::RapidJSONException&) {  // an internal assertion of RapidJSON's
    return false;
  }
  return parsed;
}

std::optional<std::string> duplicate_key(const Value& object) {
  // Sorted, so that an object of 100,000 keys costs 100,000 log 100,000 comparisons, not
  // 5e9 (every pair, as it once did: minutes of a network thread for one 1 MiB frame). The
  // answer is as before: the name whose second appearance comes first in the text.
  std::vector<std::pair<std::string_view, std::size_t>> names;  // name, position
  names.reserve(object.MemberCount());
  for (auto member = object.MemberBegin(); member != object.MemberEnd(); ++member) {
    names.emplace_back(std::string_view(member->name.GetString(), member->name.GetStringLength()), names.size());
  }
  std::sort(names.begin(), names.end());
  std::optional<std::pair<std::size_t, std::string_view>> first;  // position of the second appearance, name
  for (std::size_t i = 0; i < names.size();) {  // one run of equal names at a time
    std::size_t end = i + 1;
    while (end < names.size() && names[end].first == names[i].first) ++end;
    // names[i + 1] is the name's second appearance: positions sort ascending within a name.
    if (end - i >= 2 && (!first || names[i + 1].second < first->first)) first.emplace(names[i + 1].second, names[i].first);
    i = end;
  }
  if (!first) return std::nullopt;
  return std::string(first->second);
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

std::optional<std::int64_t> as_integer(const Value& value) {
  if (value.IsInt64()) return value.GetInt64();
  // Past the range of int64: kept out of range for the checks.
  if (value.IsUint64()) return std::numeric_limits<std::int64_t>::max();
  if (value.IsDouble()) {  // 3.0 is an integer, as in JSON Schema
    const double number = value.GetDouble();
    if (std::floor(number) == number) {
      // Past the range of int64 (1e300): keep it out of range for the checks.
      return std::fabs(number) < 9.0e18 ? static_cast<std::int64_t>(number)
             : number > 0              ? std::numeric_limits<std::int64_t>::max()
                                       : std::numeric_limits<std::int64_t>::min();
    }
  }
  return std::nullopt;
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
  if (const auto integer = as_integer(*value)) {
    out = *integer;
    return true;
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

namespace safer {

bool is_json_object_text(std::string_view text) {
  json::ObjectShape shape;
  try {
    return json::read_text(text, shape) && shape.seen && shape.depth == 0;
  } catch (const cereal::RapidJSONException&) {  // an internal assertion of RapidJSON's
    return false;
  }
}

}  // namespace safer
