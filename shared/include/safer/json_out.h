// The project's one JSON writer: compact JSON built call by call, never by concatenating
// strings. Protocol messages, records and statistics are written with it (protocol.md §12.3),
// and so are the field client's local API, C API and --json output; the sync server's
// dashboard API has the same API in sync-server/src/json_out.h until it moves here.
//
// Output is compact (no spaces, no newlines) and always valid JSON for a well-formed sequence
// of calls: strings are escaped as RFC 8259 §7 requires (quote, backslash and every control
// character), and text that is not UTF-8 is written with U+FFFD in place of each ill-formed
// byte (§8.1). Other characters, non-ASCII included, are written as they are.
//
// REQUIRES: calls in a JSON shape (a key only directly inside an object, one value after each
// key, begin/end paired); out of shape the text is not JSON. An end that does not match its
// begin throws (RapidJSON's assertion, which cereal makes throw). One writer, one thread.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

namespace safer {

class JsonOut {
 public:
  JsonOut();
  ~JsonOut();
  JsonOut(JsonOut&&) noexcept;
  JsonOut& operator=(JsonOut&&) noexcept;

  JsonOut& begin_object();
  JsonOut& end_object();
  JsonOut& begin_array();
  JsonOut& end_array();
  JsonOut& key(std::string_view name);

  JsonOut& value(std::string_view text);
  JsonOut& value(const char* text) { return value(std::string_view(text)); }
  JsonOut& value(const std::string& text) { return value(std::string_view(text)); }
  template <class Integer>
    requires(std::is_integral_v<Integer> && !std::is_same_v<Integer, bool>)
  JsonOut& value(Integer number) {
    if constexpr (std::is_signed_v<Integer>) {
      return signed_number(static_cast<std::int64_t>(number));
    } else {
      return unsigned_number(static_cast<std::uint64_t>(number));
    }
  }
  JsonOut& value(double number);
  JsonOut& value(bool flag);
  JsonOut& null();
  // The value, or null for nullopt.
  template <class T>
  JsonOut& value(const std::optional<T>& maybe) {
    return maybe ? value(*maybe) : null();
  }

  // Inserts JSON text made elsewhere (a record's JSON) as one value.
  // REQUIRES: `json` is exactly one valid JSON value; it is copied as it is.
  JsonOut& raw(std::string_view json);

  // key(name).value(v) in one call.
  template <class T>
  JsonOut& field(std::string_view name, const T& v) {
    key(name);
    return value(v);
  }

  // The text written so far.
  std::string str() const;

 private:
  JsonOut& signed_number(std::int64_t number);
  JsonOut& unsigned_number(std::uint64_t number);

  struct Writer;  // RapidJSON's, kept out of this header
  std::unique_ptr<Writer> writer_;
};

}  // namespace safer
