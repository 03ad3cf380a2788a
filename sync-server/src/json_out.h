// Internal: JSON output for the dashboard API, on RapidJSON's Writer (configured as cereal
// configures it, as everywhere in the project). Compact, correctly escaped.
#pragma once

// RapidJSON must come after cereal's JSON archive, which makes its asserts throw
// (RAPIDJSON_ASSERT) instead of aborting on malformed input. A file that included RapidJSON
// first would silently get the aborting version; this stops its build instead.
#if defined(RAPIDJSON_RAPIDJSON_H_) && !defined(CEREAL_ARCHIVES_JSON_HPP_)
#error "RapidJSON was included before <cereal/archives/json.hpp>: include cereal's archive (or this header) first"
#endif

#include <cereal/archives/json.hpp>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

#include "safer/text.h"

namespace sync_server {

class JsonOut {
 public:
  JsonOut& begin_object() { writer_.StartObject(); return *this; }
  JsonOut& end_object() { writer_.EndObject(); return *this; }
  JsonOut& begin_array() { writer_.StartArray(); return *this; }
  JsonOut& end_array() { writer_.EndArray(); return *this; }
  JsonOut& key(std::string_view name) {
    writer_.Key(name.data(), static_cast<rapidjson::SizeType>(name.size()));
    return *this;
  }
  // Text that is not UTF-8 (an id copied from a request's path, say) is written with U+FFFD
  // in place of each ill-formed byte: the output is always JSON (RFC 8259 §8.1).
  JsonOut& value(std::string_view text) {
    if (!safer::is_valid_utf8(text)) return value(safer::to_valid_utf8(text));
    writer_.String(text.data(), static_cast<rapidjson::SizeType>(text.size()));
    return *this;
  }
  JsonOut& value(const char* text) { return value(std::string_view(text)); }
  JsonOut& value(const std::string& text) { return value(std::string_view(text)); }
  template <class Integer>
    requires(std::is_integral_v<Integer> && !std::is_same_v<Integer, bool>)
  JsonOut& value(Integer number) {
    writer_.Int64(static_cast<std::int64_t>(number));
    return *this;
  }
  JsonOut& value(double number) { writer_.Double(number); return *this; }
  JsonOut& value(bool flag) { writer_.Bool(flag); return *this; }
  JsonOut& null() { writer_.Null(); return *this; }
  template <class T>
  JsonOut& value(const std::optional<T>& maybe) {
    return maybe ? value(*maybe) : null();
  }
  // Inserts JSON text made elsewhere (it must be one valid JSON value).
  JsonOut& raw(std::string_view json) {
    writer_.RawValue(json.data(), json.size(), rapidjson::kObjectType);
    return *this;
  }
  // key(name).value(v) in one call.
  template <class T>
  JsonOut& field(std::string_view name, const T& v) {
    key(name);
    return value(v);
  }

  std::string str() const { return std::string(buffer_.GetString(), buffer_.GetSize()); }

 private:
  rapidjson::StringBuffer buffer_;
  rapidjson::Writer<rapidjson::StringBuffer> writer_{buffer_};
};

}  // namespace sync_server
