// The C++ decoding and validation refuse every invalid example in schemas/examples, naming
// the same field, and accept every valid one: the schemas and the code say the same thing.
#include <catch2/catch.hpp>

#include <cereal/archives/json.hpp>  // RapidJSON, configured as cereal configures it
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <fstream>
#include <sstream>

#include "safer/protocol_json.h"
#include "safer/record_json.h"
#include "safer/validation.h"

namespace {

using namespace safer;

rapidjson::Document load(const std::string& name) {
  std::ifstream file(std::string(SCHEMAS_DIR) + "/examples/" + name + ".examples.json");
  REQUIRE(file.good());
  std::stringstream text;
  text << file.rdbuf();
  rapidjson::Document document;
  document.Parse(text.str().c_str());
  REQUIRE_FALSE(document.HasParseError());
  return document;
}

std::string text_of(const rapidjson::Value& value) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  value.Accept(writer);
  return buffer.GetString();
}

// Decodes and checks a record; returns its problems.
FieldErrors record_problems(const std::string& json, Entity entity) {
  RecordData data;
  auto errors = from_json(json, entity, data);
  if (errors.empty()) errors = check_record(data, ReferenceLists::defaults());
  return errors;
}

bool names(const FieldErrors& errors, const std::string& field) {
  for (const auto& error : errors) {
    if (error.field == field) return true;
  }
  return false;
}

// What the C++ code makes of a client message: "" when accepted whole, "bad_message" when
// the envelope is refused, else the field at fault in the first refused change.
std::string message_verdict(const std::string& json) {
  const auto decoded = decode_client_message(json);
  if (!decoded) return std::string(decoded.error().code);
  if (const auto* push = std::get_if<ReceivedPush>(&*decoded)) {
    for (const auto& received : push->changes) {
      if (!received.change) return received.error.field;
      if (received.change->data) {
        auto data = *received.change->data;
        if (auto problems = check_record(data, ReferenceLists::defaults()); !problems.empty()) {
          return problems.front().field;
        }
      }
    }
  }
  return "";
}

void check_records(const char* name, Entity entity) {
  const auto examples = load(name);
  for (const auto& example : examples["valid"].GetArray()) {
    const std::string json = text_of(example);
    INFO("valid " << name << ": " << json.substr(0, 200));
    CHECK(record_problems(json, entity).empty());
  }
  for (const auto& entry : examples["invalid"].GetArray()) {
    const std::string json = text_of(entry["example"]);
    const std::string field = entry["field"].GetString();
    INFO("invalid " << name << " (" << entry["why"].GetString() << "): " << json.substr(0, 200));
    const auto problems = record_problems(json, entity);
    REQUIRE_FALSE(problems.empty());
    CHECK(names(problems, field));
    for (const auto& problem : problems) CHECK(problem.message.find(problem.field) != std::string::npos);
  }
}

void check_messages(const char* name) {
  const auto examples = load(name);
  for (const auto& example : examples["valid"].GetArray()) {
    const std::string json = text_of(example);
    INFO("valid " << name << ": " << json.substr(0, 200));
    CHECK(message_verdict(json).empty());
  }
  for (const auto& entry : examples["invalid"].GetArray()) {
    const std::string json = text_of(entry["example"]);
    const std::string field = entry["field"].GetString();
    INFO("invalid " << name << " (" << entry["why"].GetString() << "): " << json.substr(0, 200));
    CHECK(message_verdict(json) == (field.empty() ? "bad_message" : field));
  }
}

}  // namespace

TEST_CASE("record examples: valid ones pass, invalid ones are refused naming the field", "[schema]") {
  check_records("household", Entity::household);
  check_records("visit", Entity::visit);
  check_records("commute_session", Entity::commute_session);
}

TEST_CASE("message examples: valid ones decode, invalid ones are refused as protocol.md says", "[schema]") {
  check_messages("push");
  check_messages("pull");
  check_messages("hello");
}
