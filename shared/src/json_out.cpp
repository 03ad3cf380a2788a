#include "safer/json_out.h"

#include "json_internal.h"  // cereal's JSON archive first: RapidJSON with the throwing assert

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "safer/text.h"

namespace safer {

struct JsonOut::Writer {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer{buffer};
};

namespace {

// RapidJSON writes the bytes it is given; text from outside is made UTF-8 first.
template <class Write>
void write_text(std::string_view text, Write&& write) {
  if (is_valid_utf8(text)) {
    write(text);
  } else {
    write(std::string_view(to_valid_utf8(text)));
  }
}

rapidjson::SizeType size_of(std::string_view text) { return static_cast<rapidjson::SizeType>(text.size()); }

}  // namespace

JsonOut::JsonOut() : writer_(std::make_unique<Writer>()) {}
JsonOut::~JsonOut() = default;
JsonOut::JsonOut(JsonOut&&) noexcept = default;
JsonOut& JsonOut::operator=(JsonOut&&) noexcept = default;

JsonOut& JsonOut::begin_object() {
  writer_->writer.StartObject();
  return *this;
}

JsonOut& JsonOut::end_object() {
  writer_->writer.EndObject();
  return *this;
}

JsonOut& JsonOut::begin_array() {
  writer_->writer.StartArray();
  return *this;
}

JsonOut& JsonOut::end_array() {
  writer_->writer.EndArray();
  return *this;
}

JsonOut& JsonOut::key(std::string_view name) {
  write_text(name, [&](std::string_view text) { writer_->writer.Key(text.data(), size_of(text)); });
  return *this;
}

JsonOut& JsonOut::value(std::string_view text) {
  write_text(text, [&](std::string_view valid) { writer_->writer.String(valid.data(), size_of(valid)); });
  return *this;
}

JsonOut& JsonOut::signed_number(std::int64_t number) {
  writer_->writer.Int64(number);
  return *this;
}

JsonOut& JsonOut::unsigned_number(std::uint64_t number) {
  writer_->writer.Uint64(number);
  return *this;
}

JsonOut& JsonOut::value(double number) {
  writer_->writer.Double(number);
  return *this;
}

JsonOut& JsonOut::value(bool flag) {
  writer_->writer.Bool(flag);
  return *this;
}

JsonOut& JsonOut::null() {
  writer_->writer.Null();
  return *this;
}

JsonOut& JsonOut::raw(std::string_view json) {
  writer_->writer.RawValue(json.data(), json.size(), rapidjson::kObjectType);
  return *this;
}

std::string JsonOut::str() const { return std::string(writer_->buffer.GetString(), writer_->buffer.GetSize()); }

}  // namespace safer
